// libFuzzer target: core/config.h LoadConfig on a YAML file whose content is
// the input. LoadConfig only takes a path, so the input is written to an
// in-memory file (memfd) and passed as /proc/self/fd/N. The environment and
// flags are empty so that only the file is exercised. Also ParseDuration on
// the raw input.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "crashctl/core/config.h"

namespace {

int MemFd() {
  static const int fd = memfd_create("crashctl-config-fuzz", 0);
  if (fd < 0) std::abort();
  return fd;
}

bool WriteAll(int fd, const uint8_t* data, size_t size) {
  if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) return false;
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = MemFd();
  if (!WriteAll(fd, data, size)) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const std::map<std::string, std::string> none;
  crashctl::core::Config config;
  std::string error;
  if (!crashctl::core::LoadConfig(path, none, none, &config, &error) &&
      error.empty()) {
    std::abort();
  }

  double seconds = 0;
  std::string text(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  if (crashctl::core::ParseDuration(text, &seconds) && !(seconds >= 0)) {
    std::abort();  // negative or NaN durations are documented as errors
  }
  return 0;
}
