#include "sdk/src/symbolizer.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstring>

#include "sdk/src/util.h"

namespace crashctl {
namespace sdk {
namespace {

char* g_debuginfo_path = nullptr;

const Dwfl_Callbacks kCallbacks = {
    dwfl_build_id_find_elf,
    dwfl_standard_find_debuginfo,
    dwfl_offline_section_address,
    &g_debuginfo_path,
};

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool IsInApp(const std::string& module_path, bool main_executable,
             const std::string& function) {
  if (function.rfind("crashctl::sdk::", 0) == 0) return false;
  if (function == "_start") return false;  // C runtime entry point
  if (main_executable) return true;
  static const char* const kSystem[] = {
      "libc.so",       "libc-",       "libstdc++",  "libgcc",
      "ld-linux",      "libm.so",     "libpthread", "libdl.so",
      "librt.so",      "libcurl",     "libunwind",  "libdw",
      "libelf",        "libz.so",     "libssl",     "libcrypto",
      "libnghttp",     "libcivetweb", "libgnutls",  "libidn",
      "libssh",        "libpsl",      "libbrotli",  "libzstd",
      "liblzma",       "libbz2",      "libgssapi",  "libkrb5",
      "libk5",         "libldap",     "liblber",    "libsasl",
      "libcom_err",    "libkeyutils", "libresolv",  "libffi",
      "libprometheus", "libspdlog",   "libfmt",     "libyaml-cpp",
      "libsqlite3",    "linux-vdso",  "libasan",    "libubsan",
      "libtsan",
  };
  std::string base = BaseName(module_path);
  for (const char* s : kSystem) {
    if (base.rfind(s, 0) == 0) return false;
  }
  if (module_path.rfind("/lib", 0) == 0 ||
      module_path.rfind("/usr/lib", 0) == 0) {
    return false;
  }
  return true;
}

Symbolizer::Symbolizer(const std::vector<Module>& modules) : modules_(modules) {
  dwfl_ = dwfl_begin(&kCallbacks);
  if (dwfl_ == nullptr) return;
  dwfl_report_begin(dwfl_);
  for (const Module& m : modules_) {
    dwfl_report_elf(dwfl_, BaseName(m.path).c_str(), m.path.c_str(), -1,
                    static_cast<GElf_Addr>(m.base), true);
  }
  dwfl_report_end(dwfl_, nullptr, nullptr);
}

Symbolizer::~Symbolizer() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

bool Symbolizer::SourceLine(Dwfl_Module* module, uint64_t address,
                            std::string* file, int* line) {
  if (Dwfl_Line* found = dwfl_module_getsrc(module, address)) {
    int lineno = 0;
    const char* name =
        dwfl_lineinfo(found, nullptr, &lineno, nullptr, nullptr, nullptr);
    if (name != nullptr) *file = name;
    *line = lineno;
    return name != nullptr;
  }
  Dwarf_Addr bias = 0;
  Dwarf* dwarf = dwfl_module_getdwarf(module, &bias);
  if (dwarf == nullptr || address < bias) return false;
  const uint64_t relative = address - bias;
  const std::vector<CuRange>& ranges = CuRanges(module);
  // The last range starting at or before the address.
  auto it = std::upper_bound(
      ranges.begin(), ranges.end(), relative,
      [](uint64_t a, const CuRange& r) { return a < r.start; });
  if (it == ranges.begin() || relative >= std::prev(it)->end) return false;
  Dwarf_Die cu;
  if (dwarf_offdie(dwarf, std::prev(it)->cu_offset, &cu) == nullptr) {
    return false;
  }
  Dwarf_Line* found = dwarf_getsrc_die(&cu, relative);
  if (found == nullptr) return false;
  const char* name = dwarf_linesrc(found, nullptr, nullptr);
  if (name == nullptr) return false;
  *file = name;
  dwarf_lineno(found, line);
  return true;
}

const std::vector<Symbolizer::CuRange>& Symbolizer::CuRanges(
    Dwfl_Module* module) {
  auto inserted = cu_ranges_.emplace(module, std::vector<CuRange>());
  std::vector<CuRange>& ranges = inserted.first->second;
  if (!inserted.second) return ranges;
  Dwarf_Addr bias = 0;
  for (Dwarf_Die* cu = dwfl_module_nextcu(module, nullptr, &bias);
       cu != nullptr; cu = dwfl_module_nextcu(module, cu, &bias)) {
    Dwarf_Addr base = 0, start = 0, end = 0;
    ptrdiff_t next = 0;
    while ((next = dwarf_ranges(cu, next, &base, &start, &end)) > 0) {
      if (start < end) ranges.push_back({start, end, dwarf_dieoffset(cu)});
    }
  }
  std::sort(
      ranges.begin(), ranges.end(),
      [](const CuRange& a, const CuRange& b) { return a.start < b.start; });
  return ranges;
}

Frame Symbolizer::SymbolizeOne(uint64_t pc, bool exact) {
  Frame f;
  f.instruction_addr = pc;
  // A return address points after the call; look up the call itself.
  Dwarf_Addr lookup = exact || pc == 0 ? pc : pc - 1;
  bool main_exe = false;
  if (dwfl_ != nullptr) {
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, lookup);
    if (mod != nullptr) {
      const char* main_file = nullptr;
      Dwarf_Addr start = 0;
      const char* name = dwfl_module_info(
          mod, nullptr, &start, nullptr, nullptr, nullptr, &main_file, nullptr);
      (void)name;
      for (const Module& m : modules_) {
        if (main_file != nullptr && m.path == main_file) {
          f.module = m.path;
          main_exe = m.main_executable;
          break;
        }
      }
      if (f.module.empty() && main_file != nullptr) f.module = main_file;
      bool in_app_module = IsInApp(f.module, main_exe, "");
      const char* sym = dwfl_module_addrname(mod, lookup);
      if (sym != nullptr) f.function = Demangle(sym);
      // GCC splits cold paths (e.g. catch blocks) into "f [clone .cold]".
      size_t clone = f.function.find(" [clone ");
      if (clone != std::string::npos) f.function.erase(clone);
      // Symbol versions: "__libc_start_main@@GLIBC_2.34".
      size_t version = f.function.find('@');
      if (version != std::string::npos && version > 0)
        f.function.erase(version);
      // Source lines only for the program's own code: system libraries'
      // (distro) debug info is slow to load and not what users debug.
      if (in_app_module) SourceLine(mod, lookup, &f.filename, &f.lineno);
    }
  }
  if (f.module.empty()) {
    // Fall back to the module whose base is the closest below the pc.
    const Module* best = nullptr;
    for (const Module& m : modules_) {
      if (m.base <= pc && (best == nullptr || m.base > best->base)) best = &m;
    }
    if (best != nullptr) {
      f.module = best->path;
      main_exe = best->main_executable;
    }
  }
  f.in_app = IsInApp(f.module, main_exe, f.function);
  return f;
}

std::vector<Frame> Symbolizer::Symbolize(const std::vector<uint64_t>& pcs,
                                         bool first_is_exact) {
  std::vector<Frame> frames;
  frames.reserve(pcs.size());
  for (size_t i = pcs.size(); i-- > 0;) {
    frames.push_back(SymbolizeOne(pcs[i], i == 0 && first_is_exact));
  }
  return frames;
}

}  // namespace sdk
}  // namespace crashctl
