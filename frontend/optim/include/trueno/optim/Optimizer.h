//===- Optimizer.h - SGD, Adam, AdamW, RMSprop, Adagrad
//--------------------===//
//
// torch.optim's optimizers, with its defaults and update rules. step() does
// not compute anything: it records each parameter's update (and its state's)
// as lazy in-place writes, so the update fuses into the program that
// computes the gradients, and a training step is one program with no
// per-parameter launches. Hyperparameters that change between steps (a
// scheduled learning rate, Adam's bias corrections) enter the program as
// scalar inputs, not constants: changing them compiles nothing.
//
// Parameter groups have their own options: `SGD({{convParams, {.lr = 0.1}},
// {headParams, {.lr = 0.01, .momentum = 0.9}}})`.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_OPTIM_OPTIMIZER_H
#define TRUENO_OPTIM_OPTIMIZER_H

#include "trueno/Tensor.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace trueno::optim {

/// Named tensors, as trueno::nn::StateDict.
using StateDict = std::map<std::string, Tensor>;

class Optimizer {
public:
  virtual ~Optimizer() = default;

  /// Records one update of every parameter that has a gradient.
  virtual void step(TRUENO_HERE) = 0;
  /// Clears every parameter's gradient (sets it to none, as PyTorch's
  /// default), so backward() writes it rather than adding to it.
  void zeroGrad();

  std::size_t groupCount() const { return params_.size(); }
  const std::vector<Tensor> &params(std::size_t group) const;
  /// The learning rate of a group (schedulers read and set it).
  virtual double learningRate(std::size_t group) const = 0;
  virtual void setLearningRate(std::size_t group, double lr) = 0;

  /// A group's option by its PyTorch name ("lr", "momentum", "beta1"...);
  /// ValueError for an option this optimizer does not have.
  double option(std::size_t group, const std::string &name) const;
  bool hasOption(std::size_t group, const std::string &name) const;
  virtual void setOption(std::size_t group, const std::string &name,
                         double value) = 0;

  /// The per-parameter state (`state.<i>.<name>`, i counting parameters
  /// over all groups in order) and each group's options
  /// (`param_groups.<g>.<option>`, float64 scalars): PyTorch's layout,
  /// flattened into named tensors for a safetensors checkpoint.
  StateDict stateDict() const;
  /// Restores a stateDict() of an optimizer of the same kind over the same
  /// parameter shapes; a ValueError or ShapeError names what differs.
  void loadStateDict(const StateDict &state, TRUENO_HERE);

protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}
  /// Registers a group's parameters; each must be a floating-point leaf
  /// that requires grad (ValueError naming its position otherwise).
  void addGroup(std::vector<Tensor> params, SourceLoc where);
  /// State `key` of parameter `index` (over all groups), created as
  /// `init` the first time.
  Tensor &state(std::size_t index, const std::string &key,
                const std::function<Tensor()> &init);
  bool hasState(std::size_t index, const std::string &key) const;
  /// The number of steps taken for parameter `index` (after this one).
  std::int64_t advanceStep(std::size_t index);
  /// The options of group g as name -> value, for stateDict().
  virtual std::vector<std::pair<std::string, double>>
  options(std::size_t group) const = 0;
  /// Calls fn(group, global index, parameter, gradient) for each parameter
  /// with a gradient.
  void forEachWithGrad(const std::function<void(std::size_t, std::size_t,
                                                Tensor &, const Tensor &)> &fn);

  std::string name_;

private:
  std::vector<std::vector<Tensor>> params_;
  std::vector<std::map<std::string, Tensor>> state_;
  std::vector<std::int64_t> steps_;
};

/// A group's parameters with its own options.
template <typename Options> struct ParamGroup {
  std::vector<Tensor> params;
  Options options;
};

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weightDecay = 0;
  bool nesterov = false;
  bool maximize = false;
};

/// Stochastic gradient descent (torch.optim.SGD): with momentum, the
/// buffer starts as the first gradient and then b = momentum * b +
/// (1 - dampening) * g; Nesterov steps along g + momentum * b.
class SGD : public Optimizer {
public:
  SGD(std::vector<Tensor> params, SGDOptions options = {}, TRUENO_HERE);
  SGD(std::vector<ParamGroup<SGDOptions>> groups, TRUENO_HERE);
  void step(TRUENO_HERE) override;
  double learningRate(std::size_t g) const override { return opts_.at(g).lr; }
  void setLearningRate(std::size_t g, double lr) override {
    opts_.at(g).lr = lr;
  }
  SGDOptions &options(std::size_t g = 0) { return opts_.at(g); }

