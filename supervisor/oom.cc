#include "supervisor/oom.h"

#include <fstream>
#include <string>

namespace crashctl {
namespace supervisor {

std::string MemoryEventsPath() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  for (int i = 0; i < 64 && std::getline(in, line); ++i) {
    if (line.rfind("0::", 0) == 0) {
      std::string path = line.substr(3);
      if (path == "/") path.clear();
      return "/sys/fs/cgroup" + path + "/memory.events";
    }
  }
  return "";
}

long ReadOomKills(const std::string& path) {
  if (path.empty()) return -1;
  std::ifstream in(path);
  if (!in) return -1;
  std::string key;
  long value = 0;
  for (int i = 0; i < 64 && (in >> key >> value); ++i) {
    if (key == "oom_kill") return value;
  }
  return -1;
}

}  // namespace supervisor
}  // namespace crashctl
