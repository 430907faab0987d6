//===- Optimizer.cpp - torch.optim's update rules, recorded lazily --------===//
//
// Each step() follows torch.optim's single-tensor code path of PyTorch 1.13
// line by line (the comments name the torch calls), so trajectories agree
// with it to rounding (tests/e2e/test_optim_vs_torch.py).
//
//===----------------------------------------------------------------------===//

#include "trueno/optim/Optimizer.h"

#include "trueno/Autograd.h"
#include "trueno/Fail.h"
#include "trueno/Ops.h"

#include <cmath>
#include <limits>

namespace trueno::optim {

using detail::fail;

// --- The base: groups, state, state dicts
// -------------------------------------

void Optimizer::addGroup(std::vector<Tensor> params, SourceLoc where) {
  std::size_t first = steps_.size();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor &p = params[i];
    if (!p.defined() || !isFloating(p.dtype()) || !p.isLeaf() ||
        !p.requiresGrad())
      fail<ValueError>(where, name_,
                       "pass model.parameters(), or tensors marked with "
                       "requiresGrad_()",
                       "parameter {} of group {} is not a floating-point leaf "
                       "that requires grad",
                       i, params_.size());
    for (const auto &group : params_)
      for (const Tensor &q : group)
        if (q.impl() == p.impl())
          fail<ValueError>(where, name_, "",
                           "parameter {} of group {} is in an earlier group "
                           "too",
                           i, params_.size());
    // Twice in one group would update it twice per step (PyTorch warns
    // that this will become an error).
    for (std::size_t j = 0; j < i; ++j)
      if (params[j].impl() == p.impl())
        fail<ValueError>(where, name_, "",
                         "parameter {} of group {} is parameter {} too", i,
                         params_.size(), j);
  }
  params_.push_back(std::move(params));
  steps_.resize(first + params_.back().size(), 0);
  state_.resize(steps_.size());
}

const std::vector<Tensor> &Optimizer::params(std::size_t group) const {
  return params_.at(group);
}

void Optimizer::zeroGrad() {
  for (auto &group : params_)
    for (Tensor &p : group)
      p.setGrad(Tensor());
}

double Optimizer::option(std::size_t group, const std::string &name) const {
  for (const auto &[key, value] : options(group))
    if (key == name)
      return value;
  fail<ValueError>(std::source_location::current(), name_, "",
                   "has no option \"{}\"", name);
}

bool Optimizer::hasOption(std::size_t group, const std::string &name) const {
  for (const auto &[key, value] : options(group))
    if (key == name)
      return true;
  return false;
}

Tensor &Optimizer::state(std::size_t index, const std::string &key,
                         const std::function<Tensor()> &init) {
  auto &entries = state_.at(index);
  auto it = entries.find(key);
  if (it == entries.end())
    it = entries.emplace(key, init()).first;
  return it->second;
}

bool Optimizer::hasState(std::size_t index, const std::string &key) const {
  return state_.at(index).count(key) != 0;
}

std::int64_t Optimizer::advanceStep(std::size_t index) {
  return ++steps_.at(index);
}

void Optimizer::forEachWithGrad(
    const std::function<void(std::size_t, std::size_t, Tensor &,
                             const Tensor &)> &fn) {
  NoGradGuard noGrad;
  std::size_t index = 0;
  for (std::size_t g = 0; g < params_.size(); ++g)
    for (Tensor &p : params_[g]) {
      Tensor grad = p.grad();
      if (grad.defined())
        fn(g, index, p, grad);
      ++index;
    }
}

StateDict Optimizer::stateDict() const {
  StateDict out;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    for (const auto &[key, t] : state_[i])
      out.emplace(fmt::format("state.{}.{}", i, key), t);
    if (steps_[i] > 0)
      out.emplace(fmt::format("state.{}.step", i),
                  full({}, static_cast<double>(steps_[i]), kFloat64));
  }
  std::size_t index = 0;
  for (std::size_t g = 0; g < params_.size(); ++g) {
    for (const auto &[name, value] : options(g))
      out.emplace(fmt::format("param_groups.{}.{}", g, name),
                  full({}, value, kFloat64));
    std::vector<std::int64_t> ids;
    for (std::size_t k = 0; k < params_[g].size(); ++k)
      ids.push_back(static_cast<std::int64_t>(index++));
    out.emplace(fmt::format("param_groups.{}.params", g),
                fromVector(ids, {static_cast<std::int64_t>(ids.size())}));
  }
  return out;
}

