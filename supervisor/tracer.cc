#include "tracer.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "elf_probe.h"
#include "oom.h"
#include "ptrace_unwind.h"
#include "signal_info.h"

namespace crashctl {
namespace supervisor {
namespace {

constexpr long kTraceOptions = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                               PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
                               PTRACE_O_TRACEEXIT;
constexpr size_t kMaxTasksListed = 4096;
constexpr size_t kMaxEventsPerPoll = 100000;

// A small /proc file (status is ~1.5 KiB), with plain read(2): this runs at
// every task's exit stop.
std::string ReadProcFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (int i = 0; i < 4; ++i) {  // at most 16 KiB
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string ProcStatus(pid_t tid) {
  return ReadProcFile("/proc/" + std::to_string(tid) + "/status");
}

pid_t ParseTgid(const std::string& status, pid_t fallback) {
  size_t pos = status.find("\nTgid:");
  if (pos == std::string::npos) return fallback;
  long v = std::strtol(status.c_str() + pos + 6, nullptr, 10);
  return v > 0 ? static_cast<pid_t>(v) : fallback;
}

std::string ExePath(pid_t pid) {
  char buf[PATH_MAX];
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<pid_t> ListTasks(pid_t tgid) {
  std::vector<pid_t> tids;
  std::string dir = "/proc/" + std::to_string(tgid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return tids;
  while (struct dirent* e = readdir(d)) {
    if (tids.size() >= kMaxTasksListed) break;
    long v = std::strtol(e->d_name, nullptr, 10);
    if (v > 0) tids.push_back(static_cast<pid_t>(v));
  }
  closedir(d);
  return tids;
}

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void SleepMicros(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

Tracer::Tracer(const TracerOptions& options) : options_(options) {}

int Tracer::Seize(pid_t pid) {
  if (ptrace(PTRACE_SEIZE, pid, nullptr,
             reinterpret_cast<void*>(kTraceOptions)) != 0) {
    return errno != 0 ? errno : EPERM;
  }
  root_ = pid;
  traced_.insert(pid);
  return 0;
}

void Tracer::Poll() {
  for (size_t i = 0; i < kMaxEventsPerPoll; ++i) {
    if (!queued_.empty()) {
      std::pair<pid_t, int> e = queued_.front();
      queued_.pop_front();
      queued_tids_.erase(e.first);
      Handle(e.first, e.second);
      continue;
    }
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
    if (tid <= 0) break;  // 0: nothing pending; -1: ECHILD or EINTR
    Handle(tid, status);
  }
}

void Tracer::Resume(pid_t tid, int signal) {
  // ESRCH: the task was killed meanwhile (e.g. by its group's fatal signal).
  (void)ptrace(PTRACE_CONT, tid, nullptr,
               reinterpret_cast<void*>(static_cast<long>(signal)));
}

void Tracer::Queue(pid_t tid, int status) {
  queued_.emplace_back(tid, status);
  queued_tids_.insert(tid);
}

void Tracer::Handle(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    traced_.erase(tid);
    signal_windows_.erase(tid);
    if (tid == root_) {
      root_reaped_ = true;
      root_status_ = status;
    }
    return;
  }
  if (!WIFSTOPPED(status)) return;
  traced_.insert(tid);
  const int sig = WSTOPSIG(status);
  const int event = static_cast<int>(static_cast<unsigned>(status) >> 16);
  switch (event) {
    case 0:  // signal-delivery-stop
      if (IsCrashSignal(sig)) {
        OnCrashSignal(tid, sig);
      } else if (TooManySignals(tid)) {
        if (DetachProcess(tid, sig,
                          " (over " + std::to_string(options_.max_signal_rate) +
                              " signals/s)")) {
          return;
        }
      }
      Resume(tid, sig);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
      unsigned long child = 0;
      if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child) == 0 && child > 0) {
        traced_.insert(static_cast<pid_t>(child));
      }
      Resume(tid, 0);
      return;
    }
    case PTRACE_EVENT_EXEC:
      if (options_.detach_go || options_.detach_leak_sanitizer) {
        // After exec the process has this one thread: detaching it
        // detaches the process (its later children are not traced).
        std::string exe = ExePath(tid);
        ExecutableFacts facts = Probe(tid, exe);
        const char* why = nullptr;
        if (facts.go && options_.detach_go) why = " (Go program)";
        if (facts.leak_sanitizer && options_.detach_leak_sanitizer) {
          why = " (LeakSanitizer)";
        }
        if (why != nullptr &&
            ptrace(PTRACE_DETACH, tid, nullptr, nullptr) == 0) {
          traced_.erase(tid);
          if (detached_.size() < 16) detached_.push_back(exe + why);
          return;
        }
      }
      Resume(tid, 0);
      return;
    case PTRACE_EVENT_EXIT: {
      // Even a SIGKILLed task stops here, with /proc still readable.
      std::string text = ProcStatus(tid);
      if (ParseTgid(text, 0) == tid) {
        int64_t hwm = ParseVmHwm(text);
        if (hwm >= 0) {
          if (tid == root_) root_peak_rss_ = hwm;
          max_peak_rss_ = std::max(max_peak_rss_, hwm);
        }
      }
      Resume(tid, 0);
      return;
    }
    case PTRACE_EVENT_STOP:
      if (IsStopSignal(sig)) {
        // Group-stop: stay stopped, but let SIGCONT (or another signal)
        // through to us.
        (void)ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
      } else {
        // A new task's first stop, or a PTRACE_INTERRUPT of ours.
        Resume(tid, 0);
      }
      return;
    default:
      Resume(tid, 0);
      return;
  }
}

ExecutableFacts Tracer::Probe(pid_t tid, const std::string& exe) {
  // Keyed by the file itself: a shell script's 1,000 runs of /bin/true read
  // its ELF headers once.
  struct stat st;
  std::string link = "/proc/" + std::to_string(tid) + "/exe";
  if (stat(link.c_str(), &st) != 0) return ProbeExecutable(exe);
  ProbeKey key{static_cast<uint64_t>(st.st_dev),
               static_cast<uint64_t>(st.st_ino),
               static_cast<int64_t>(st.st_mtime)};
  auto it = probe_cache_.find(key);
  if (it != probe_cache_.end()) return it->second;
  if (probe_cache_.size() >= 256) probe_cache_.clear();  // bounded
  ExecutableFacts facts = ProbeExecutable(exe);
  probe_cache_.emplace(key, facts);
  return facts;
}

bool Tracer::TooManySignals(pid_t tid) {
  if (options_.max_signal_rate == 0) return false;
  const auto now = std::chrono::steady_clock::now();
  if (signal_windows_.size() > 4096) signal_windows_.clear();  // bounded
  SignalWindow& w = signal_windows_[tid];
  if (now - w.start >= std::chrono::seconds(1)) {
    w.start = now;
    w.count = 0;
  }
  return ++w.count > options_.max_signal_rate;
}

bool Tracer::DetachProcess(pid_t tid, int signal, const std::string& why) {
  const pid_t tgid = ParseTgid(ProcStatus(tid), tid);
  const std::string exe = ExePath(tgid);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  std::vector<pid_t> waiting;
  for (pid_t t : ListTasks(tgid)) {
    if (t == tid) continue;
    if (queued_tids_.count(t) != 0) {
      // Stopped, its event in the queue: detach it with that event's signal.
      for (auto it = queued_.begin(); it != queued_.end(); ++it) {
        if (it->first != t) continue;
        const int st = it->second;
        if (WIFSTOPPED(st)) {
          const long pass =
              (static_cast<unsigned>(st) >> 16) == 0 ? WSTOPSIG(st) : 0;
          (void)ptrace(PTRACE_DETACH, t, nullptr,
                       reinterpret_cast<void*>(pass));
        }
        queued_.erase(it);
        break;
      }
      queued_tids_.erase(t);
      traced_.erase(t);
    } else if (ptrace(PTRACE_INTERRUPT, t, nullptr, nullptr) == 0) {
      waiting.push_back(t);
    }
  }
  while (!waiting.empty()) {
    for (size_t i = 0; i < waiting.size();) {
      int st = 0;
      pid_t r = waitpid(waiting[i], &st, __WALL | WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      if (r == waiting[i] && WIFSTOPPED(st)) {
        const long pass =
            (static_cast<unsigned>(st) >> 16) == 0 ? WSTOPSIG(st) : 0;
        (void)ptrace(PTRACE_DETACH, r, nullptr, reinterpret_cast<void*>(pass));
      } else if (r == waiting[i] && r == root_ &&
                 (WIFEXITED(st) || WIFSIGNALED(st))) {
        root_reaped_ = true;
        root_status_ = st;
      }
      traced_.erase(waiting[i]);
      waiting.erase(waiting.begin() + static_cast<long>(i));
    }
    if (waiting.empty() || std::chrono::steady_clock::now() >= deadline) break;
    SleepMicros(200);
  }
  // Threads that did not stop in time stay traced (and are served).
  if (ptrace(PTRACE_DETACH, tid, nullptr,
             reinterpret_cast<void*>(static_cast<long>(signal))) != 0) {
    return false;
  }
  traced_.erase(tid);
  signal_windows_.erase(tid);
  if (detached_.size() < 16) detached_.push_back(exe + why);
  return true;
}

void Tracer::OnCrashSignal(pid_t tid, int signal) {
  const std::string status = ProcStatus(tid);
  const pid_t tgid = ParseTgid(status, tid);
  if (unwound_.count(tgid) != 0) return;
  // A handler will run (or the signal is ignored): not a crash yet.
  if (!TakesDefaultAction(ParseSignalMasks(status), signal)) return;
  unwound_.insert(tgid);
  if (captured_ >= options_.max_crashes) {
    ++dropped_crashes_;
    return;
  }
  ++captured_;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + options_.unwind_budget;
  CapturedCrash crash;
  crash.pid = tgid;
  crash.tid = tid;
  crash.signal = signal;
  crash.when = start;
  crash.exe = ExePath(tgid);
  siginfo_t info{};
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) == 0) {
    crash.code = info.si_code;
    crash.address = reinterpret_cast<uintptr_t>(info.si_addr);
  }
  // Half of the budget at most for the other threads to stop.
  std::vector<pid_t> stopped = StopThreads(
      tgid, tid, start + options_.unwind_budget / 2, &crash.truncated);
  UnwindLimits limits;
  limits.max_frames = options_.max_frames;
  limits.max_threads = options_.max_threads;
  limits.deadline = deadline;
  UnwoundProcess unwound = UnwindStoppedThreads(tgid, stopped, limits);
  crash.threads = std::move(unwound.threads);
  crash.truncated = crash.truncated || unwound.truncated;
  crash.error = unwound.error;
  if (!crash.threads.empty()) {
    crash.threads[0].crashed = true;
    crash.threads[0].current = true;
  }
  crashes_.push_back(std::move(crash));
}

std::vector<pid_t> Tracer::StopThreads(
    pid_t tgid, pid_t tid, std::chrono::steady_clock::time_point deadline,
    bool* truncated) {
  std::vector<pid_t> stopped = {tid};
  std::vector<pid_t> waiting;
  for (pid_t t : ListTasks(tgid)) {
    if (t == tid) continue;
    if (stopped.size() + waiting.size() >= options_.max_threads) {
      *truncated = true;
      break;
    }
    if (queued_tids_.count(t) != 0) {
      stopped.push_back(t);  // its reaped stop is waiting in the queue
    } else if (ptrace(PTRACE_INTERRUPT, t, nullptr, nullptr) == 0) {
      waiting.push_back(t);
    }
  }
  // Bounded by the deadline; 0.2 ms between rounds.
  while (!waiting.empty()) {
    for (size_t i = 0; i < waiting.size();) {
      int status = 0;
      pid_t r = waitpid(waiting[i], &status, __WALL | WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      if (r == waiting[i]) {
        // Whatever stop it is (our interrupt, a signal, an event), the
        // thread is stopped; the event itself is handled afterwards.
        Queue(r, status);
        if (WIFSTOPPED(status)) stopped.push_back(r);
      }
      waiting.erase(waiting.begin() + static_cast<long>(i));
    }
    if (waiting.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      *truncated = true;
      break;
    }
    SleepMicros(200);
  }
  return stopped;
}

void Tracer::DetachAll(std::chrono::milliseconds timeout) {
  Poll();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pid_t> waiting;
  for (pid_t t : traced_) {
    if (ptrace(PTRACE_INTERRUPT, t, nullptr, nullptr) == 0) {
      waiting.push_back(t);
    }
  }
  while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < waiting.size();) {
      int status = 0;
      pid_t r = waitpid(waiting[i], &status, __WALL | WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      if (r == waiting[i] && WIFSTOPPED(status)) {
        const int sig = WSTOPSIG(status);
        const int event = static_cast<int>(static_cast<unsigned>(status) >> 16);
        if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
            event == PTRACE_EVENT_CLONE) {
          // The new task is traced too: detach it as well.
          unsigned long child = 0;
          if (ptrace(PTRACE_GETEVENTMSG, r, nullptr, &child) == 0 &&
              child > 0 &&
              std::find(waiting.begin(), waiting.end(),
                        static_cast<pid_t>(child)) == waiting.end()) {
            waiting.push_back(static_cast<pid_t>(child));
          }
        }
        // A signal-delivery-stop keeps its signal; any other stop none.
        long pass = event == 0 ? sig : 0;
        (void)ptrace(PTRACE_DETACH, r, nullptr, reinterpret_cast<void*>(pass));
      } else if (r == waiting[i] &&
                 (WIFEXITED(status) || WIFSIGNALED(status)) && r == root_) {
        root_reaped_ = true;
        root_status_ = status;
      }
      traced_.erase(waiting[i]);
      waiting.erase(waiting.begin() + static_cast<long>(i));
    }
    if (!waiting.empty()) SleepMicros(200);
  }
}

std::vector<CapturedCrash> Tracer::TakeCrashes() {
  std::vector<CapturedCrash> out = std::move(crashes_);
  crashes_.clear();
  return out;
}

}  // namespace supervisor
}  // namespace crashctl
