// crashctl C++ SDK: reports exceptions, messages and crashes to a crashctl
// (or any Sentry-protocol) server.
//
// Setup:
//   crashctl::sdk::Options options;
//   options.dsn = "http://<key>@host:9190/1";
//   options.service = "checkout";
//   crashctl::sdk::Init(options);
//   ... crashctl::sdk::CaptureException(e); ...   crashctl::sdk::Shutdown();
//
// Thread-safety: every function here may be called from any thread at any
// time. Capturing never blocks on the network: events are queued (bounded) and
// sent by one background thread; when the queue is full the event is dropped
// and counted (see DroppedEvents()).
#ifndef CRASHCTL_SDK_H_
#define CRASHCTL_SDK_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

// The SDK's API: the only symbols libcrashctl_sdk.so exports (the library is
// built with -fvisibility=hidden; see sdk/CMakeLists.txt).
#if defined(__GNUC__) || defined(__clang__)
#define CRASHCTL_SDK_API __attribute__((visibility("default")))
#else
#define CRASHCTL_SDK_API
#endif

namespace crashctl {
namespace sdk {

enum class Level { kDebug, kInfo, kWarning, kError, kFatal };
CRASHCTL_SDK_API const char* LevelName(Level level);

struct User {
  std::string id;
  std::string username;
  std::string email;
  std::string ip_address;
  bool empty() const {
    return id.empty() && username.empty() && email.empty() &&
           ip_address.empty();
  }
};

// One stack frame, Sentry style. Frames are ordered oldest call first.
struct Frame {
  uint64_t instruction_addr = 0;
  std::string function;  // demangled; empty if unknown
  std::string module;    // path of the binary or shared object
  std::string filename;  // source file; empty if no debug info
  int lineno = 0;
  bool in_app = false;
  // Start of the ELF symbol holding instruction_addr and the load address of
  // its module; 0 when unknown. Without debug information a frame is still
  // "symbol + (instruction_addr - symbol_addr)" or
  // "module + (instruction_addr - image_addr)".
  uint64_t symbol_addr = 0;
  uint64_t image_addr = 0;
};

// The POSIX signal a crash was (Sentry mechanism.meta.signal); number 0 when
// the exception is not a signal.
struct SignalMeta {
  int number = 0;
  int code = 0;           // siginfo si_code
  std::string name;       // "SIGSEGV"
  std::string code_name;  // "SEGV_MAPERR"; empty when unknown
};

struct ExceptionValue {
  std::string type;   // e.g. "std::runtime_error", "SIGSEGV"
  std::string value;  // e.g. what()
  std::string mechanism = "generic";
  bool handled = true;
  std::vector<Frame> frames;  // may be empty
  SignalMeta signal;          // mechanism.meta.signal when number != 0
  std::map<std::string, std::string> mechanism_data;  // mechanism.data
  uint64_t thread_id = 0;  // the thread that raised it; 0 when unknown
};

// One thread of a crashed process (Sentry `threads.values[]`).
struct Thread {
  uint64_t id = 0;
  std::string name;
  bool crashed = false;       // the thread the fatal signal was for
  bool current = false;       // the thread the event was made on
  std::vector<Frame> frames;  // oldest call first; may be empty
};

struct Breadcrumb {
  std::string timestamp;  // ISO 8601, filled in by AddBreadcrumb
  std::string category;
  std::string message;
  Level level = Level::kInfo;
};

// An event as it is about to be sent; before_send may edit it.
struct Event {
  std::string event_id;   // 32 lowercase hex
  std::string timestamp;  // ISO 8601 UTC
  Level level = Level::kError;
  std::string message;                     // for CaptureMessage
  std::vector<ExceptionValue> exceptions;  // root cause first
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> extra;  // string values only
  std::vector<std::string> log_lines;        // extra.log_lines
  User user;
  std::vector<std::string> fingerprint;
  std::vector<Breadcrumb> breadcrumbs;
  std::string server_name;
  std::string release;
  std::string environment;
  std::vector<Thread> threads;  // `threads.values`; empty: none sent
  std::string platform;         // empty: "native"
};

struct Options {
  std::string dsn;  // empty: use env CRASHCTL_DSN; still empty: disabled
  std::string service;
  std::string release;
  std::string environment;
  double sample_rate = 1.0;  // 0..1, applied to every event
  size_t queue_size = 100;   // events waiting to be sent
  size_t max_breadcrumbs = 100;
  // Called on the capturing thread before an event is queued; return false
  // to drop the event.
  std::function<bool(Event&)> before_send;
  // Where unsent envelopes and crash records are kept. Empty: env
  // CRASHCTL_SPOOL_DIR, else $XDG_STATE_HOME/crashctl/spool, else
  // ~/.local/state/crashctl/spool.
  std::string spool_dir;
  bool install_crash_handler = true;  // SIGSEGV/BUS/ILL/FPE/ABRT + terminate
  bool debug = false;                 // diagnostic lines on stderr
};

// Per-event options.
struct EventOptions {
  Level level = Level::kError;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> extra;
  User user;  // overrides the scope user when not empty
  std::vector<std::string> fingerprint;
};

// Starts the SDK (once; a second call replaces the first after Shutdown()).
// Sends envelopes spooled by earlier runs and reports crash records that were
// spooled by a crash outside a supervisor. Returns false if the DSN is
// invalid (the SDK then stays disabled).
CRASHCTL_SDK_API bool Init(const Options& options);

// Capture functions return the event id, or "" if the event was not queued
// (SDK disabled, sampled out, dropped by before_send, or queue full).
CRASHCTL_SDK_API std::string CaptureException(
    const std::exception& e, const EventOptions& options = EventOptions());
CRASHCTL_SDK_API std::string CaptureMessage(
    const std::string& message, const EventOptions& options = EventOptions());

// Scope: applies to every later event.
CRASHCTL_SDK_API void SetTag(const std::string& key, const std::string& value);
CRASHCTL_SDK_API void RemoveTag(const std::string& key);
CRASHCTL_SDK_API void SetUser(const User& user);
CRASHCTL_SDK_API void AddBreadcrumb(const std::string& category,
                                    const std::string& message,
                                    Level level = Level::kInfo);

// Waits until every queued event was sent (or given up). True if the queue
// drained within the timeout.
CRASHCTL_SDK_API bool Flush(std::chrono::milliseconds timeout);

// Flushes (up to timeout), stops the sender thread, spools what is left,
// and uninstalls the crash handler.
CRASHCTL_SDK_API void Shutdown(
    std::chrono::milliseconds timeout = std::chrono::seconds(2));

// Events dropped because the queue was full, since Init.
CRASHCTL_SDK_API uint64_t DroppedEvents();

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_H_
