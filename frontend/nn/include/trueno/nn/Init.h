//===- Init.h - Parameter initializers, as torch.nn.init
//-------------------===//
//
// Each fills a tensor in place (under NoGradGuard, so a parameter may be
// re-initialized) from a trueno::Generator: the default one unless another
// is passed, so `trueno::manualSeed(s)` before building a model gives the
// same weights on every machine. The formulas and defaults are PyTorch's.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_NN_INIT_H
#define TRUENO_NN_INIT_H

#include "trueno/Random.h"
#include "trueno/Tensor.h"

#include <string>

namespace trueno::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Sigmoid, Tanh, Relu, LeakyRelu, Selu };

/// The recommended gain of a nonlinearity (torch.nn.init.calculate_gain);
/// `param` is LeakyRelu's negative slope (0.01 when not given).
double calculateGain(Nonlinearity nonlinearity,
                     std::optional<double> param = std::nullopt);
/// fan_in and fan_out of a weight of rank >= 2: (out, in, kernel...) gives
/// in * prod(kernel) and out * prod(kernel). ValueError for rank < 2.
std::pair<std::int64_t, std::int64_t> fans(const Tensor &weight, TRUENO_HERE);

Tensor &uniform_(Tensor &t, double low, double high,
                 Generator &gen = defaultGenerator(), TRUENO_HERE);
Tensor &normal_(Tensor &t, double mean, double std,
                Generator &gen = defaultGenerator(), TRUENO_HERE);
Tensor &constant_(Tensor &t, double value, TRUENO_HERE);
Tensor &zeros_(Tensor &t, TRUENO_HERE);
Tensor &ones_(Tensor &t, TRUENO_HERE);
/// U(-b, b), b = gain * sqrt(3 / fan), gain = calculateGain(nonlinearity, a).
/// nn.Linear and nn.Conv use a = sqrt(5): b = 1 / sqrt(fan_in).
Tensor &kaimingUniform_(Tensor &t, double a = 0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                        Generator &gen = defaultGenerator(), TRUENO_HERE);
/// N(0, (gain / sqrt(fan))^2).
Tensor &kaimingNormal_(Tensor &t, double a = 0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyRelu,
                       Generator &gen = defaultGenerator(), TRUENO_HERE);
/// U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor &xavierUniform_(Tensor &t, double gain = 1.0,
                       Generator &gen = defaultGenerator(), TRUENO_HERE);
/// N(0, (gain * sqrt(2 / (fan_in + fan_out)))^2).
Tensor &xavierNormal_(Tensor &t, double gain = 1.0,
                      Generator &gen = defaultGenerator(), TRUENO_HERE);

} // namespace trueno::nn::init

#endif // TRUENO_NN_INIT_H
