//===- Autograd.h - Gradients of recorded computations ----------*- C++ -*-===//
//
// Reverse-mode gradients with libtorch's API (camelBack): mark leaves with
// `x.requiresGrad_()`, compute, then `loss.backward()` and read `x.grad()`,
// or ask `trueno::grad(outputs, inputs)`. A gradient is not a tape of
// closures: backward() records `trueno.gradient` nodes in the same lazy
// graph as the forward ops, and the compiler's reverse-mode pass
// (autograd/) turns them into backward ops that fuse with the forward ops
// and with whatever reads the gradients (an optimizer's update) into one
// program, cached like any other. docs/ARCHITECTURE.md, "Gradients".
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_AUTOGRAD_H
#define TRUENO_AUTOGRAD_H

#include "trueno/Tensor.h"

#include <optional>
#include <vector>

namespace trueno {

/// Whether ops record what gradients need (on by default, per thread).
bool isGradEnabled();

/// Turns gradient recording off in this thread for its lifetime (as
/// torch.no_grad()): results do not require grad, and leaves may be
/// written in place (an optimizer's update).
class NoGradGuard {
public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard &) = delete;
  NoGradGuard &operator=(const NoGradGuard &) = delete;

private:
  bool previous_;
};

/// Turns gradient recording on in this thread for its lifetime (inside a
/// NoGradGuard, as torch.enable_grad()).
class EnableGradGuard {
public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard &) = delete;
  EnableGradGuard &operator=(const EnableGradGuard &) = delete;

private:
  bool previous_;
};

/// The gradients of `outputs` (weighted by `gradOutputs`, which may be
/// omitted for single-element outputs) with respect to each of `inputs`, as
/// torch.autograd.grad. Nothing is accumulated into `.grad()`. With
/// `createGraph` the gradients themselves require grad (second
/// derivatives). An input the outputs do not depend on is an error unless
/// `allowUnused`, which gives an undefined tensor for it. Without
/// `retainGraph` (default: `createGraph`), a later gradient through the
/// same graph is an error, as in PyTorch.
std::vector<Tensor> grad(const std::vector<Tensor> &outputs,
                         const std::vector<Tensor> &inputs,
                         const std::vector<Tensor> &gradOutputs = {},
                         std::optional<bool> retainGraph = std::nullopt,
                         bool createGraph = false, bool allowUnused = false,
                         TRUENO_HERE);

/// Gradient checkpointing, as torch.utils.checkpoint: `fn(inputs)` is
/// recorded as usual and its value is the same, but the gradients that
/// need the values computed inside it recompute them from `inputs` in the
/// backward pass instead of keeping them from the forward pass, trading
/// compute for memory (the forward values die as soon as the forward pass
/// no longer needs them). Random ops in `fn` draw at the call, so the
/// recomputation sees the same numbers.
Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor> &)> &fn,
                  const std::vector<Tensor> &inputs, TRUENO_HERE);
Tensor checkpoint(const std::function<Tensor(const Tensor &)> &fn,
                  const Tensor &input, TRUENO_HERE);

} // namespace trueno

#endif // TRUENO_AUTOGRAD_H
