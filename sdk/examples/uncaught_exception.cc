// Throws an exception nobody catches: std::terminate, then SIGABRT. The
// report names std::out_of_range and its what().
#include <cstdio>
#include <stdexcept>

#include "crashctl/sdk.h"

namespace examples {

__attribute__((noinline)) int LookUp(int index) {
  std::printf("looking up %d\n", index);
  if (index > 3) {
    throw std::out_of_range("index 7 is out of range");  // FAULT-LINE
  }
  return index;
}

}  // namespace examples

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  crashctl::sdk::Options options;
  options.service = "example-uncaught";
  crashctl::sdk::Init(options);
  std::printf("uncaught_exception: starting\n");
  return examples::LookUp(7);
}
