//===- Init.cpp - Parameter initializers
//-----------------------------------===//

#include "trueno/nn/Init.h"

#include "trueno/Autograd.h"
#include "trueno/Fail.h"

#include <cmath>

namespace trueno::nn::init {

using detail::fail;

double calculateGain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
  case Nonlinearity::Linear:
  case Nonlinearity::Sigmoid:
    return 1.0;
  case Nonlinearity::Tanh:
    return 5.0 / 3.0;
  case Nonlinearity::Relu:
    return std::sqrt(2.0);
  case Nonlinearity::LeakyRelu: {
    double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1 + slope * slope));
  }
  case Nonlinearity::Selu:
    return 3.0 / 4.0;
  }
  return 1.0;
}

std::pair<std::int64_t, std::int64_t> fans(const Tensor &weight,
                                           SourceLoc where) {
  if (weight.dim(where) < 2)
    fail<ValueError>(where, "nn.init", "fans need a weight of rank >= 2",
                     "cannot compute fan in and fan out of a tensor of "
                     "shape {}",
                     formatShape(weight.shape()));
  std::int64_t receptive = 1;
  for (std::int64_t d = 2; d < weight.dim(); ++d)
    receptive *= weight.size(d);
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

namespace {
/// Writes `values` into `t` in place, outside gradient recording.
Tensor &assign(Tensor &t, const Tensor &values, SourceLoc where) {
  NoGradGuard noGrad;
  t.copy_(values, where);
  return t;
}
} // namespace

Tensor &uniform_(Tensor &t, double low, double high, Generator &gen,
                 SourceLoc where) {
  return assign(t, uniform(t.shape(where), low, high, gen, t.dtype(), where),
                where);
}

Tensor &normal_(Tensor &t, double mean, double std, Generator &gen,
                SourceLoc where) {
  return assign(t, normal(t.shape(where), mean, std, gen, t.dtype(), where),
                where);
}

Tensor &constant_(Tensor &t, double value, SourceLoc where) {
  NoGradGuard noGrad;
  t.fill_(value, where);
  return t;
}

Tensor &zeros_(Tensor &t, SourceLoc where) { return constant_(t, 0, where); }
Tensor &ones_(Tensor &t, SourceLoc where) { return constant_(t, 1, where); }

static double fanOf(const Tensor &t, FanMode mode, SourceLoc where) {
  auto [in, out] = fans(t, where);
  std::int64_t fan = mode == FanMode::FanIn ? in : out;
  if (fan == 0)
    fail<ValueError>(where, "nn.init", "",
                     "cannot initialize a tensor of shape {} with a fan of 0",
                     formatShape(t.shape()));
  return static_cast<double>(fan);
}

Tensor &kaimingUniform_(Tensor &t, double a, FanMode mode,
                        Nonlinearity nonlinearity, Generator &gen,
                        SourceLoc where) {
  double bound =
      calculateGain(nonlinearity, a) * std::sqrt(3.0 / fanOf(t, mode, where));
  return uniform_(t, -bound, bound, gen, where);
}

Tensor &kaimingNormal_(Tensor &t, double a, FanMode mode,
                       Nonlinearity nonlinearity, Generator &gen,
                       SourceLoc where) {
  double std =
      calculateGain(nonlinearity, a) / std::sqrt(fanOf(t, mode, where));
  return normal_(t, 0, std, gen, where);
}

Tensor &xavierUniform_(Tensor &t, double gain, Generator &gen,
                       SourceLoc where) {
  auto [in, out] = fans(t, where);
  double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform_(t, -bound, bound, gen, where);
}

Tensor &xavierNormal_(Tensor &t, double gain, Generator &gen, SourceLoc where) {
  auto [in, out] = fans(t, where);
  double std = gain * std::sqrt(2.0 / static_cast<double>(in + out));
  return normal_(t, 0, std, gen, where);
}

} // namespace trueno::nn::init
