// Reads the kernel's OOM-kill counter of this process' cgroup (v2:
// memory.events "oom_kill"), so a SIGKILL of the child can be told apart.
// Thread-safety: thread-safe.
#ifndef CRASHCTL_SUPERVISOR_OOM_H_
#define CRASHCTL_SUPERVISOR_OOM_H_

#include <string>

namespace crashctl {
namespace supervisor {

// The memory.events path of this process' cgroup, "" if not cgroup v2.
std::string MemoryEventsPath();

// The oom_kill counter in `path`, or -1 when unreadable.
long ReadOomKills(const std::string& path);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_OOM_H_
