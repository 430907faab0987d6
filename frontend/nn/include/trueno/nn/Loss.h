//===- Loss.h - Losses as modules, over the functional losses -------------===//
//
// `nn::CrossEntropyLoss loss({.labelSmoothing = 0.1}); loss(logits, target)`
// is `crossEntropy(logits, target, options)`: the modules hold the options
// (every one of the functional form's) and nothing else.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_NN_LOSS_H
#define TRUENO_NN_LOSS_H

#include "trueno/Ops.h"
#include "trueno/nn/Module.h"

namespace trueno::nn {

/// A loss of (input, target). forward() of one tensor is an error.
class Loss : public Module {
public:
  using Module::Module;
  virtual Tensor forward(const Tensor &input, const Tensor &target,
                         SourceLoc where) = 0;
  Tensor operator()(const Tensor &input, const Tensor &target, TRUENO_HERE) {
    return forward(input, target, where);
  }
  Tensor forward(const Tensor &input, SourceLoc where) override;
};

class MSELoss : public Loss {
public:
  explicit MSELoss(LossReduction reduction = LossReduction::Mean)
      : Loss("MSELoss"), reduction_(reduction) {}
  Tensor forward(const Tensor &input, const Tensor &target,
                 SourceLoc where) override {
    return mseLoss(input, target, reduction_, where);
  }

private:
  LossReduction reduction_;
};

class BCELoss : public Loss {
public:
  explicit BCELoss(LossReduction reduction = LossReduction::Mean)
      : Loss("BCELoss"), reduction_(reduction) {}
  Tensor forward(const Tensor &input, const Tensor &target,
                 SourceLoc where) override {
    return binaryCrossEntropy(input, target, reduction_, where);
  }

private:
  LossReduction reduction_;
};

class BCEWithLogitsLoss : public Loss {
public:
  explicit BCEWithLogitsLoss(LossReduction reduction = LossReduction::Mean)
      : Loss("BCEWithLogitsLoss"), reduction_(reduction) {}
  Tensor forward(const Tensor &input, const Tensor &target,
                 SourceLoc where) override {
    return binaryCrossEntropyWithLogits(input, target, reduction_, where);
  }

private:
  LossReduction reduction_;
};

class NLLLoss : public Loss {
public:
  explicit NLLLoss(ClassLossOptions options = {})
      : Loss("NLLLoss"), options_(std::move(options)) {}
  Tensor forward(const Tensor &input, const Tensor &target,
                 SourceLoc where) override {
    return nllLoss(input, target, options_, where);
  }

private:
  ClassLossOptions options_;
};

class CrossEntropyLoss : public Loss {
public:
  explicit CrossEntropyLoss(ClassLossOptions options = {})
      : Loss("CrossEntropyLoss"), options_(std::move(options)) {}
  Tensor forward(const Tensor &input, const Tensor &target,
                 SourceLoc where) override {
    return crossEntropy(input, target, options_, where);
  }

private:
  ClassLossOptions options_;
};

} // namespace trueno::nn

#endif // TRUENO_NN_LOSS_H
