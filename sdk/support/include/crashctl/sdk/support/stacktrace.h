// Captures program counters of the calling thread and lists loaded modules.
// Thread-safety: thread-safe; not async-signal-safe (see crash_handler.h for
// the signal-context variants).
#ifndef CRASHCTL_SDK_SRC_STACKTRACE_H_
#define CRASHCTL_SDK_SRC_STACKTRACE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace crashctl {
namespace sdk {

// A loaded ELF object: `base` is its load bias (dl_iterate_phdr dlpi_addr).
struct Module {
  uint64_t base = 0;
  std::string path;
  bool main_executable = false;
};

// Every module of this process with a file on disk, main executable first.
std::vector<Module> LoadedModules();

// Program counters of the calling thread, innermost first (the first is
// inside CaptureStack's caller), at most `max` of them.
std::vector<uint64_t> CaptureStack(size_t max = 128);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_STACKTRACE_H_
