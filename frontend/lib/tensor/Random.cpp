//===- Random.cpp - Philox4x32-10 and the distributions built on it -------===//
//
// Each distribution maps the 32-bit words of Philox blocks to values with a
// fixed recipe (docs/RANDOM.md), so element i depends only on the seed, the
// generator's offset and i. Integer recipes are exact everywhere; the normal
// recipe uses double-precision log, sqrt, cos and sin.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/Dispatch.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"
#include "trueno/Core/Philox.h"

#include "trueno/Random.h"

#include <cmath>
#include <limits>
#include <numbers>

namespace trueno {

using detail::fail;

std::array<std::uint32_t, 4> Generator::block(std::uint64_t counter) const {
  std::array<std::uint32_t, 4> x = {static_cast<std::uint32_t>(counter),
                                    static_cast<std::uint32_t>(counter >> 32),
                                    0u, 0u};
  std::uint32_t key0 = static_cast<std::uint32_t>(seed_);
  std::uint32_t key1 = static_cast<std::uint32_t>(seed_ >> 32);
  for (int round = 0; round < philox::kRounds; ++round) {
    std::uint64_t p0 = std::uint64_t(philox::kMultiplier0) * x[0];
    std::uint64_t p1 = std::uint64_t(philox::kMultiplier1) * x[2];
    x = {static_cast<std::uint32_t>(p1 >> 32) ^ x[1] ^ key0,
         static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ x[3] ^ key1,
         static_cast<std::uint32_t>(p0)};
    key0 += philox::kWeyl0;
    key1 += philox::kWeyl1;
  }
  return x;
}

Generator &defaultGenerator() {
  static Generator generator(0);
  return generator;
}

void manualSeed(std::uint64_t seed) { defaultGenerator().manualSeed(seed); }

/// Fills a new tensor: `value(words)` turns the `wordsPerValue` 32-bit words
/// of one element into a double (or an exact integer in a double's place,
/// via the Compute type). Element i uses words [i * w, (i + 1) * w) of the
/// stream, which start at the generator's offset.
template <typename Compute, typename ValueFn>
static Tensor generate(Shape shape, DType dtype, Generator &gen,
                       const TensorOptions &options, int wordsPerValue,
                       std::string_view op, SourceLoc where, ValueFn value) {
  detail::checkShape(shape, op, where);
  Tensor result = empty(std::move(shape), options.withDType(dtype), where);
  std::int64_t n = result.numel();
  std::uint64_t words = static_cast<std::uint64_t>(n) * wordsPerValue;
  std::uint64_t first = gen.advance((words + 3) / 4);
  detail::dispatchDType(dtype, [&]<typename T>(detail::TypeTag<T>) {
    T *out = result.data<T>();
    std::array<std::uint32_t, 4> block{};
    std::uint64_t loaded = ~std::uint64_t(0);
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint32_t w[4];
      for (int k = 0; k < wordsPerValue; ++k) {
        std::uint64_t index = static_cast<std::uint64_t>(i) * wordsPerValue + k;
        if (index / 4 != loaded) {
          loaded = index / 4;
          block = gen.block(first + loaded);
        }
        w[k] = block[index % 4];
      }
      out[i] = detail::castValue<T, Compute>(value(w, i));
    }
  });
  return result;
}

/// The largest value of T below `v` (finite v).
template <typename T> static T nextBelow(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::nextafter(v, -std::numeric_limits<T>::infinity());
  } else { // float16 / bfloat16: step the bit pattern
    std::uint16_t bits = v.bits;
    if ((bits & 0x7fff) == 0)
      bits = 0x8001; // below +-0 is the smallest negative subnormal
    else
      bits = (bits & 0x8000) ? bits + 1 : bits - 1;
    return T::fromBits(bits);
  }
}

/// Uniform in [0, 1): 24 random bits for float32 and narrower, 53 for
/// float64, so the value is exact in the target type and never reaches 1.
static int uniformWords(DType dtype) { return dtype == kFloat64 ? 2 : 1; }
static double uniformFromWords(const std::uint32_t *w, DType dtype) {
  if (dtype == kFloat64)
    return static_cast<double>(((std::uint64_t(w[0]) << 32) | w[1]) >> 11) *
           0x1p-53;
  int bits = dtype == kFloat16 ? 11 : dtype == kBFloat16 ? 8 : 24;
  return static_cast<double>(w[0] >> (32 - bits)) * std::ldexp(1.0, -bits);
}

static DType floatingDType(const TensorOptions &options, std::string_view op,
                           SourceLoc where) {
  DType dtype = options.dtype.value_or(kDefaultFloat);
  if (!isFloating(dtype))
    fail<DTypeError>(where, op, "ask for float16, bfloat16, float32 or float64",
                     "needs a floating dtype, got {}", dtypeName(dtype));
  return dtype;
}

