// A program that knows nothing about crashctl, for the supervisor's process
// handling:
//   no_sdk_exit exit N      prints, exits with status N
//   no_sdk_exit sigkill     prints, kills itself with SIGKILL
//   no_sdk_exit sleep S     prints "ready", sleeps S seconds (to be signalled)
//   no_sdk_exit spam N      prints N numbered lines, exits 1
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "exit";
  int n = argc > 2 ? std::atoi(argv[2]) : 0;
  std::printf("no_sdk_exit: mode %s\n", mode);
  std::fprintf(stderr, "no_sdk_exit: stderr line\n");
  if (std::strcmp(mode, "exit") == 0) return n;
  if (std::strcmp(mode, "sigkill") == 0) {
    std::printf("no_sdk_exit: about to be killed\n");
    kill(getpid(), SIGKILL);
    pause();
  }
  if (std::strcmp(mode, "sleep") == 0) {
    std::printf("ready\n");
    for (int i = 0; i < n * 10; ++i) usleep(100 * 1000);
    return 0;
  }
  if (std::strcmp(mode, "spam") == 0) {
    for (int i = 1; i <= n; ++i) std::printf("line %d\n", i);
    return 1;
  }
  return 2;
}
