// A program that knows nothing about crashctl and dies of SIGSEGV.
#include <cstdio>

int* volatile g_target = nullptr;

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("no_sdk_segv: line 1\n");
  std::printf("no_sdk_segv: line 2\n");
  std::fprintf(stderr, "no_sdk_segv: crashing now\n");
  *g_target = 1;
  return 0;
}