Tensor uniform(Shape shape, double low, double high, Generator &gen,
               TensorOptions options, SourceLoc where) {
  DType dtype = floatingDType(options, "uniform", where);
  if (!(low <= high) || !std::isfinite(low) || !std::isfinite(high))
    fail<ValueError>(where, "uniform", "",
                     "needs finite low <= high, got "
                     "low={}, high={}",
                     low, high);
  bool narrow = dtype != kFloat64;
  Tensor result = generate<double>(
      std::move(shape), dtype, gen, options, uniformWords(dtype), "uniform",
      where, [&](const std::uint32_t *w, std::int64_t) {
        double u = uniformFromWords(w, dtype);
        if (narrow) // float arithmetic, as a float kernel would do it
          return static_cast<double>(static_cast<float>(low) +
                                     static_cast<float>(high - low) *
                                         static_cast<float>(u));
        return low + (high - low) * u;
      });
  // low + (high - low) * u can round up to high in the target type; keep
  // the promised half-open range by stepping such values just below high.
  if (!(low < high)) // an empty range: every value is low already
    return result;
  detail::dispatchDType(dtype, [&]<typename T>(detail::TypeTag<T>) {
    if constexpr (std::is_floating_point_v<T> || detail::isLowFloat<T>) {
      double top = static_cast<double>(detail::castValue<T, double>(high));
      T below = nextBelow(detail::castValue<T, double>(high));
      T lowest = detail::castValue<T, double>(low);
      if (static_cast<double>(below) < static_cast<double>(lowest))
        below = lowest; // low and high round to neighbours in T
      T *data = result.data<T>();
      for (std::int64_t i = 0; i < result.numel(); ++i)
        if (static_cast<double>(data[i]) >= top)
          data[i] = below;
    }
  });
  return result;
}

namespace detail {

Tensor recordUniform(Shape shape, DType dtype, Generator &gen, Device device,
                     std::string_view op, SourceLoc where) {
  checkShape(shape, op, where, itemSize(dtype));
  std::uint64_t words =
      static_cast<std::uint64_t>(numelOf(shape)) * uniformWords(dtype);
  std::uint64_t first = gen.advance((words + 3) / 4);
  // The key and the first block, as 32-bit halves (the op's operands).
  auto half = [](std::uint64_t v) {
    return scalarNode(
        Scalar(static_cast<std::int32_t>(static_cast<std::uint32_t>(v))),
        DType::Int32, {});
  };
  return record(OpCode::RandomUniform, dtype, std::move(shape),
                {half(gen.seed()), half(gen.seed() >> 32), half(first),
                 half(first >> 32)},
                device, {}, where);
}

} // namespace detail

/// Draws of at least this many elements on the CPU are computed by a
/// kernel, as every draw on another device is: its Philox rounds run
/// vectorized on every core, and fuse into the draw's consumers. Smaller
/// CPU draws stay in the loop above, which needs no compiled kernel (a
/// new shape's first kernel costs tens of milliseconds to compile).
constexpr std::int64_t kKernelDrawElements = 1 << 20;

Tensor rand(Shape shape, Generator &gen, TensorOptions options,
            SourceLoc where) {
  DType dtype = floatingDType(options, "rand", where);
  detail::checkShape(shape, "rand", where, itemSize(dtype));
  if (options.device != Device::cpu() || numelOf(shape) >= kKernelDrawElements)
    return detail::recordUniform(std::move(shape), dtype, gen, options.device,
                                 "rand", where);
  return uniform(std::move(shape), 0.0, 1.0, gen, options, where);
}
Tensor rand(Shape shape, TensorOptions options, SourceLoc where) {
  return rand(std::move(shape), defaultGenerator(), options, where);
}

