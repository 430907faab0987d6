//===- TruenoDialect.td - The trueno dialect ---------------*- tablegen -*-===//
//
// The dialect that eager Trueno programs are recorded into: value-semantics
// ops on builtin ranked tensors, one op per elementwise function, explicit
// broadcasts (`trueno.expand`) and casts. Passes fuse these ops into kernels;
// codegen lowers the kernels through linalg.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_DIALECT_TD
#define TRUENO_DIALECT_TD

include "mlir/IR/OpBase.td"

def Trueno_Dialect : Dialect {
  let name = "trueno";
  let cppNamespace = "::mlir::trueno";
  let summary = "Tensor operations recorded from Trueno's eager frontend.";
  let description = [{
    Every op works on builtin ranked tensors with static shapes and one of
    Trueno's element types: `i1` (bool), `i8`, `i16`, `i32`, `i64` (signed
    integers, signless in MLIR), `ui8` (uint8), `f16`, `bf16`, `f32`, `f64`.
    Elementwise ops take operands of one shape: broadcasting is explicit,
    through `trueno.expand`, so that every shape question is settled when the
    op is recorded and fusion only sees equal shapes. Dtype promotion is
    explicit too, through `trueno.cast`.
  }];
  let hasConstantMaterializer = 1;
}

/// Element types Trueno stores.
def Trueno_Bool : I<1>;
def Trueno_UInt8 : UI<8>;
def Trueno_Int : AnyTypeOf<[I8, I16, I32, I64, Trueno_UInt8]>;
def Trueno_Float : AnyTypeOf<[F16, BF16, F32, F64]>;
def Trueno_Element : AnyTypeOf<[Trueno_Bool, Trueno_Int, Trueno_Float]>;

def Trueno_FloatTensor : RankedTensorOf<[Trueno_Float]>;
def Trueno_NumericTensor : RankedTensorOf<[Trueno_Int, Trueno_Float]>;
def Trueno_IntegerTensor : RankedTensorOf<[Trueno_Bool, Trueno_Int]>;
def Trueno_BoolTensor : RankedTensorOf<[Trueno_Bool]>;
def Trueno_AnyTensor : RankedTensorOf<[Trueno_Element]>;

#endif // TRUENO_DIALECT_TD
