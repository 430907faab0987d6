// A user's program: only the installed headers and libraries (the tensor
// library and the training libraries on top of it).
#include <trueno/io/Checkpoint.h>
#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/trueno.h>

#include <iostream>

int main() {
  auto x = trueno::arange(10);
  std::int64_t sum = 0;
  for (std::int64_t v : x.toVector<std::int64_t>())
    sum += v;
  std::cout << "sum of arange(10) = " << sum << "\n"
            << x.reshape({2, 5}).T() << "\n";
  // Two SGD steps of a linear layer reduce its loss.
  trueno::manualSeed(1);
  trueno::nn::Linear layer(3, 1);
  trueno::optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  auto input = trueno::randn({8, 3}), target = trueno::ones({8, 1});
  double losses[2];
  for (double &l : losses) {
    auto loss = trueno::mseLoss(layer(input), target);
    sgd.zeroGrad();
    loss.backward();
    sgd.step();
    l = loss.item<double>();
  }
  auto bytes = trueno::io::encodeSafetensors(layer.stateDict());
  std::cout << "losses " << losses[0] << " " << losses[1] << ", checkpoint "
            << bytes.size() << " bytes\n";
  return sum == 45 && losses[1] < losses[0] ? 0 : 1;
}