Tensor normal(Shape shape, double mean, double std, Generator &gen,
              TensorOptions options, SourceLoc where) {
  DType dtype = floatingDType(options, "normal", where);
  if (!(std >= 0) || !std::isfinite(std) || !std::isfinite(mean))
    fail<ValueError>(where, "normal", "",
                     "needs a finite mean and std >= 0, "
                     "got mean={}, std={}",
                     mean, std);
  // Box-Muller on a pair of uniforms gives two normals: element i takes
  // the cosine branch when even and the sine branch when odd, both from the
  // pair of words at (i / 2). u1 is in (0, 1] so its log is finite.
  bool wide = dtype == kFloat64;
  int wordsPerPair = wide ? 4 : 2;
  detail::checkShape(shape, "normal", where);
  Tensor result = empty(std::move(shape), options.withDType(dtype), where);
  std::int64_t n = result.numel();
  std::uint64_t pairs = static_cast<std::uint64_t>(n + 1) / 2;
  std::uint64_t first = gen.advance((pairs * wordsPerPair + 3) / 4);
  std::vector<double> values(n);
  for (std::uint64_t pair = 0; pair < pairs; ++pair) {
    std::uint32_t w[4];
    for (int k = 0; k < wordsPerPair; ++k) {
      std::uint64_t index = pair * wordsPerPair + k;
      w[k] = gen.block(first + index / 4)[index % 4];
    }
    double u1, u2;
    if (wide) {
      u1 = static_cast<double>((((std::uint64_t(w[0]) << 32) | w[1]) >> 11) +
                               1) *
           0x1p-53;
      u2 = static_cast<double>(((std::uint64_t(w[2]) << 32) | w[3]) >> 11) *
           0x1p-53;
    } else {
      u1 = (static_cast<double>(w[0]) + 1.0) * 0x1p-32;
      u2 = static_cast<double>(w[1]) * 0x1p-32;
    }
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = 2.0 * std::numbers::pi * u2;
    values[2 * pair] = mean + std * radius * std::cos(angle);
    if (2 * pair + 1 < static_cast<std::uint64_t>(n))
      values[2 * pair + 1] = mean + std * radius * std::sin(angle);
  }
  result.copy_(fromVector(values, result.shape(), kFloat64), where);
  return result;
}

Tensor randn(Shape shape, Generator &gen, TensorOptions options,
             SourceLoc where) {
  return normal(std::move(shape), 0.0, 1.0, gen, options, where);
}
Tensor randn(Shape shape, TensorOptions options, SourceLoc where) {
  return randn(std::move(shape), defaultGenerator(), options, where);
}

Tensor randint(std::int64_t low, std::int64_t high, Shape shape, Generator &gen,
               TensorOptions options, SourceLoc where) {
  DType dtype = options.dtype.value_or(kDefaultInt);
  if (low >= high)
    fail<ValueError>(where, "randint", "high is exclusive: use high > low",
                     "empty range [{}, {})", low, high);
  bool fits = detail::dispatchDType(dtype, [&]<typename T>(detail::TypeTag<T>) {
    if constexpr (std::is_same_v<T, bool>)
      return low >= 0 && high - 1 <= 1;
    else if constexpr (std::is_integral_v<T>)
      return low >= std::numeric_limits<T>::min() &&
             high - 1 <= std::numeric_limits<T>::max();
    else
      return true;
  });
  if (!fits)
    fail<ValueError>(where, "randint", "choose a wider dtype",
                     "the range [{}, {}) does not fit in {}", low, high,
                     dtypeName(dtype));
  // 64 random bits per value, reduced modulo the range (bias below 2^-32
  // for ranges under 2^32).
  std::uint64_t range =
      static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  return generate<std::int64_t>(
      std::move(shape), dtype, gen, options, 2, "randint", where,
      [&](const std::uint32_t *w, std::int64_t) {
        std::uint64_t bits = (std::uint64_t(w[0]) << 32) | w[1];
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) +
                                         bits % range);
      });
}
Tensor randint(std::int64_t low, std::int64_t high, Shape shape,
               TensorOptions options, SourceLoc where) {
  return randint(low, high, std::move(shape), defaultGenerator(), options,
                 where);
}

Tensor bernoulli(Shape shape, double p, Generator &gen, TensorOptions options,
                 SourceLoc where) {
  if (!(p >= 0.0 && p <= 1.0))
    fail<ValueError>(where, "bernoulli", "",
                     "probability must be in [0, 1], "
                     "got {}",
                     p);
  DType dtype = options.dtype.value_or(kDefaultFloat);
  return generate<double>(std::move(shape), dtype, gen, options, 1, "bernoulli",
                          where, [&](const std::uint32_t *w, std::int64_t) {
                            return w[0] * 0x1p-32 < p ? 1.0 : 0.0;
                          });
}

Tensor bernoulli(const Tensor &probs, Generator &gen, SourceLoc where) {
  const TensorImpl &impl = detail::implOf(probs, "bernoulli", where);
  if (!isFloating(impl.dtype))
    fail<DTypeError>(where, "bernoulli", "convert with to(kFloat32) first",
                     "probabilities must be floating, got {}",
                     dtypeName(impl.dtype));
  std::vector<double> p = probs.toVector<double>();
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!(p[i] >= 0.0 && p[i] <= 1.0))
      fail<ValueError>(where, "bernoulli", "",
                       "probability {:g} at flat index {} is not in [0, 1]",
                       p[i], i);
  return generate<double>(impl.shape, impl.dtype, gen, TensorOptions(), 1,
                          "bernoulli", where,
                          [&](const std::uint32_t *w, std::int64_t i) {
                            return w[0] * 0x1p-32 < p[i] ? 1.0 : 0.0;
                          });
}

} // namespace trueno
