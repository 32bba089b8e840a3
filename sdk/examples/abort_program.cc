// Calls abort(): dies of SIGABRT in examples::GiveUp.
#include <cstdio>
#include <cstdlib>

#include "crashctl/sdk.h"

namespace examples {

__attribute__((noinline)) void GiveUp(const char* why) {
  std::fprintf(stderr, "giving up: %s\n", why);
  std::abort();  // FAULT-LINE
}

}  // namespace examples

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  crashctl::sdk::Options options;
  options.service = "example-abort";
  crashctl::sdk::Init(options);
  std::printf("abort_program: starting\n");
  examples::GiveUp("invariant broken");
  return 0;
}
