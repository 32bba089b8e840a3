#include "ptrace_unwind.h"

#include <elf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>

#include "crashctl/sdk/support/stacktrace.h"
#include "crashctl/sdk/support/symbolizer.h"

namespace crashctl {
namespace supervisor {
namespace {

char* g_debuginfo_path = nullptr;

const Dwfl_Callbacks kProcCallbacks = {
    dwfl_linux_proc_find_elf,
    dwfl_standard_find_debuginfo,
    nullptr,
    &g_debuginfo_path,
};

// What libdw's thread callbacks see: the stopped threads and the memory.
struct ProcessState {
  pid_t pid = 0;
  int mem_fd = -1;
  const std::vector<pid_t>* tids = nullptr;
  size_t next = 0;
};

pid_t NextThread(Dwfl*, void* arg, void** thread_argp) {
  auto* s = static_cast<ProcessState*>(arg);
  *thread_argp = s;
  if (s->next >= s->tids->size()) return 0;
  return (*s->tids)[s->next++];
}

bool GetThread(Dwfl*, pid_t tid, void* arg, void** thread_argp) {
  auto* s = static_cast<ProcessState*>(arg);
  *thread_argp = s;
  return std::find(s->tids->begin(), s->tids->end(), tid) != s->tids->end();
}

bool MemoryRead(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto* s = static_cast<ProcessState*>(arg);
  if (s->mem_fd < 0 || addr > static_cast<Dwarf_Addr>(INT64_MAX - 8)) {
    return false;
  }
  Dwarf_Word word = 0;
  ssize_t n = pread(s->mem_fd, &word, sizeof(word), static_cast<off_t>(addr));
  if (n != static_cast<ssize_t>(sizeof(word))) return false;
  *result = word;
  return true;
}

bool SetInitialRegisters(Dwfl_Thread* thread, void*) {
  const pid_t tid = dwfl_thread_tid(thread);
#if defined(__x86_64__)
  struct user_regs_struct regs {};
  struct iovec iov = {&regs, sizeof(regs)};
  if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) != 0) return false;
  if (iov.iov_len != sizeof(regs)) return false;  // a 32-bit tracee
  // DWARF register numbers of the x86-64 psABI: rax rdx rcx rbx rsi rdi rbp
  // rsp r8..r15, then the return address column (rip).
  const Dwarf_Word dwarf[17] = {
      regs.rax, regs.rdx, regs.rcx, regs.rbx, regs.rsi, regs.rdi,
      regs.rbp, regs.rsp, regs.r8,  regs.r9,  regs.r10, regs.r11,
      regs.r12, regs.r13, regs.r14, regs.r15, regs.rip,
  };
  return dwfl_thread_state_registers(thread, 0, 17, dwarf);
#elif defined(__aarch64__)
  struct user_pt_regs regs {};
  struct iovec iov = {&regs, sizeof(regs)};
  if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) != 0) return false;
  if (iov.iov_len != sizeof(regs)) return false;
  Dwarf_Word dwarf[32];
  for (int i = 0; i < 31; ++i) dwarf[i] = regs.regs[i];
  dwarf[31] = regs.sp;
  if (!dwfl_thread_state_registers(thread, 0, 32, dwarf)) return false;
  dwfl_thread_state_register_pc(thread, regs.pc);
  return true;
#else
  (void)tid;
  return false;
#endif
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    NextThread, GetThread, MemoryRead, SetInitialRegisters, nullptr, nullptr,
};

struct FrameSink {
  std::vector<uint64_t> pcs;
  std::vector<bool> exact;
  size_t max = 0;
  std::chrono::steady_clock::time_point deadline;
  bool truncated = false;
};

int OnFrame(Dwfl_Frame* frame, void* arg) {
  auto* sink = static_cast<FrameSink*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation) || pc == 0) {
    return DWARF_CB_ABORT;
  }
  sink->pcs.push_back(pc);
  sink->exact.push_back(activation);
  if (sink->pcs.size() >= sink->max ||
      std::chrono::steady_clock::now() >= sink->deadline) {
    sink->truncated = true;
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string ExePath(pid_t pid) {
  char buf[PATH_MAX];
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

UnwoundProcess UnwindStoppedThreads(pid_t pid, const std::vector<pid_t>& tids,
                                    const UnwindLimits& limits) {
  UnwoundProcess out;
  std::vector<pid_t> unwind(
      tids.begin(), tids.begin() + std::min(tids.size(), limits.max_threads));
  if (unwind.size() < tids.size()) out.truncated = true;
  const std::string proc = "/proc/" + std::to_string(pid);
  for (pid_t tid : unwind) {
    sdk::Thread t;
    t.id = static_cast<uint64_t>(tid);
    t.name = ReadLine(proc + "/task/" + std::to_string(tid) + "/comm");
    out.threads.push_back(t);
  }

  Dwfl* dwfl = dwfl_begin(&kProcCallbacks);
  if (dwfl == nullptr) {
    out.error = std::string("dwfl_begin: ") + dwfl_errmsg(-1);
    return out;
  }
  dwfl_report_begin(dwfl);
  int report = dwfl_linux_proc_report(dwfl, pid);
  dwfl_report_end(dwfl, nullptr, nullptr);
  ProcessState state;
  state.pid = pid;
  state.tids = &unwind;
  state.mem_fd = open((proc + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (report != 0) {
    out.error = "dwfl_linux_proc_report failed";
  } else if (state.mem_fd < 0) {
    out.error = "cannot open " + proc + "/mem";
  } else if (!dwfl_attach_state(dwfl, nullptr, pid, &kThreadCallbacks,
                                &state)) {
    out.error = std::string("dwfl_attach_state: ") + dwfl_errmsg(-1);
  } else {
    std::vector<sdk::Module> modules;
    sdk::Module exe;
    exe.path = ExePath(pid);
    exe.main_executable = true;
    if (!exe.path.empty()) modules.push_back(exe);
    sdk::Symbolizer symbolizer(dwfl, modules);
    for (sdk::Thread& t : out.threads) {
      if (std::chrono::steady_clock::now() >= limits.deadline) {
        out.truncated = true;
        break;
      }
      FrameSink sink;
      sink.max = limits.max_frames;
      sink.deadline = limits.deadline;
      // -1 with frames already collected is the usual end of a stack.
      (void)dwfl_getthread_frames(dwfl, static_cast<pid_t>(t.id), OnFrame,
                                  &sink);
      if (sink.truncated) out.truncated = true;
      t.frames = symbolizer.Symbolize(sink.pcs, sink.exact);
    }
  }
  // dwfl_end calls no thread callback that touches the tracee (ours are
  // null), so the threads stay as they are.
  dwfl_end(dwfl);
  if (state.mem_fd >= 0) close(state.mem_fd);
  return out;
}

}  // namespace supervisor
}  // namespace crashctl
