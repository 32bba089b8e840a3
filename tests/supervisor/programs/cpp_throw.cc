// A C++ program without the crashctl SDK that dies of an uncaught exception:
// main -> load_config throws std::runtime_error; std::terminate prints its
// type and what() to stderr and aborts (SIGABRT).
#include <cstdio>
#include <stdexcept>
#include <string>

volatile int g_found = 0;

__attribute__((noinline)) int load_config(const std::string& name) {
  if (g_found == 0) {
    throw std::runtime_error("config file missing: " + name);  // THROW-LINE
  }
  return g_found;
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("cpp_throw: loading\n");
  int r = load_config("app.yaml");
  __asm__ volatile("" ::: "memory");
  return r;
}