void Optimizer::loadStateDict(const StateDict &state, SourceLoc where) {
  auto problem = [&](const std::string &what) {
    fail<ValueError>(where, name_ + ".loadStateDict",
                     "load a state saved by the same optimizer over the same "
                     "parameters",
                     "{}", what);
  };
  // Every key is understood before anything changes.
  std::vector<std::map<std::string, Tensor>> newState(state_.size());
  std::vector<std::int64_t> newSteps(steps_.size(), 0);
  std::vector<std::vector<std::pair<std::string, double>>> newOptions(
      params_.size());
  std::vector<bool> groupSeen(params_.size(), false);
  std::size_t total = steps_.size();
  for (const auto &[key, value] : state) {
    std::size_t dot1 = key.find('.'), dot2 = key.find('.', dot1 + 1);
    if (dot1 == std::string::npos || dot2 == std::string::npos)
      problem(fmt::format("unexpected key \"{}\"", key));
    std::string kind = key.substr(0, dot1);
    std::string rest = key.substr(dot2 + 1);
    std::size_t n = 0;
    try {
      std::size_t used = 0;
      n = std::stoull(key.substr(dot1 + 1, dot2 - dot1 - 1), &used);
      if (used != dot2 - dot1 - 1)
        throw std::invalid_argument(key);
    } catch (const std::exception &) {
      problem(fmt::format("unexpected key \"{}\"", key));
    }
    if (!value.defined())
      problem(fmt::format("\"{}\" is undefined", key));
    if (kind == "state") {
      if (n >= total)
        problem(fmt::format("\"{}\" names parameter {}, but the optimizer "
                            "has {}",
                            key, n, total));
      if (rest == "step") {
        if (value.numel() != 1)
          problem(fmt::format("\"{}\" must be a scalar", key));
        double s = value.item<double>();
        if (!(s >= 0 && s < 9e15))
          problem(fmt::format("\"{}\" is not a step count", key));
        newSteps[n] = static_cast<std::int64_t>(s);
        continue;
      }
      newState[n].emplace(rest, value);
    } else if (kind == "param_groups") {
      if (n >= params_.size())
        problem(fmt::format("\"{}\" names group {}, but the optimizer has {}",
                            key, n, params_.size()));
      groupSeen[n] = true;
      if (rest == "params") {
        if (value.numel() != static_cast<std::int64_t>(params_[n].size()))
          problem(fmt::format("group {} has {} parameters in the state but "
                              "{} here",
                              n, value.numel(), params_[n].size()));
        continue;
      }
      if (!hasOption(n, rest))
        problem(fmt::format("\"{}\" is not an option of {}", key, name_));
      if (value.numel() != 1)
        problem(fmt::format("\"{}\" must be a scalar", key));
      newOptions[n].emplace_back(rest, value.item<double>());
    } else {
      problem(fmt::format("unexpected key \"{}\"", key));
    }
  }
  for (std::size_t g = 0; g < params_.size(); ++g)
    if (!groupSeen[g])
      problem(fmt::format("the state has no options for group {}", g));
  // Each state tensor has its parameter's shape (or is a scalar).
  std::size_t index = 0;
  for (const auto &group : params_)
    for (const Tensor &p : group) {
      for (auto &[key, t] : newState[index])
        if (t.shape() != p.shape() && t.numel() != 1)
          fail<ShapeError>(where, name_ + ".loadStateDict", "",
                           "state \"{}\" of parameter {} has shape {}, but "
                           "the parameter has shape {}",
                           key, index, formatShape(t.shape()),
                           formatShape(p.shape()));
      ++index;
    }
  for (std::size_t g = 0; g < params_.size(); ++g)
    for (const auto &[name, value] : newOptions[g])
      setOption(g, name, value);
  index = 0;
  for (const auto &group : params_)
    for (const Tensor &p : group) {
      state_[index].clear();
      for (auto &[key, t] : newState[index])
        state_[index].emplace(key, t.to(p.dtype()).clone());
      steps_[index] = newSteps[index];
      ++index;
    }
}

