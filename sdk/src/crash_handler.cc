#include "crash_handler.h"

#define UNW_LOCAL_ONLY
#include <cxxabi.h>
#include <fcntl.h>
#include <libunwind.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <typeinfo>

#include "crashctl/sdk/support/stacktrace.h"
#include "crashctl/sdk/support/util.h"

namespace crashctl {
namespace sdk {
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr int kNumSignals = sizeof(kSignals) / sizeof(kSignals[0]);
constexpr size_t kMaxFrames = 128;
constexpr size_t kAltStackSize = 64 * 1024;

// Everything the signal handler touches is static and prepared in advance.
int g_fd = -1;
bool g_fd_is_spool_file = false;
char g_spool_path[4096];
char g_modules[64 * 1024];  // pre-rendered "module ..." lines
size_t g_modules_len = 0;
char g_exc_type[512];
char g_exc_value[2048];
std::atomic<bool> g_have_exception{false};
std::atomic<long> g_writer_tid{0};  // the thread writing the record
std::atomic<bool> g_record_done{false};
struct sigaction g_previous[kNumSignals];
bool g_installed = false;
std::terminate_handler g_previous_terminate = nullptr;
void* g_altstack = nullptr;

// A tiny append-only buffer flushed with write(2): async-signal-safe.
class SafeWriter {
 public:
  explicit SafeWriter(int fd) : fd_(fd) {}
  ~SafeWriter() { Flush(); }
  void Str(const char* s) {
    while (*s != '\0') Char(*s++);
  }
  void Bytes(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) Char(s[i]);
  }
  void Dec(long v) {
    char tmp[24];
    int n = 0;
    bool neg = v < 0;
    unsigned long u = neg ? 0UL - static_cast<unsigned long>(v)
                          : static_cast<unsigned long>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0 && n < 22);
    if (neg) Char('-');
    while (n > 0) Char(tmp[--n]);
  }
  void Hex(uint64_t v) {
    static const char kDigits[] = "0123456789abcdef";
    char tmp[17];
    int n = 0;
    do {
      tmp[n++] = kDigits[v & 0xf];
      v >>= 4;
    } while (v != 0 && n < 16);
    Str("0x");
    while (n > 0) Char(tmp[--n]);
  }
  void Char(char c) {
    if (len_ == sizeof(buf_)) Flush();
    buf_[len_++] = c;
  }
  void Flush() {
    size_t off = 0;
    for (int tries = 0; off < len_ && tries < 1000; ++tries) {
      ssize_t n = write(fd_, buf_ + off, len_ - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    len_ = 0;
  }

 private:
  int fd_;
  char buf_[1024];
  size_t len_ = 0;
};

// Copies at most cap-1 bytes, replacing newlines so the record stays
// line-based.
void CopyLine(char* dst, size_t cap, const char* src) {
  size_t i = 0;
  for (; src != nullptr && src[i] != '\0' && i + 1 < cap; ++i) {
    dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
  }
  dst[i] = '\0';
}

void RenderModules() {
  std::vector<Module> modules = LoadedModules();
  std::string text;
  for (const Module& m : modules) {
    char base[32];
    std::snprintf(base, sizeof(base), "%llx",
                  static_cast<unsigned long long>(m.base));
    std::string line = "module 0x" + std::string(base) +
                       (m.main_executable ? " 1 " : " 0 ") + m.path + "\n";
    if (text.size() + line.size() >= sizeof(g_modules)) break;
    text += line;
  }
  // Publish: the length is written last so a concurrent crash sees either
  // the old or a consistent new prefix.
  g_modules_len = 0;
  std::memcpy(g_modules, text.data(), text.size());
  g_modules_len = text.size();
}

void WriteRecord(int sig, siginfo_t* info, void* ucontext) {
  SafeWriter w(g_fd);
  w.Str("CRASHCTL-CRASH 1\npid ");
  w.Dec(static_cast<long>(getpid()));
  w.Str("\ntid ");
  w.Dec(static_cast<long>(syscall(SYS_gettid)));
  w.Str("\nsignal ");
  w.Dec(sig);
  w.Str("\ncode ");
  w.Dec(info != nullptr ? info->si_code : 0);
  w.Str("\naddr ");
  w.Hex(info != nullptr ? reinterpret_cast<uintptr_t>(info->si_addr) : 0);
  w.Char('\n');
  if (sig == SIGABRT && g_have_exception.load()) {
    w.Str("exc_type ");
    w.Str(g_exc_type);
    w.Str("\nexc_value ");
    w.Str(g_exc_value);
    w.Char('\n');
  }
  w.Flush();  // the header survives even if unwinding crashes
  unw_cursor_t cursor;
  if (ucontext != nullptr &&
      unw_init_local2(&cursor, static_cast<unw_context_t*>(ucontext),
                      UNW_INIT_SIGNAL_FRAME) == 0) {
    for (size_t i = 0; i < kMaxFrames; ++i) {
      unw_word_t ip = 0;
      if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
      w.Str("pc ");
      w.Hex(ip);
      w.Char('\n');
      if (unw_step(&cursor) <= 0) break;
    }
  }
  w.Bytes(g_modules, g_modules_len);
  w.Str("end\n");
  w.Flush();
}

void OnSignal(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  long tid = static_cast<long>(syscall(SYS_gettid));
  long expected = 0;
  if (g_writer_tid.compare_exchange_strong(expected, tid)) {
    if (g_fd >= 0) WriteRecord(sig, info, ucontext);
    g_record_done.store(true);
  } else if (expected != tid) {
    // Another thread crashed first: let it finish its record (bounded)
    // before this one takes the process down.
    for (int i = 0; i < 300 && !g_record_done.load(); ++i) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
  // Hand the signal to whoever had it before (usually SIG_DFL: die).
  for (int i = 0; i < kNumSignals; ++i) {
    if (kSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
  }
  errno = saved_errno;
  raise(sig);
}

void OnTerminate() {
  std::type_info* type = abi::__cxa_current_exception_type();
  if (type != nullptr) {
    std::string name = Demangle(type->name());
    CopyLine(g_exc_type, sizeof(g_exc_type), name.c_str());
    g_exc_value[0] = '\0';
    try {
      std::rethrow_exception(std::current_exception());
    } catch (const std::exception& e) {
      CopyLine(g_exc_value, sizeof(g_exc_value), e.what());
    } catch (...) {
    }
    g_have_exception.store(true);
  }
  if (g_previous_terminate != nullptr && g_previous_terminate != OnTerminate) {
    g_previous_terminate();
  }
  std::abort();
}

int CrashFdFromEnvironment() {
  const char* env = std::getenv("CRASHCTL_CRASH_FD");
  if (env == nullptr || *env == '\0') return -1;
  char* end = nullptr;
  long fd = std::strtol(env, &end, 10);
  if (end == env || *end != '\0' || fd < 0 || fd > 65535) return -1;
  if (fcntl(static_cast<int>(fd), F_GETFD) == -1) return -1;
  // Our children must not write into our supervisor's pipe.
  fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  unsetenv("CRASHCTL_CRASH_FD");
  return static_cast<int>(fd);
}

}  // namespace

bool InstallCrashHandler(const std::string& spool_dir, bool debug) {
  if (g_installed) return true;
  g_fd = CrashFdFromEnvironment();
  g_fd_is_spool_file = false;
  if (g_fd < 0 && MakeDirs(spool_dir)) {
    std::snprintf(g_spool_path, sizeof(g_spool_path), "%s/crash-%ld.record",
                  spool_dir.c_str(), static_cast<long>(getpid()));
    g_fd = open(g_spool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_fd_is_spool_file = g_fd >= 0;
  }
  if (g_fd < 0) {
    if (debug) std::fprintf(stderr, "crashctl: no crash record destination\n");
    return false;
  }
  RenderModules();
  g_writer_tid.store(0);
  g_record_done.store(false);
  g_have_exception.store(false);

  if (g_altstack == nullptr) g_altstack = std::malloc(kAltStackSize);
  stack_t ss{};
  ss.ss_sp = g_altstack;
  ss.ss_size = kAltStackSize;
  ss.ss_flags = 0;
  sigaltstack(&ss, nullptr);

  struct sigaction sa {};
  sa.sa_sigaction = OnSignal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < kNumSignals; ++i) {
    sigaction(kSignals[i], &sa, &g_previous[i]);
  }
  g_previous_terminate = std::set_terminate(OnTerminate);
  g_installed = true;
  if (debug) {
    std::fprintf(stderr, "crashctl: crash handler writes to fd %d%s%s\n", g_fd,
                 g_fd_is_spool_file ? " " : "",
                 g_fd_is_spool_file ? g_spool_path : "");
  }
  return true;
}

void UninstallCrashHandler() {
  if (!g_installed) return;
  for (int i = 0; i < kNumSignals; ++i) {
    sigaction(kSignals[i], &g_previous[i], nullptr);
  }
  std::set_terminate(g_previous_terminate);
  if (g_fd_is_spool_file) {
    struct stat st;
    if (fstat(g_fd, &st) == 0 && st.st_size == 0) unlink(g_spool_path);
    close(g_fd);
  }
  g_fd = -1;
  g_installed = false;
}

void RefreshCrashModules() {
  if (g_installed) RenderModules();
}

}  // namespace sdk
}  // namespace crashctl
