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

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_ELF_PROBE_H_
