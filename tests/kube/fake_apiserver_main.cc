// fake-apiserver: runs FakeApiServer for end-to-end tests.
//
//   fake-apiserver [--port N] [--scenario NAME]
//
// Prints "listening on http://127.0.0.1:PORT" on stdout once ready, then
// serves until SIGTERM/SIGINT. Scenarios: see fake_scenarios.h; control
// endpoints (/_control/...): see fake_apiserver.h.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_apiserver.h"
#include "fake_scenarios.h"

int main(int argc, char** argv) {
  int port = 0;
  std::string scenario = "empty";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (arg == "--scenario" && i + 1 < argc) {
      scenario = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: fake-apiserver [--port N] [--scenario NAME]\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before civetweb's threads

  crashctl::testing::FakeApiServer server;
  std::string error;
  if (!crashctl::testing::LoadScenario(&server, scenario, &error)) {
    std::fprintf(stderr, "fake-apiserver: %s\n", error.c_str());
    return 2;
  }
  if (!server.Start(port, &error)) {
    std::fprintf(stderr, "fake-apiserver: %s\n", error.c_str());
    return 1;
  }
  std::printf("listening on %s\n", server.url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  return 0;
}