  void setOption(std::size_t group, const std::string &name,
                 double value) override;

private:
  std::vector<std::pair<std::string, double>>
  options(std::size_t group) const override;
  void check(const SGDOptions &o, SourceLoc where);
  std::vector<SGDOptions> opts_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  /// Adam: added to the gradient (L2); AdamW: decoupled, p *= 1 - lr * wd.
  double weightDecay = 0;
  bool amsgrad = false;
  bool maximize = false;
};

/// Adam (torch.optim.Adam), and AdamW with decoupled weight decay (whose
/// default weight decay is 1e-2).
class Adam : public Optimizer {
public:
  Adam(std::vector<Tensor> params, AdamOptions options = {}, TRUENO_HERE);
  Adam(std::vector<ParamGroup<AdamOptions>> groups, TRUENO_HERE);
  void step(TRUENO_HERE) override;
  double learningRate(std::size_t g) const override { return opts_.at(g).lr; }
  void setLearningRate(std::size_t g, double lr) override {
    opts_.at(g).lr = lr;
  }
  AdamOptions &options(std::size_t g = 0) { return opts_.at(g); }

  void setOption(std::size_t group, const std::string &name,
                 double value) override;

protected:
  Adam(std::string name, bool decoupled,
       std::vector<ParamGroup<AdamOptions>> groups, SourceLoc where);

private:
  std::vector<std::pair<std::string, double>>
  options(std::size_t group) const override;
  bool decoupled_;
  std::vector<AdamOptions> opts_;
};

class AdamW : public Adam {
public:
  AdamW(std::vector<Tensor> params, AdamOptions options = {.weightDecay = 1e-2},
        TRUENO_HERE);
  AdamW(std::vector<ParamGroup<AdamOptions>> groups, TRUENO_HERE);
};

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weightDecay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};

/// RMSprop (torch.optim.RMSprop): v = alpha v + (1 - alpha) g^2; centered
/// subtracts the squared running mean of g; eps is added after the sqrt.
class RMSprop : public Optimizer {
public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {}, TRUENO_HERE);
  RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups, TRUENO_HERE);
  void step(TRUENO_HERE) override;
  double learningRate(std::size_t g) const override { return opts_.at(g).lr; }
  void setLearningRate(std::size_t g, double lr) override {
    opts_.at(g).lr = lr;
  }

  void setOption(std::size_t group, const std::string &name,
                 double value) override;

private:
  std::vector<std::pair<std::string, double>>
  options(std::size_t group) const override;
  std::vector<RMSpropOptions> opts_;
};

struct AdagradOptions {
  double lr = 1e-2;
  double lrDecay = 0;
  double weightDecay = 0;
  double initialAccumulatorValue = 0;
  double eps = 1e-10;
  bool maximize = false;
};

/// Adagrad (torch.optim.Adagrad): s += g^2; p -= lr / (1 + (t - 1) decay)
/// * g / (sqrt(s) + eps).
class Adagrad : public Optimizer {
public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {}, TRUENO_HERE);
  Adagrad(std::vector<ParamGroup<AdagradOptions>> groups, TRUENO_HERE);
  void step(TRUENO_HERE) override;
  double learningRate(std::size_t g) const override { return opts_.at(g).lr; }
  void setLearningRate(std::size_t g, double lr) override {
    opts_.at(g).lr = lr;
  }

  void setOption(std::size_t group, const std::string &name,
                 double value) override;

private:
  std::vector<std::pair<std::string, double>>
  options(std::size_t group) const override;
  std::vector<AdagradOptions> opts_;
};

/// Scales every gradient so that their joint `normType` norm (2, or
/// infinity) is at most maxNorm (torch.nn.utils.clip_grad_norm_); returns
/// the norm before clipping (a pending scalar: reading it is optional).
Tensor clipGradNorm_(const std::vector<Tensor> &params, double maxNorm,
                     double normType = 2.0, TRUENO_HERE);
/// Clamps every gradient element to [-clipValue, clipValue].
void clipGradValue_(const std::vector<Tensor> &params, double clipValue,
                    TRUENO_HERE);

} // namespace trueno::optim

#endif // TRUENO_OPTIM_OPTIMIZER_H
