// OOM evidence and peak memory from the kernel's cgroup and vm counters, so
// that a SIGKILL of the child can be told apart from any other kill.
//
// Where the counters are: crashctl's own cgroup (the child shares it), found
// from /proc/self/cgroup and /proc/self/mountinfo, on cgroup v2 (the unified
// hierarchy, also when it is mounted at /sys/fs/cgroup/unified on a hybrid
// host), cgroup v1's memory controller, and system-wide /proc/vmstat:
//   v2  memory.events "oom_kill N"       memory.peak (kernel >= 5.19)
//   v1  memory.oom_control "oom_kill N"  memory.max_usage_in_bytes
//   -   /proc/vmstat "oom_kill N" (any process on the machine)
// Thread-safety: thread-safe (reads files only).
#ifndef CRASHCTL_SUPERVISOR_OOM_H_
#define CRASHCTL_SUPERVISOR_OOM_H_

#include <cstdint>
#include <string>

namespace crashctl {
namespace supervisor {

// Directories of a cgroup; "" where the hierarchy or controller is absent.
struct CgroupPaths {
  std::string v2_dir;         // e.g. /sys/fs/cgroup/system.slice/app.service
  std::string v1_memory_dir;  // e.g. /sys/fs/cgroup/memory/docker/<id>
};

// From the text of /proc/PID/cgroup and /proc/PID/mountinfo. A cgroup v2
// directory is only named when its memory.events file is not the root's
// (the root cgroup has none) -- callers check the files anyway.
CgroupPaths ParseCgroupPaths(const std::string& proc_cgroup,
                             const std::string& mountinfo);
// This process' cgroups.
CgroupPaths FindCgroupPaths();

// The memory.events path of this process' cgroup v2, "" if none.
std::string MemoryEventsPath();

// The "oom_kill N" counter in a memory.events, memory.oom_control or
// /proc/vmstat file, or -1 when unreadable or absent.
long ReadOomKills(const std::string& path);

struct OomCounters {
  long v2 = -1;      // memory.events of the v2 cgroup
  long v1 = -1;      // memory.oom_control of the v1 memory cgroup
  long system = -1;  // /proc/vmstat
};
OomCounters ReadOomCounters(const CgroupPaths& paths);

// Which counter went up between `before` and `after`: "cgroup v2
// memory.events", "cgroup v1 memory.oom_control", "/proc/vmstat" (only when
// neither cgroup counter is readable; it counts OOM kills anywhere on the
// machine), or "" when none.
std::string OomEvidence(const OomCounters& before, const OomCounters& after);

// Peak memory of the cgroup in bytes and where it came from: v2 memory.peak,
// else v1 memory.max_usage_in_bytes (which counts crashctl itself and
// everything else in the cgroup, and its page cache); -1 when neither exists.
int64_t ReadCgroupMemoryPeak(const CgroupPaths& paths, std::string* source);

// "VmHWM" (peak resident set) of /proc/PID/status text, in bytes; -1 if
// absent.
int64_t ParseVmHwm(const std::string& proc_status);

// crashctl's own VmHWM (/proc/self/status), in bytes; -1 if unreadable.
int64_t SelfPeakRss();

// The peak memory of an OOM-killed child as reported: the traced processes'
// VmHWM at the exit stop (`traced_peak`, -1 if none), unless a cgroup v1
// peak (`v1_peak`: memory.max_usage_in_bytes, -1 if none) less crashctl's
// own peak (`self_peak`) is higher. VmHWM alone can read low after an OOM
// kill: the kernel's OOM reaper unmaps the victim's memory without updating
// its high-water mark, so the exit stop may see a mark from well before
// the kill. The v1 figure counts the cgroup's page cache too, so it can
// overstate; it is used only when the VmHWM reads lower. `*source` says
// which was taken. -1 when there is neither.
int64_t KilledPeak(int64_t traced_peak, int64_t v1_peak, int64_t self_peak,
                   std::string* source);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_OOM_H_
