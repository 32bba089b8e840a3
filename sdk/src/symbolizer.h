// Turns raw program counters into Sentry frames with elfutils' libdwfl, using
// the modules' files on disk and their load addresses. Works for this process
// as well as for another (crashed) one.
// Thread-safety: a Symbolizer is not thread-safe; use one per thread.
#ifndef CRASHCTL_SDK_SRC_SYMBOLIZER_H_
#define CRASHCTL_SDK_SRC_SYMBOLIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "sdk/src/stacktrace.h"

struct Dwfl;

namespace crashctl {
namespace sdk {

class Symbolizer {
 public:
  explicit Symbolizer(const std::vector<Module>& modules);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // `pcs` innermost first. `first_is_exact`: pcs[0] is the faulting
  // instruction (a signal frame), not a return address. Returns frames in
  // Sentry order: outermost first, innermost last.
  std::vector<Frame> Symbolize(const std::vector<uint64_t>& pcs,
                               bool first_is_exact);

 private:
  Frame SymbolizeOne(uint64_t pc, bool exact);

  Dwfl* dwfl_ = nullptr;
  std::vector<Module> modules_;
};

// True for frames of the program itself: the main executable or a shared
// object that is not a system/runtime library, and not the SDK's own code.
bool IsInApp(const std::string& module_path, bool main_executable,
             const std::string& function);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_SYMBOLIZER_H_
