// Turns raw program counters into Sentry frames with elfutils' libdwfl, using
// the modules' files on disk and their load addresses. Works for this process
// as well as for another (crashed) one, and over a Dwfl that someone else
// built (the supervisor's ptrace unwinder reports a live process' modules).
// Thread-safety: a Symbolizer is not thread-safe; use one per thread.
#ifndef CRASHCTL_SDK_SRC_SYMBOLIZER_H_
#define CRASHCTL_SDK_SRC_SYMBOLIZER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "crashctl/sdk/support/stacktrace.h"

struct Dwfl;
struct Dwfl_Module;

namespace crashctl {
namespace sdk {

class Symbolizer {
 public:
  explicit Symbolizer(const std::vector<Module>& modules);
  // Uses `dwfl` (modules already reported; not owned, must outlive this).
  // `modules` only tells which path is the main executable.
  Symbolizer(Dwfl* dwfl, const std::vector<Module>& modules);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // `pcs` innermost first. `first_is_exact`: pcs[0] is the faulting
  // instruction (a signal frame), not a return address. Returns frames in
  // Sentry order: outermost first, innermost last.
  std::vector<Frame> Symbolize(const std::vector<uint64_t>& pcs,
                               bool first_is_exact);
  // The same with a flag per pc: `exact[i]` when pcs[i] is the instruction
  // itself (the innermost frame, or one a signal interrupted), not a return
  // address. Missing flags count as false.
  std::vector<Frame> Symbolize(const std::vector<uint64_t>& pcs,
                               const std::vector<bool>& exact);

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
  bool owns_dwfl_ = true;
  std::vector<Module> modules_;
  std::map<Dwfl_Module*, std::vector<CuRange>> cu_ranges_;
};

// Frames of the program itself: the main executable or a shared object that
// is not a system library (libc, libm, libpthread, libstdc++, libgcc_s,
// ld-linux, anything under /lib or /usr/lib) or a language runtime (Rust's
// libstd-*.so, libpython*, libjvm, libnode, ...), and not an interpreter's
// own executable (python3.11, node, ruby, java, ...), nor a function of the
// SDK, the C runtime's entry point or the Rust/C++ standard library
// ("std::", "core::", "alloc::", also inside "<...>" impl paths).
bool IsInApp(const std::string& module_path, bool main_executable,
             const std::string& function);

// A symbol as people read it: Rust symbols (legacy "_ZN...17h<hash>E" and
// v0 "_R...") demangled by libiberty without the hash, C++ symbols by the
// C++ ABI's demangler; anything else unchanged. Never throws.
std::string DemangleSymbol(const std::string& symbol);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_SYMBOLIZER_H_