namespace {

/// A group's options checked against their domains, as torch.optim's
/// constructors check them.
void checkNonNegative(std::string_view optimizer, const char *name,
                      double value, SourceLoc where) {
  if (!(value >= 0))
    fail<ValueError>(where, optimizer, "", "{} must be >= 0, got {}", name,
                     value);
}

void checkBeta(std::string_view optimizer, const char *name, double value,
               SourceLoc where) {
  if (!(value >= 0 && value < 1))
    fail<ValueError>(where, optimizer, "", "{} must be in [0, 1), got {}", name,
                     value);
}

/// PyTorch's rule: an optimizer of nothing is a mistake.
template <typename Options>
void checkNotEmpty(std::string_view optimizer,
                   const std::vector<ParamGroup<Options>> &groups,
                   SourceLoc where) {
  for (const auto &g : groups)
    if (!g.params.empty())
      return;
  fail<ValueError>(where, optimizer, "pass model.parameters()",
                   "got an empty parameter list");
}

template <typename Options>
std::vector<ParamGroup<Options>> oneGroup(std::vector<Tensor> params,
                                          Options options) {
  return {ParamGroup<Options>{std::move(params), options}};
}

/// -g when maximizing, g otherwise.
Tensor direction(const Tensor &grad, bool maximize) {
  return maximize ? neg(grad) : grad;
}

} // namespace

// --- SGD
// -----------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, SGDOptions options, SourceLoc where)
    : SGD(oneGroup(std::move(params), options), where) {}

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups, SourceLoc where)
    : Optimizer("SGD") {
  checkNotEmpty(name_, groups, where);
  for (auto &g : groups) {
    check(g.options, where);
    addGroup(std::move(g.params), where);
    opts_.push_back(g.options);
  }
}

void SGD::check(const SGDOptions &o, SourceLoc where) {
  checkNonNegative(name_, "lr", o.lr, where);
  checkNonNegative(name_, "momentum", o.momentum, where);
  checkNonNegative(name_, "weightDecay", o.weightDecay, where);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    fail<ValueError>(where, name_, "",
                     "Nesterov momentum requires a momentum and zero "
                     "dampening");
}

void SGD::step(SourceLoc where) {
  forEachWithGrad([&](std::size_t g, std::size_t i, Tensor &p,
                      const Tensor &grad) {
    const SGDOptions &o = opts_[g];
    Tensor d = direction(grad, o.maximize);
    if (o.weightDecay != 0)
      d = add(d, mul(p, o.weightDecay, where),
              where); // d_p.add(param, alpha=wd)
    if (o.momentum != 0) {
      bool first = !hasState(i, "momentum_buffer");
      Tensor &buf = state(i, "momentum_buffer", [&] { return d.clone(where); });
      if (!first) // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
        buf.mul_(o.momentum, where).add_(mul(d, 1 - o.dampening, where), where);
      d = o.nesterov ? add(d, mul(buf, o.momentum, where), where) : buf;
    }
    p.sub_(mul(d, o.lr, where), where); // param.add_(d_p, alpha=-lr)
    advanceStep(i);
  });
}

