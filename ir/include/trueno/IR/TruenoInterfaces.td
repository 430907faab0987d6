//===- TruenoInterfaces.td - Interfaces of trueno ops ------*- tablegen -*-===//
//
// The gradient interface: the contract between each differentiable op and
// the reverse-mode pass of autograd/ (which, when it lands, attaches it to
// every differentiable op with that op's rule, and builds the pass on it).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_INTERFACES_TD
#define TRUENO_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Trueno_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::trueno";
  let description = [{
    An op whose reverse-mode derivative can be written in the trueno dialect.
    Given the gradient of the loss with respect to the op's result (a tensor
    of the result's type), `buildGradients` emits, at the builder's insertion
    point, the gradient with respect to each operand, in operand order, each
    of that operand's type. Operands without a gradient (bool or integer
    operands, the condition of `trueno.where`) get a null Value. The
    autodiff pass accumulates gradients of values used several times and
    sums the gradient of a `trueno.expand` back to the operand's shape.

    Example, for `%y = trueno.exp %x`: the rule emits
    `%gx = trueno.mul %gy, %y` and returns `[%gx]`.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the operands' gradients given `resultGradient`, or fails with
        a diagnostic when the op's types have no derivative.
      }],
      "::llvm::FailureOr<::llvm::SmallVector<::mlir::Value>>",
      "buildGradients",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultGradient)>
  ];
}

#endif // TRUENO_INTERFACES_TD
