//===- Scheduler.cpp - Learning-rate schedules
//-----------------------------===//

#include "trueno/optim/Scheduler.h"

#include "trueno/Fail.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace trueno::optim {

using detail::fail;

LRScheduler::LRScheduler(Optimizer &optimizer) : optimizer_(optimizer) {
  for (std::size_t g = 0; g < optimizer.groupCount(); ++g)
    base_.push_back(optimizer.learningRate(g));
}

void LRScheduler::step() {
  ++epoch_;
  for (std::size_t g = 0; g < base_.size(); ++g)
    optimizer_.setLearningRate(g, rateAt(g, epoch_));
  afterStep();
}

std::vector<double> LRScheduler::lastLr() const {
  std::vector<double> out;
  for (std::size_t g = 0; g < base_.size(); ++g)
    out.push_back(optimizer_.learningRate(g));
  return out;
}

StepLR::StepLR(Optimizer &optimizer, std::int64_t stepSize, double gamma,
               SourceLoc where)
    : LRScheduler(optimizer), stepSize_(stepSize), gamma_(gamma) {
  if (stepSize <= 0)
    fail<ValueError>(where, "StepLR", "",
                     "the step size must be positive, got {}", stepSize);
  start();
}

double StepLR::rateAt(std::size_t g, std::int64_t epoch) const {
  return base_[g] * std::pow(gamma_, static_cast<double>(epoch / stepSize_));
}

MultiStepLR::MultiStepLR(Optimizer &optimizer,
                         std::vector<std::int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)),
      gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  start();
}

double MultiStepLR::rateAt(std::size_t g, std::int64_t epoch) const {
  auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
      milestones_.begin();
  return base_[g] * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer &optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  start();
}

double ExponentialLR::rateAt(std::size_t g, std::int64_t epoch) const {
  return base_[g] * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer &optimizer, std::int64_t tMax,
                                     double etaMin, SourceLoc where)
    : LRScheduler(optimizer), tMax_(tMax), etaMin_(etaMin) {
  if (tMax <= 0)
    fail<ValueError>(where, "CosineAnnealingLR", "",
                     "tMax must be positive, got {}", tMax);
  start();
}

double CosineAnnealingLR::rateAt(std::size_t g, std::int64_t epoch) const {
  return etaMin_ +
         (base_[g] - etaMin_) *
             (1 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                           static_cast<double>(tMax_))) /
             2;
}

LinearLR::LinearLR(Optimizer &optimizer, double startFactor, double endFactor,
                   std::int64_t totalIters, SourceLoc where)
    : LRScheduler(optimizer), start_(startFactor), end_(endFactor),
      total_(totalIters) {
  if (!(startFactor > 0 && startFactor <= 1) ||
      !(endFactor >= 0 && endFactor <= 1) || totalIters <= 0)
    fail<ValueError>(where, "LinearLR", "",
                     "needs 0 < startFactor <= 1, 0 <= endFactor <= 1 and "
                     "totalIters > 0, got {}, {}, {}",
                     startFactor, endFactor, totalIters);
  start();
}

double LinearLR::rateAt(std::size_t g, std::int64_t epoch) const {
  double t = static_cast<double>(std::min(epoch, total_));
  return base_[g] *
         (start_ + (end_ - start_) * t / static_cast<double>(total_));
}

