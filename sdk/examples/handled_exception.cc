// A program that catches an exception and reports it, then exits cleanly.
// The report carries the nested chain (root cause first) and a stack trace
// whose top in-app frame is examples::HandleRequest.
#include <cstdio>
#include <stdexcept>
#include <string>

#include "crashctl/sdk.h"

namespace examples {

__attribute__((noinline)) int LoadConfig(const std::string& path) {
  std::printf("loading config %s\n", path.c_str());
  throw std::runtime_error("cannot open " + path);
}

__attribute__((noinline)) void HandleRequest(int id) {
  try {
    try {
      LoadConfig("/etc/example.conf");
    } catch (...) {
      std::throw_with_nested(
          std::invalid_argument("request " + std::to_string(id)));
    }
  } catch (const std::exception& e) {
    crashctl::sdk::EventOptions opts;
    opts.tags["request_id"] = std::to_string(id);
    crashctl::sdk::CaptureException(e, opts);  // CAPTURE-LINE
  }
}

}  // namespace examples

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  crashctl::sdk::Options options;  // DSN from env CRASHCTL_DSN
  options.service = "example-handled";
  options.release = "examples@1.0";
  crashctl::sdk::Init(options);
  crashctl::sdk::AddBreadcrumb("startup", "config phase");
  examples::HandleRequest(7);
  bool flushed = crashctl::sdk::Flush(std::chrono::seconds(5));
  std::printf("flushed=%d\n", flushed ? 1 : 0);
  crashctl::sdk::Shutdown();
  return flushed ? 0 : 3;
}
