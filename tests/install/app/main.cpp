// A user's program: only the installed headers and library.
#include <trueno/trueno.h>

#include <iostream>

int main() {
  auto x = trueno::arange(10);
  std::int64_t sum = 0;
  for (std::int64_t v : x.toVector<std::int64_t>())
    sum += v;
  std::cout << "sum of arange(10) = " << sum << "\n"
            << x.reshape({2, 5}).T() << "\n";
  return sum == 45 ? 0 : 1;
}
