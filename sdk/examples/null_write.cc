// Writes through a null pointer: dies of SIGSEGV in examples::WriteThroughNull.
#include <cstdio>

#include "crashctl/sdk.h"

namespace examples {

int* volatile g_target = nullptr;

__attribute__((noinline)) void WriteThroughNull(int value) {
  std::printf("writing %d\n", value);
  *g_target = value;  // FAULT-LINE
  std::printf("not reached\n");
}

}  // namespace examples

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  crashctl::sdk::Options options;
  options.service = "example-segv";
  crashctl::sdk::Init(options);
  std::printf("null_write: starting\n");
  std::fprintf(stderr, "null_write: about to write through null\n");
  examples::WriteThroughNull(42);
  return 0;
}
