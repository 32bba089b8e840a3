#include "oom.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crashctl {
namespace supervisor {
namespace {

constexpr int kMaxLines = 4096;

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::string text;
  char buf[4096];
  // Bounded: these files are a few KiB; mountinfo may be longer.
  for (int i = 0; i < 256 && in.read(buf, sizeof(buf)).gcount() > 0; ++i) {
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  return text;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// The directory of cgroup `path` in a hierarchy mounted at `mount_point`
// whose root is `mount_root`.
std::string Join(const std::string& mount_point, const std::string& mount_root,
                 std::string path) {
  if (mount_root != "/" && path.rfind(mount_root, 0) == 0) {
    path.erase(0, mount_root.size());
  }
  if (path == "/") path.clear();
  if (!path.empty() && path[0] != '/') path.insert(0, "/");
  return mount_point + path;
}

int64_t ReadNumber(const std::string& path) {
  std::string text = ReadSmallFile(path);
  if (text.empty()) return -1;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || v < 0) return -1;
  return static_cast<int64_t>(v);
}

}  // namespace

CgroupPaths ParseCgroupPaths(const std::string& proc_cgroup,
                             const std::string& mountinfo) {
  std::string v2_path, v1_path;
  bool have_v2 = false, have_v1 = false;
  std::istringstream cg(proc_cgroup);
  std::string line;
  for (int i = 0; i < kMaxLines && std::getline(cg, line); ++i) {
    // hierarchy-id:controller-list:path
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      v2_path = path;
      have_v2 = true;
    } else {
      for (const std::string& c : Split(controllers, ',')) {
        if (c == "memory") {
          v1_path = path;
          have_v1 = true;
        }
      }
    }
  }
  CgroupPaths out;
  std::istringstream mi(mountinfo);
  for (int i = 0; i < kMaxLines && std::getline(mi, line); ++i) {
    // id parent major:minor root mount-point options [optional...] - type
    // source super-options
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> left = Split(line.substr(0, dash), ' ');
    std::vector<std::string> right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string& root = left[3];
    const std::string& mount_point = left[4];
    if (right[0] == "cgroup2" && have_v2 && out.v2_dir.empty()) {
      out.v2_dir = Join(mount_point, root, v2_path);
    } else if (right[0] == "cgroup" && have_v1 && out.v1_memory_dir.empty()) {
      for (const std::string& opt : Split(right[2], ',')) {
        if (opt == "memory")
          out.v1_memory_dir = Join(mount_point, root, v1_path);
      }
    }
  }
  return out;
}

CgroupPaths FindCgroupPaths() {
  return ParseCgroupPaths(ReadSmallFile("/proc/self/cgroup"),
                          ReadSmallFile("/proc/self/mountinfo"));
}

std::string MemoryEventsPath() {
  CgroupPaths paths = FindCgroupPaths();
  return paths.v2_dir.empty() ? "" : paths.v2_dir + "/memory.events";
}

long ReadOomKills(const std::string& path) {
  if (path.empty()) return -1;
  std::ifstream in(path);
  if (!in) return -1;
  std::string key;
  long value = 0;
  // /proc/vmstat has about 200 lines.
  for (int i = 0; i < kMaxLines && (in >> key >> value); ++i) {
    if (key == "oom_kill") return value;
  }
  return -1;
}

OomCounters ReadOomCounters(const CgroupPaths& paths) {
  OomCounters c;
  if (!paths.v2_dir.empty())
    c.v2 = ReadOomKills(paths.v2_dir + "/memory.events");
  if (!paths.v1_memory_dir.empty()) {
    c.v1 = ReadOomKills(paths.v1_memory_dir + "/memory.oom_control");
  }
  c.system = ReadOomKills("/proc/vmstat");
  return c;
}

std::string OomEvidence(const OomCounters& before, const OomCounters& after) {
  if (before.v2 >= 0 && after.v2 > before.v2) return "cgroup v2 memory.events";
  if (before.v1 >= 0 && after.v1 > before.v1) {
    return "cgroup v1 memory.oom_control";
  }
  bool have_cgroup_counter =
      (before.v2 >= 0 && after.v2 >= 0) || (before.v1 >= 0 && after.v1 >= 0);
  if (!have_cgroup_counter && before.system >= 0 &&
      after.system > before.system) {
    return "/proc/vmstat";
  }
  return "";
}

int64_t ReadCgroupMemoryPeak(const CgroupPaths& paths, std::string* source) {
  if (!paths.v2_dir.empty()) {
    int64_t v = ReadNumber(paths.v2_dir + "/memory.peak");
    if (v >= 0) {
      *source = "cgroup v2 memory.peak";
      return v;
    }
  }
  if (!paths.v1_memory_dir.empty()) {
    int64_t v = ReadNumber(paths.v1_memory_dir + "/memory.max_usage_in_bytes");
    if (v >= 0) {
      *source = "cgroup v1 memory.max_usage_in_bytes";
      return v;
    }
  }
  return -1;
}

int64_t ParseVmHwm(const std::string& proc_status) {
  size_t pos = proc_status.find("\nVmHWM:");
  if (pos == std::string::npos) return -1;
  const char* begin = proc_status.c_str() + pos + 7;
  char* end = nullptr;
  long long kb = std::strtoll(begin, &end, 10);
  if (end == begin || kb < 0) return -1;
  return static_cast<int64_t>(kb) * 1024;
}

int64_t SelfPeakRss() { return ParseVmHwm(ReadSmallFile("/proc/self/status")); }

int64_t KilledPeak(int64_t traced_peak, int64_t v1_peak, int64_t self_peak,
                   std::string* source) {
  int64_t v1_child = -1;
  if (v1_peak >= 0) v1_child = v1_peak - std::max<int64_t>(self_peak, 0);
  if (traced_peak >= 0 && traced_peak >= v1_child) {
    *source = "VmHWM at the exit stop (ptrace)";
    return traced_peak;
  }
  if (v1_child > 0) {
    *source = self_peak >= 0
                  ? "cgroup v1 memory.max_usage_in_bytes less crashctl's own "
                    "VmHWM"
                  : "cgroup v1 memory.max_usage_in_bytes (includes crashctl "
                    "and the rest of the cgroup)";
    return v1_child;
  }
  if (traced_peak >= 0) {
    *source = "VmHWM at the exit stop (ptrace)";
    return traced_peak;
  }
  return -1;
}

}  // namespace supervisor
}  // namespace crashctl
