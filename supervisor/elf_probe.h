// Looks at an executable's ELF section headers without loading it.
// Thread-safety: thread-safe.
#ifndef CRASHCTL_SUPERVISOR_ELF_PROBE_H_
#define CRASHCTL_SUPERVISOR_ELF_PROBE_H_

#include <string>

namespace crashctl {
namespace supervisor {

// True if the ELF file at `path` has a section called `name`. False when the
// file cannot be read or is not ELF.
bool HasElfSection(const std::string& path, const std::string& name);

// True for a program built by the Go toolchain (section ".go.buildinfo",
// present since Go 1.13, or ".note.go.buildid").
bool IsGoBinary(const std::string& path);

// What the tracer needs to know about an executable, read in one pass over
// its section headers, dynamic section and dynamic symbols (bounded).
struct ExecutableFacts {
  bool elf = false;  // the file could be read as ELF
  bool go = false;   // see IsGoBinary
  // LeakSanitizer's runtime is in (ASan or LSan: DT_NEEDED libasan.so or
  // liblsan.so, or the symbol __lsan_do_leak_check exported, as clang links
  // it): at exit it ptraces its own threads, which fails while crashctl
  // traces them ("LeakSanitizer has encountered a fatal error").
  bool leak_sanitizer = false;
};
ExecutableFacts ProbeExecutable(const std::string& path);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_ELF_PROBE_H_