OneCycleLR::OneCycleLR(Optimizer &optimizer, double maxLr,
                       std::int64_t totalSteps, OneCycleOptions o,
                       SourceLoc where)
    : LRScheduler(optimizer), maxLr_(maxLr), total_(totalSteps), o_(o) {
  if (totalSteps <= 0 || !(o.pctStart > 0 && o.pctStart < 1) || !(maxLr > 0))
    fail<ValueError>(where, "OneCycleLR", "",
                     "needs totalSteps > 0, 0 < pctStart < 1 and maxLr > 0, "
                     "got {}, {}, {}",
                     totalSteps, o.pctStart, maxLr);
  double initial = maxLr / o.divFactor;
  double minLr = initial / o.finalDivFactor;
  double total = static_cast<double>(totalSteps);
  double up = o.pctStart * total - 1;
  if (o.threePhase)
    phases_ = {{up, initial, maxLr, o.maxMomentum, o.baseMomentum},
               {2 * o.pctStart * total - 2, maxLr, initial, o.baseMomentum,
                o.maxMomentum},
               {total - 1, initial, minLr, o.maxMomentum, o.maxMomentum}};
  else
    phases_ = {{up, initial, maxLr, o.maxMomentum, o.baseMomentum},
               {total - 1, maxLr, minLr, o.baseMomentum, o.maxMomentum}};
  if (o.cycleMomentum) {
    momentumName_ = optimizer.hasOption(0, "momentum") ? "momentum"
                    : optimizer.hasOption(0, "beta1")  ? "beta1"
                                                       : "";
    if (momentumName_.empty())
      fail<ValueError>(where, "OneCycleLR", "pass cycleMomentum = false",
                       "the optimizer has no momentum or beta1 to cycle");
  }
  for (double &b : base_)
    b = initial;
  start();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (o_.cosine)
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  return (end - start) * pct + start;
}

std::pair<const OneCycleLR::Phase *, double>
OneCycleLR::phaseAt(std::int64_t epoch) const {
  double step = static_cast<double>(epoch), start = 0;
  // The last phase also takes the steps past its end (as PyTorch's does).
  std::size_t i = 0;
  while (i + 1 < phases_.size() && step > phases_[i].endStep)
    start = phases_[i++].endStep;
  const Phase &p = phases_[i];
  return {&p, (step - start) / (p.endStep - start)};
}

double OneCycleLR::rateAt(std::size_t, std::int64_t epoch) const {
  if (epoch > total_)
    fail<ValueError>(std::source_location::current(), "OneCycleLR",
                     "construct it with the number of batches of the run",
                     "stepped {} times, past its {} total steps", epoch,
                     total_);
  auto [phase, pct] = phaseAt(epoch);
  return anneal(phase->startLr, phase->endLr, pct);
}

void OneCycleLR::afterStep() {
  if (!o_.cycleMomentum)
    return;
  auto [phase, pct] = phaseAt(lastEpoch());
  double m = anneal(phase->startMomentum, phase->endMomentum, pct);
  for (std::size_t g = 0; g < optimizer_.groupCount(); ++g)
    optimizer_.setOption(g, momentumName_, m);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer &optimizer, PlateauOptions o,
                                     SourceLoc where)
    : optimizer_(optimizer), o_(o),
      best_(o.maximize ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity()) {
  if (!(o.factor < 1 && o.factor >= 0))
    fail<ValueError>(where, "ReduceLROnPlateau", "",
                     "the factor must be in [0, 1), got {}", o.factor);
}

bool ReduceLROnPlateau::better(double a, double best) const {
  if (o_.relativeThreshold)
    return o_.maximize ? a > best * (1 + o_.threshold)
                       : a < best * (1 - o_.threshold);
  return o_.maximize ? a > best + o_.threshold : a < best - o_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  if (better(metric, best_)) {
    best_ = metric;
    bad_ = 0;
  } else {
    ++bad_;
  }
  if (cooldown_ > 0) {
    --cooldown_;
    bad_ = 0;
  }
  if (bad_ > o_.patience) {
    for (std::size_t g = 0; g < optimizer_.groupCount(); ++g) {
      double old = optimizer_.learningRate(g);
      double lr = std::max(old * o_.factor, o_.minLr);
      if (old - lr > o_.eps)
        optimizer_.setLearningRate(g, lr);
    }
    cooldown_ = o_.cooldown;
    bad_ = 0;
  }
}

} // namespace trueno::optim
