//===- FashionMnistModel.h - The main job's CNN -------------------*- C++
//-*-===//
//
// The model tools/trueno-fashion-mnist trains, shared with the GPU bench
// (benchmarks/VulkanBench.cpp times a training step of it).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_TOOLS_FASHIONMNISTMODEL_H
#define TRUENO_TOOLS_FASHIONMNISTMODEL_H

#include <trueno/nn/nn.h>

#include <memory>

namespace trueno::tools {

/// conv(1->32) relu pool, conv(32->64) relu pool, linear(3136->128) relu
/// dropout, linear(128->10): 421,642 parameters.
inline std::shared_ptr<nn::Sequential> makeFashionMnistModel() {
  nn::ConvOptions same{.padding = {1, 1}};
  return nn::make<nn::Sequential>(
      std::initializer_list<std::shared_ptr<nn::Module>>{
          nn::make<nn::Conv2d>(1, 32, 3, same), nn::make<nn::ReLU>(),
          nn::make<nn::MaxPool2d>(2), nn::make<nn::Conv2d>(32, 64, 3, same),
          nn::make<nn::ReLU>(), nn::make<nn::MaxPool2d>(2),
          nn::make<nn::Flatten>(), nn::make<nn::Linear>(64 * 7 * 7, 128),
          nn::make<nn::ReLU>(), nn::make<nn::Dropout>(0.25),
          nn::make<nn::Linear>(128, 10)});
}

} // namespace trueno::tools

#endif // TRUENO_TOOLS_FASHIONMNISTMODEL_H
