// Unwinds the threads of a live process that the calling thread traces and
// has stopped (every thread in a ptrace-stop), with elfutils libdw: CFI
// (.eh_frame/.debug_frame) with libdw's frame-pointer fallback, registers
// from PTRACE_GETREGSET, memory from /proc/PID/mem; then symbolises the
// frames (sdk::Symbolizer over the same Dwfl). Makes no ptrace call that
// attaches, stops or resumes anything: libdw is given its own thread
// callbacks (dwfl_attach_state), never dwfl_linux_proc_attach.
// x86-64 and AArch64; elsewhere it returns no stacks.
// Thread-safety: call from the thread that traces `pid`.
#ifndef CRASHCTL_SUPERVISOR_PTRACE_UNWIND_H_
#define CRASHCTL_SUPERVISOR_PTRACE_UNWIND_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "crashctl/sdk.h"

namespace crashctl {
namespace supervisor {

struct UnwindLimits {
  size_t max_frames = 256;  // per thread
  size_t max_threads = 64;
  std::chrono::steady_clock::time_point deadline;  // for the whole unwind
};

struct UnwoundProcess {
  std::vector<sdk::Thread> threads;  // `tids` order; frames outermost first
  bool truncated = false;  // a limit (frames, threads, deadline) was hit
  std::string error;       // why nothing could be unwound, or ""
};

// Unwinds `tids` (all stopped, of process `pid`) in the order given. Each
// thread's name is /proc/PID/task/TID/comm. A libdw failure yields a thread
// without frames, never an exception or an abort.
UnwoundProcess UnwindStoppedThreads(pid_t pid, const std::vector<pid_t>& tids,
                                    const UnwindLimits& limits);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_PTRACE_UNWIND_H_
