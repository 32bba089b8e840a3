#include "sdk/src/symbolizer.h"

#include <elfutils/libdwfl.h>

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
      Dwfl_Line* line =
          in_app_module ? dwfl_module_getsrc(mod, lookup) : nullptr;
      if (line != nullptr) {
        int lineno = 0;
        const char* file =
            dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
        if (file != nullptr) f.filename = file;
        f.lineno = lineno;
      }
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