std::vector<std::pair<std::string, double>> SGD::options(std::size_t g) const {
  const SGDOptions &o = opts_.at(g);
  return {{"lr", o.lr},
          {"momentum", o.momentum},
          {"dampening", o.dampening},
          {"weight_decay", o.weightDecay},
          {"nesterov", o.nesterov ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

void SGD::setOption(std::size_t g, const std::string &name, double v) {
  SGDOptions &o = opts_.at(g);
  if (name == "lr")
    o.lr = v;
  else if (name == "momentum")
    o.momentum = v;
  else if (name == "dampening")
    o.dampening = v;
  else if (name == "weight_decay")
    o.weightDecay = v;
  else if (name == "nesterov")
    o.nesterov = v != 0;
  else if (name == "maximize")
    o.maximize = v != 0;
  else
    fail<ValueError>(std::source_location::current(), "SGD.setOption", "",
                     "unknown option \"{}\"", name);
}

// --- Adam and AdamW
// ------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions options, SourceLoc where)
    : Adam("Adam", false, oneGroup(std::move(params), options), where) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups, SourceLoc where)
    : Adam("Adam", false, std::move(groups), where) {}

Adam::Adam(std::string name, bool decoupled,
           std::vector<ParamGroup<AdamOptions>> groups, SourceLoc where)
    : Optimizer(std::move(name)), decoupled_(decoupled) {
  checkNotEmpty(name_, groups, where);
  for (auto &g : groups) {
    const AdamOptions &o = g.options;
    checkNonNegative(name_, "lr", o.lr, where);
    checkNonNegative(name_, "eps", o.eps, where);
    checkBeta(name_, "beta1", o.beta1, where);
    checkBeta(name_, "beta2", o.beta2, where);
    checkNonNegative(name_, "weightDecay", o.weightDecay, where);
    addGroup(std::move(g.params), where);
    opts_.push_back(o);
  }
}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions options, SourceLoc where)
    : Adam("AdamW", true, {{std::move(params), options}}, where) {}

AdamW::AdamW(std::vector<ParamGroup<AdamOptions>> groups, SourceLoc where)
    : Adam("AdamW", true, std::move(groups), where) {}

void Adam::step(SourceLoc where) {
  forEachWithGrad(
      [&](std::size_t g, std::size_t i, Tensor &p, const Tensor &grad) {
        const AdamOptions &o = opts_[g];
        auto zero = [&] { return zeros(p.shape(), p.dtype()); };
        Tensor &m = state(i, "exp_avg", zero);
        Tensor &v = state(i, "exp_avg_sq", zero);
        double t = static_cast<double>(advanceStep(i));
        Tensor d = direction(grad, o.maximize);
        if (o.weightDecay != 0) {
          if (decoupled_) // param.mul_(1 - lr * weight_decay)
            p.mul_(1 - o.lr * o.weightDecay, where);
          else // grad = grad.add(param, alpha=weight_decay)
            d = add(d, mul(p, o.weightDecay, where), where);
        }
        // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        m.mul_(o.beta1, where).add_(mul(d, 1 - o.beta1, where), where);
        // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v.mul_(o.beta2, where)
            .add_(mul(mul(d, d, where), 1 - o.beta2, where), where);
        double stepSize = o.lr / (1 - std::pow(o.beta1, t));
        double correction2 = std::sqrt(1 - std::pow(o.beta2, t));
        Tensor second = v;
        if (o.amsgrad) { // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=...)
          Tensor &vmax = state(i, "max_exp_avg_sq", zero);
          vmax.copy_(maximum(vmax, v, where), where);
          second = vmax;
        }
        // denom = (v.sqrt() / sqrt(bias_correction2)).add_(eps)
        Tensor denom =
            add(div(sqrt(second, where), correction2, where), o.eps, where);
        // param.addcdiv_(exp_avg, denom, value=-step_size)
        p.sub_(mul(div(m, denom, where), stepSize, where), where);
      });
}

std::vector<std::pair<std::string, double>> Adam::options(std::size_t g) const {
  const AdamOptions &o = opts_.at(g);
  return {{"lr", o.lr},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"eps", o.eps},
          {"weight_decay", o.weightDecay},
          {"amsgrad", o.amsgrad ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

void Adam::setOption(std::size_t g, const std::string &name, double v) {
  AdamOptions &o = opts_.at(g);
  if (name == "lr")
    o.lr = v;
  else if (name == "beta1")
    o.beta1 = v;
  else if (name == "beta2")
    o.beta2 = v;
  else if (name == "eps")
    o.eps = v;
  else if (name == "weight_decay")
    o.weightDecay = v;
  else if (name == "amsgrad")
    o.amsgrad = v != 0;
  else if (name == "maximize")
    o.maximize = v != 0;
  else
    fail<ValueError>(std::source_location::current(), name_ + ".setOption", "",
                     "unknown option \"{}\"", name);
}

// --- RMSprop
// -------------------------------------------------------------------

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options,
                 SourceLoc where)
    : RMSprop(oneGroup(std::move(params), options), where) {}

RMSprop::RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups,
                 SourceLoc where)
    : Optimizer("RMSprop") {
  checkNotEmpty(name_, groups, where);
  for (auto &g : groups) {
    const RMSpropOptions &o = g.options;
    checkNonNegative(name_, "lr", o.lr, where);
    checkNonNegative(name_, "alpha", o.alpha, where);
    checkNonNegative(name_, "eps", o.eps, where);
    checkNonNegative(name_, "momentum", o.momentum, where);
    checkNonNegative(name_, "weightDecay", o.weightDecay, where);
    addGroup(std::move(g.params), where);
    opts_.push_back(o);
  }
}

void RMSprop::step(SourceLoc where) {
  forEachWithGrad(
      [&](std::size_t g, std::size_t i, Tensor &p, const Tensor &grad) {
        const RMSpropOptions &o = opts_[g];
        auto zero = [&] { return zeros(p.shape(), p.dtype()); };
        advanceStep(i);
        Tensor d = direction(grad, o.maximize);
        if (o.weightDecay != 0)
          d = add(d, mul(p, o.weightDecay, where), where);
        Tensor &v = state(i, "square_avg", zero);
        // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        v.mul_(o.alpha, where)
            .add_(mul(mul(d, d, where), 1 - o.alpha, where), where);
        Tensor avg;
        if (o.centered) {
          Tensor &mean = state(i, "grad_avg", zero);
          mean.mul_(o.alpha, where).add_(mul(d, 1 - o.alpha, where), where);
          // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
          avg = sqrt(sub(v, mul(mean, mean, where), where), where);
        } else {
          avg = sqrt(v, where);
        }
        avg = add(avg, o.eps, where);
        if (o.momentum > 0) {
          Tensor &buf = state(i, "momentum_buffer", zero);
          // buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
          buf.mul_(o.momentum, where).add_(div(d, avg, where), where);
          p.sub_(mul(buf, o.lr, where), where);
        } else {
          p.sub_(mul(div(d, avg, where), o.lr, where), where);
        }
      });
}

std::vector<std::pair<std::string, double>>
RMSprop::options(std::size_t g) const {
  const RMSpropOptions &o = opts_.at(g);
  return {{"lr", o.lr},
          {"alpha", o.alpha},
          {"eps", o.eps},
          {"weight_decay", o.weightDecay},
          {"momentum", o.momentum},
          {"centered", o.centered ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

void RMSprop::setOption(std::size_t g, const std::string &name, double v) {
  RMSpropOptions &o = opts_.at(g);
  if (name == "lr")
    o.lr = v;
  else if (name == "alpha")
    o.alpha = v;
  else if (name == "eps")
    o.eps = v;
  else if (name == "weight_decay")
    o.weightDecay = v;
  else if (name == "momentum")
    o.momentum = v;
  else if (name == "centered")
    o.centered = v != 0;
  else if (name == "maximize")
    o.maximize = v != 0;
  else
    fail<ValueError>(std::source_location::current(), "RMSprop.setOption", "",
                     "unknown option \"{}\"", name);
}

// --- Adagrad
// -------------------------------------------------------------------

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options,
                 SourceLoc where)
    : Adagrad(oneGroup(std::move(params), options), where) {}

Adagrad::Adagrad(std::vector<ParamGroup<AdagradOptions>> groups,
                 SourceLoc where)
    : Optimizer("Adagrad") {
  checkNotEmpty(name_, groups, where);
  for (auto &g : groups) {
    const AdagradOptions &o = g.options;
    checkNonNegative(name_, "lr", o.lr, where);
    checkNonNegative(name_, "lrDecay", o.lrDecay, where);
    checkNonNegative(name_, "eps", o.eps, where);
    checkNonNegative(name_, "weightDecay", o.weightDecay, where);
    checkNonNegative(name_, "initialAccumulatorValue",
                     o.initialAccumulatorValue, where);
    addGroup(std::move(g.params), where);
    opts_.push_back(o);
  }
  // torch creates the sums in the constructor.
  std::size_t index = 0;
  for (std::size_t g = 0; g < groupCount(); ++g)
    for (const Tensor &p : params(g))
      state(index++, "sum", [&] {
        return full(p.shape(), opts_[g].initialAccumulatorValue, p.dtype());
      });
}

void Adagrad::step(SourceLoc where) {
  forEachWithGrad([&](std::size_t g, std::size_t i, Tensor &p,
                      const Tensor &grad) {
    const AdagradOptions &o = opts_[g];
    double t = static_cast<double>(advanceStep(i));
    Tensor d = direction(grad, o.maximize);
    if (o.weightDecay != 0)
      d = add(d, mul(p, o.weightDecay, where), where);
    double clr = o.lr / (1 + (t - 1) * o.lrDecay);
    Tensor &sum = state(i, "sum", [&] { return zeros(p.shape(), p.dtype()); });
    sum.add_(mul(d, d, where), where); // state_sum.addcmul_(grad, grad)
    Tensor denom =
        add(sqrt(sum, where), o.eps, where); // state_sum.sqrt().add_(eps)
    p.sub_(mul(div(d, denom, where), clr, where), where);
  });
}

std::vector<std::pair<std::string, double>>
Adagrad::options(std::size_t g) const {
  const AdagradOptions &o = opts_.at(g);
  return {{"lr", o.lr},
          {"lr_decay", o.lrDecay},
          {"weight_decay", o.weightDecay},
          {"initial_accumulator_value", o.initialAccumulatorValue},
          {"eps", o.eps},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

void Adagrad::setOption(std::size_t g, const std::string &name, double v) {
  AdagradOptions &o = opts_.at(g);
  if (name == "lr")
    o.lr = v;
  else if (name == "lr_decay")
    o.lrDecay = v;
  else if (name == "weight_decay")
    o.weightDecay = v;
  else if (name == "initial_accumulator_value")
    o.initialAccumulatorValue = v;
  else if (name == "eps")
    o.eps = v;
  else if (name == "maximize")
    o.maximize = v != 0;
  else
    fail<ValueError>(std::source_location::current(), "Adagrad.setOption", "",
                     "unknown option \"{}\"", name);
}

// --- Gradient clipping
// ---------------------------------------------------------

Tensor clipGradNorm_(const std::vector<Tensor> &params, double maxNorm,
                     double normType, SourceLoc where) {
  NoGradGuard noGrad;
  bool infinity = std::isinf(normType);
  if (!(normType > 0))
    fail<ValueError>(where, "clipGradNorm_", "use 2, 1 or infinity",
                     "the norm type must be positive, got {}", normType);
  std::vector<Tensor> grads;
  for (const Tensor &p : params)
    if (Tensor g = p.grad(where); g.defined())
      grads.push_back(g);
  if (grads.empty())
    return zeros({}, kFloat32);
  // The norm of the per-tensor norms (torch.norm(torch.stack(norms))).
  Tensor total;
  for (const Tensor &g : grads) {
    Tensor n = infinity
                   ? amax(abs(g, where), {}, false, where)
                   : sum(pow(abs(g, where), normType, where), {}, false, where);
    n = n.to(kFloat32, where);
    total = total.defined()
                ? (infinity ? maximum(total, n, where) : add(total, n, where))
                : n;
  }
  if (!infinity)
    total = pow(total, 1.0 / normType, where);
  // clip_coef = max_norm / (total_norm + 1e-6), clamped to 1.
  Tensor coef =
      clamp(div(full({}, maxNorm, kFloat32), add(total, 1e-6, where), where),
            std::nullopt, Scalar(1.0), where);
  for (Tensor g : grads)
    g.mul_(coef.to(g.dtype(), where), where);
  return total;
}

void clipGradValue_(const std::vector<Tensor> &params, double clipValue,
                    SourceLoc where) {
  NoGradGuard noGrad;
  if (!(clipValue >= 0))
    fail<ValueError>(where, "clipGradValue_", "",
                     "the clip value must be >= 0, got {}", clipValue);
  for (const Tensor &p : params)
    if (Tensor g = p.grad(where); g.defined())
      g.clamp_(Scalar(-clipValue), Scalar(clipValue), where);
}

} // namespace trueno::optim
