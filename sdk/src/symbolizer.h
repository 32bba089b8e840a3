// Turns raw program counters into Sentry frames with elfutils' libdwfl, using
// the modules' files on disk and their load addresses. Works for this process
// as well as for another (crashed) one.
// Thread-safety: a Symbolizer is not thread-safe; use one per thread.
#ifndef CRASHCTL_SDK_SRC_SYMBOLIZER_H_
#define CRASHCTL_SDK_SRC_SYMBOLIZER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "sdk/src/stacktrace.h"

struct Dwfl;
struct Dwfl_Module;

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
  // Address range of one compilation unit, relative to its module's bias.
  struct CuRange {
    uint64_t start = 0;
    uint64_t end = 0;        // exclusive
    uint64_t cu_offset = 0;  // of the unit's DIE in .debug_info
  };

  Frame SymbolizeOne(uint64_t pc, bool exact);
  // The source line of `address` in `module`: libdwfl's lookup, which finds
  // the unit through .debug_aranges, else the unit whose own address ranges
  // hold it. Clang emits no .debug_aranges unless asked
  // (-gdwarf-aranges), and elfutils 0.188 then finds no unit at all.
  bool SourceLine(Dwfl_Module* module, uint64_t address, std::string* file,
                  int* line);
  // The module's units' ranges, sorted by start; read on first use.
  const std::vector<CuRange>& CuRanges(Dwfl_Module* module);

  Dwfl* dwfl_ = nullptr;
  std::vector<Module> modules_;
  std::map<Dwfl_Module*, std::vector<CuRange>> cu_ranges_;
};

// True for frames of the program itself: the main executable or a shared
// object that is not a system/runtime library, and not the SDK's own code.
bool IsInApp(const std::string& module_path, bool main_executable,
             const std::string& function);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_SYMBOLIZER_H_
