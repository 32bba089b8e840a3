// Integer division by zero: dies of SIGFPE in examples::Divide.
#include <cstdio>

#include "crashctl/sdk.h"

namespace examples {

volatile int g_zero = 0;

__attribute__((noinline)) int Divide(int numerator) {
  std::printf("dividing %d\n", numerator);
  volatile int result = numerator / g_zero;  // FAULT-LINE
  return result;
}

}  // namespace examples

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  crashctl::sdk::Options options;
  options.service = "example-fpe";
  crashctl::sdk::Init(options);
  std::printf("divide_by_zero: starting\n");
  return examples::Divide(10);
}
