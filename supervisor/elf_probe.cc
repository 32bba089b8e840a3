#include "supervisor/elf_probe.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>

namespace crashctl {
namespace supervisor {

bool HasElfSection(const std::string& path, const std::string& name) {
  if (elf_version(EV_CURRENT) == EV_NONE) return false;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool found = false;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  size_t strndx = 0;
  if (elf != nullptr && elf_kind(elf) == ELF_K_ELF &&
      elf_getshdrstrndx(elf, &strndx) == 0) {
    Elf_Scn* scn = nullptr;
    // Bounded: a real program has well under 100 sections.
    for (int i = 0; i < 4096 && (scn = elf_nextscn(elf, scn)) != nullptr; ++i) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr) continue;
      const char* section = elf_strptr(elf, strndx, shdr.sh_name);
      if (section != nullptr && name == section) {
        found = true;
        break;
      }
    }
  }
  if (elf != nullptr) elf_end(elf);
  close(fd);
  return found;
}

bool IsGoBinary(const std::string& path) {
  return HasElfSection(path, ".go.buildinfo") ||
         HasElfSection(path, ".note.go.buildid");
}

}  // namespace supervisor
}  // namespace crashctl
