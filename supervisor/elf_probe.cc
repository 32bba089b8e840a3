#include "elf_probe.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
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

bool IsGoBinary(const std::string& path) { return ProbeExecutable(path).go; }

ExecutableFacts ProbeExecutable(const std::string& path) {
  ExecutableFacts facts;
  if (elf_version(EV_CURRENT) == EV_NONE) return facts;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return facts;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  size_t strndx = 0;
  if (elf != nullptr && elf_kind(elf) == ELF_K_ELF &&
      elf_getshdrstrndx(elf, &strndx) == 0) {
    facts.elf = true;
    Elf_Scn* scn = nullptr;
    for (int i = 0; i < 4096 && (scn = elf_nextscn(elf, scn)) != nullptr; ++i) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr) continue;
      const char* name = elf_strptr(elf, strndx, shdr.sh_name);
      if (name != nullptr && (std::strcmp(name, ".go.buildinfo") == 0 ||
                              std::strcmp(name, ".note.go.buildid") == 0)) {
        facts.go = true;
      }
      if (shdr.sh_type != SHT_DYNAMIC && shdr.sh_type != SHT_DYNSYM) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr || shdr.sh_entsize == 0) continue;
      const size_t n = std::min<size_t>(shdr.sh_size / shdr.sh_entsize, 200000);
      for (size_t k = 0; k < n && !facts.leak_sanitizer; ++k) {
        const char* s = nullptr;
        if (shdr.sh_type == SHT_DYNAMIC) {
          GElf_Dyn dyn;
          if (gelf_getdyn(data, static_cast<int>(k), &dyn) == nullptr) break;
          if (dyn.d_tag != DT_NEEDED) continue;
          s = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
          if (s != nullptr && (std::strncmp(s, "libasan.so", 10) == 0 ||
                               std::strncmp(s, "liblsan.so", 10) == 0)) {
            facts.leak_sanitizer = true;
          }
        } else {
          GElf_Sym sym;
          if (gelf_getsym(data, static_cast<int>(k), &sym) == nullptr) break;
          s = elf_strptr(elf, shdr.sh_link, sym.st_name);
          if (s != nullptr && sym.st_shndx != SHN_UNDEF &&
              std::strcmp(s, "__lsan_do_leak_check") == 0) {
            facts.leak_sanitizer = true;
          }
        }
      }
    }
  }
  if (elf != nullptr) elf_end(elf);
  close(fd);
  return facts;
}

}  // namespace supervisor
}  // namespace crashctl
