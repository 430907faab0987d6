//===- Scheduler.h - Learning-rate schedules, as torch.optim.lr_scheduler -===//
//
// A scheduler sets its optimizer's learning rates (each group's from its
// own base rate) at construction (epoch 0) and at each step(): call step()
// once per epoch (or per batch, for OneCycleLR and warmups), after the
// optimizer's step, as in PyTorch. Each rate is PyTorch's closed form; the
// rates change as scalar inputs of the compiled step, so nothing recompiles.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_OPTIM_SCHEDULER_H
#define TRUENO_OPTIM_SCHEDULER_H

#include "trueno/optim/Optimizer.h"

#include <cstdint>
#include <vector>

namespace trueno::optim {

class LRScheduler {
public:
  virtual ~LRScheduler() = default;
  /// Advances one epoch and sets every group's learning rate.
  void step();
  std::int64_t lastEpoch() const { return epoch_; }
  /// The rates set by the last step (or the constructor).
  std::vector<double> lastLr() const;

protected:
  explicit LRScheduler(Optimizer &optimizer);
  /// Sets the rates of epoch 0; derived constructors call it last.
  void start() { step(); }
  /// Group g's rate at `epoch`.
  virtual double rateAt(std::size_t group, std::int64_t epoch) const = 0;
  /// Called after the rates are set (OneCycleLR cycles momentum here).
  virtual void afterStep() {}

  Optimizer &optimizer_;
  std::vector<double> base_;

private:
  std::int64_t epoch_ = -1;
};

/// base * gamma^(epoch / stepSize).
class StepLR : public LRScheduler {
public:
  StepLR(Optimizer &optimizer, std::int64_t stepSize, double gamma = 0.1,
         TRUENO_HERE);

private:
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  std::int64_t stepSize_;
  double gamma_;
};

/// base * gamma^(milestones passed).
class MultiStepLR : public LRScheduler {
public:
  MultiStepLR(Optimizer &optimizer, std::vector<std::int64_t> milestones,
              double gamma = 0.1);

private:
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

/// base * gamma^epoch.
class ExponentialLR : public LRScheduler {
public:
  ExponentialLR(Optimizer &optimizer, double gamma);

private:
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  double gamma_;
};

/// etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2.
class CosineAnnealingLR : public LRScheduler {
public:
  CosineAnnealingLR(Optimizer &optimizer, std::int64_t tMax, double etaMin = 0,
                    TRUENO_HERE);

private:
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  std::int64_t tMax_;
  double etaMin_;
};

/// A linear warmup (torch's LinearLR): base * factor, the factor moving
/// from startFactor to endFactor over totalIters steps, then constant.
class LinearLR : public LRScheduler {
public:
  LinearLR(Optimizer &optimizer, double startFactor = 1.0 / 3,
           double endFactor = 1.0, std::int64_t totalIters = 5, TRUENO_HERE);

private:
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  double start_, end_;
  std::int64_t total_;
};

struct OneCycleOptions {
  double pctStart = 0.3;
  /// Cosine annealing (PyTorch's default) or linear.
  bool cosine = true;
  double divFactor = 25;
  double finalDivFactor = 1e4;
  bool threePhase = false;
  /// Moves SGD's momentum (or Adam's beta1) inversely to the rate, between
  /// baseMomentum and maxMomentum, as PyTorch's default.
  bool cycleMomentum = true;
  double baseMomentum = 0.85;
  double maxMomentum = 0.95;
};

/// The 1cycle policy (torch's OneCycleLR), stepped once per batch: from
/// maxLr / divFactor up to maxLr over pctStart of totalSteps, then down to
/// maxLr / divFactor / finalDivFactor.
class OneCycleLR : public LRScheduler {
public:
  OneCycleLR(Optimizer &optimizer, double maxLr, std::int64_t totalSteps,
             OneCycleOptions options = {}, TRUENO_HERE);

private:
  struct Phase {
    double endStep, startLr, endLr, startMomentum, endMomentum;
  };
  double rateAt(std::size_t group, std::int64_t epoch) const override;
  void afterStep() override;
  double anneal(double start, double end, double pct) const;
  /// The phase of `epoch` and the fraction of it done.
  std::pair<const Phase *, double> phaseAt(std::int64_t epoch) const;
  double maxLr_;
  std::int64_t total_;
  OneCycleOptions o_;
  std::vector<Phase> phases_;
  std::string momentumName_;
};

struct PlateauOptions {
  /// Minimize (a loss) or maximize (an accuracy) the metric.
  bool maximize = false;
  double factor = 0.1;
  std::int64_t patience = 10;
  double threshold = 1e-4;
  /// Relative (best * (1 -+ threshold)) or absolute improvement.
  bool relativeThreshold = true;
  std::int64_t cooldown = 0;
  double minLr = 0;
  double eps = 1e-8;
};

/// Multiplies the rates by `factor` when the metric has not improved for
/// `patience` epochs (torch's ReduceLROnPlateau). Not an LRScheduler: its
/// step takes the metric.
class ReduceLROnPlateau {
public:
  explicit ReduceLROnPlateau(Optimizer &optimizer, PlateauOptions o = {},
                             TRUENO_HERE);
  void step(double metric);
  std::int64_t badEpochs() const { return bad_; }

private:
  bool better(double a, double best) const;
  Optimizer &optimizer_;
  PlateauOptions o_;
  double best_;
  std::int64_t bad_ = 0, cooldown_ = 0;
};

} // namespace trueno::optim

#endif // TRUENO_OPTIM_SCHEDULER_H
