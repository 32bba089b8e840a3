#include "crashctl/sdk/support/symbolizer.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
// libiberty.h would declare basename() against glibc's C++ overloads.
#define HAVE_DECL_BASENAME 1
#include <libiberty/demangle.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "crashctl/sdk/support/util.h"

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

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Drops a trailing Rust hash, "::h" and 16 hex digits, if one is left.
void StripRustHash(std::string* name) {
  const size_t n = name->size();
  if (n < 19 || name->compare(n - 19, 3, "::h") != 0) return;
  for (size_t i = n - 16; i < n; ++i) {
    if (!IsHex((*name)[i])) return;
  }
  name->erase(n - 19);
}

// True for a legacy Rust symbol: _ZN ... 17h<16 hex>E.
bool LooksLikeLegacyRust(const std::string& s) {
  const size_t n = s.size();
  if (s.rfind("_ZN", 0) != 0 || n < 3 + 20 || s[n - 1] != 'E') return false;
  if (s.compare(n - 20, 3, "17h") != 0) return false;
  for (size_t i = n - 17; i < n - 1; ++i) {
    if (!IsHex(s[i])) return false;
  }
  return true;
}

// Standard-library code, wherever it was linked.
bool IsStandardLibrary(const std::string& function) {
  static const char* const kPrefixes[] = {
      "std::",    "core::",  "alloc::",      "<std::", "<core::",
      "<alloc::", "__rust_", "__libc_start", "__GI_",  "_dl_",
  };
  for (const char* p : kPrefixes) {
    if (function.rfind(p, 0) == 0) return true;
  }
  return false;
}

// Executables that run the program rather than being it: their own frames
// are the runtime's, not the application's.
bool IsInterpreter(const std::string& base) {
  static const char* const kInterpreters[] = {
      "python", "pypy", "node",    "nodejs", "deno",     "bun",    "ruby",
      "perl",   "php",  "java",    "lua",    "luajit",   "bash",   "sh",
      "dash",   "zsh",  "Rscript", "erl",    "beam.smp", "dotnet", "mono",
  };
  for (const char* name : kInterpreters) {
    const size_t n = std::strlen(name);
    if (base.compare(0, n, name) != 0) continue;
    // "python3", "python3.11", "ruby3.1", "php8.2": the name, then a version.
    bool version = true;
    for (size_t i = n; i < base.size(); ++i) {
      if (!((base[i] >= '0' && base[i] <= '9') || base[i] == '.')) {
        version = false;
      }
    }
    if (version) return true;
  }
  return false;
}

}  // namespace

std::string DemangleSymbol(const std::string& symbol) {
  if (symbol.empty()) return symbol;
  if (symbol.rfind("_R", 0) == 0 || LooksLikeLegacyRust(symbol)) {
    std::unique_ptr<char, void (*)(void*)> out(
        rust_demangle(symbol.c_str(), DMGL_PARAMS | DMGL_ANSI), std::free);
    if (out) {
      std::string name = out.get();
      StripRustHash(&name);
      return name;
    }
  }
  std::string name = Demangle(symbol);
  // A Rust symbol libiberty declined (e.g. a hash it found implausible) is
  // still a valid C++ name: the C++ demangler leaves "::h<hash>".
  if (LooksLikeLegacyRust(symbol)) StripRustHash(&name);
  return name;
}

bool IsInApp(const std::string& module_path, bool main_executable,
             const std::string& function) {
  if (function.rfind("crashctl::sdk::", 0) == 0) return false;
  if (function == "_start") return false;  // C runtime entry point
  if (IsStandardLibrary(function)) return false;
  if (main_executable) return !IsInterpreter(BaseName(module_path));
  static const char* const kSystem[] = {
      "libc.so",         "libc-",       "libstdc++",  "libgcc",
      "ld-linux",        "libm.so",     "libpthread", "libdl.so",
      "librt.so",        "libcurl",     "libunwind",  "libdw",
      "libelf",          "libz.so",     "libssl",     "libcrypto",
      "libnghttp",       "libcivetweb", "libgnutls",  "libidn",
      "libssh",          "libpsl",      "libbrotli",  "libzstd",
      "liblzma",         "libbz2",      "libgssapi",  "libkrb5",
      "libk5",           "libldap",     "liblber",    "libsasl",
      "libcom_err",      "libkeyutils", "libresolv",  "libffi",
      "libprometheus",   "libspdlog",   "libfmt",     "libyaml-cpp",
      "libsqlite3",      "linux-vdso",  "libasan",    "libubsan",
      "libtsan",         "libstd-",     "libpython",  "libjvm",
      "libjava",         "libjli",      "libnode",    "libv8",
      "libruby",         "libperl",     "libphp",     "libgo.so",
      "libcoreclr",      "libclrjit",   "libmono",    "libluajit",
      "liblua",          "libgfortran", "libgomp",    "libatomic",
      "libquadmath",     "libmvec",
      "libcrashctl_sdk",  // the SDK itself, when linked shared
  };
  std::string base = BaseName(module_path);
  for (const char* s : kSystem) {
    if (base.rfind(s, 0) == 0) return false;
  }
  if (module_path.rfind("/lib", 0) == 0 ||
      module_path.rfind("/usr/lib", 0) == 0) {
    return false;
  }
  // Python's own extension modules and installed packages, wherever the
  // interpreter lives (pyenv, venvs, /opt).
  static const char* const kRuntimeDirs[] = {"/lib-dynload/", "/site-packages/",
                                             "/dist-packages/"};
  for (const char* dir : kRuntimeDirs) {
    if (module_path.find(dir) != std::string::npos) return false;
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

Symbolizer::Symbolizer(Dwfl* dwfl, const std::vector<Module>& modules)
    : dwfl_(dwfl), owns_dwfl_(false), modules_(modules) {}

Symbolizer::~Symbolizer() {
  if (dwfl_ != nullptr && owns_dwfl_) dwfl_end(dwfl_);
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
      // Finds the module's file first: a module reported from a live
      // process' maps names its file only once it was looked for.
      Dwarf_Addr elf_bias = 0;
      (void)dwfl_module_getelf(mod, &elf_bias);
      const char* main_file = nullptr;
      Dwarf_Addr start = 0;
      const char* name = dwfl_module_info(
          mod, nullptr, &start, nullptr, nullptr, nullptr, &main_file, nullptr);
      if (main_file == nullptr) main_file = name;
      f.image_addr = start;
      for (const Module& m : modules_) {
        if (main_file != nullptr && m.path == main_file) {
          f.module = m.path;
          main_exe = m.main_executable;
          break;
        }
      }
      if (f.module.empty() && main_file != nullptr) f.module = main_file;
      bool in_app_module = IsInApp(f.module, main_exe, "");
      GElf_Off offset = 0;
      GElf_Sym elf_sym;
      const char* sym = dwfl_module_addrinfo(mod, lookup, &offset, &elf_sym,
                                             nullptr, nullptr, nullptr);
      if (sym != nullptr) {
        f.function = DemangleSymbol(sym);
        f.symbol_addr = lookup - offset;
      }
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

std::vector<Frame> Symbolizer::Symbolize(const std::vector<uint64_t>& pcs,
                                         const std::vector<bool>& exact) {
  std::vector<Frame> frames;
  frames.reserve(pcs.size());
  for (size_t i = pcs.size(); i-- > 0;) {
    frames.push_back(SymbolizeOne(pcs[i], i < exact.size() && exact[i]));
  }
  return frames;
}

}  // namespace sdk
}  // namespace crashctl
