#include "crashctl/sdk/support/stacktrace.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <unistd.h>

#include <climits>

namespace crashctl {
namespace sdk {
namespace {

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

int OnObject(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<Module>*>(data);
  Module m;
  m.base = info->dlpi_addr;
  if (out->empty()) {
    // The first object is the main program; its name is "".
    m.path = SelfExe();
    m.main_executable = true;
  } else {
    if (info->dlpi_name == nullptr || info->dlpi_name[0] != '/') return 0;
    m.path = info->dlpi_name;
  }
  if (!m.path.empty() && out->size() < 4096) out->push_back(m);
  return 0;
}

}  // namespace

std::vector<Module> LoadedModules() {
  std::vector<Module> out;
  dl_iterate_phdr(OnObject, &out);
  return out;
}

std::vector<uint64_t> CaptureStack(size_t max) {
  std::vector<uint64_t> pcs;
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw_getcontext(&context) != 0) return pcs;
  if (unw_init_local(&cursor, &context) != 0) return pcs;
  // Skip CaptureStack itself.
  if (unw_step(&cursor) <= 0) return pcs;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    pcs.push_back(static_cast<uint64_t>(ip));
  } while (pcs.size() < max && unw_step(&cursor) > 0);
  return pcs;
}

}  // namespace sdk
}  // namespace crashctl
