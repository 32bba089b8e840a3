// Test-only stand-in for `crashctl run`: `run_driver ARGS...` behaves like
// `crashctl run ARGS...`.
#include "crashctl/supervisor/run_main.h"

int main(int argc, char** argv) {
  return crashctl::supervisor::RunMain(argc - 1, argv + 1);
}
