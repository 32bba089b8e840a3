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
// Tracing (docs/sdk.md#tracing):
//   crashctl::sdk::Transaction tx = crashctl::sdk::StartTransaction("/orders",
//   "http.server"); crashctl::sdk::SpanScope scope(tx);   // errors on this
//   thread carry its trace crashctl::sdk::Span db = tx.StartChild("db.query",
//   "SELECT ..."); db.Finish();  tx.SetHttpStatus(200);  tx.Finish();   //
//   sends it (if sampled)
//
// Thread-safety: every function here may be called from any thread at any
// time. Capturing never blocks on the network: events are queued (bounded) and
// sent by one background thread; when the queue is full the event is dropped
// and counted (see DroppedEvents()). Span and Transaction are handles: copies
// share one span, and every method may be called from any thread (each span
// has its own lock). SpanScope and CurrentSpan() are per thread.
#ifndef CRASHCTL_SDK_H_
#define CRASHCTL_SDK_H_

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
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

// The trace an event belongs to (Sentry `contexts.trace`): the thread's
// current span when the event was captured (SpanScope). Empty trace_id: none.
struct TraceContext {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // "" when the span has no parent
  std::string op;
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
  TraceContext trace;           // contexts.trace; empty trace_id: none
};

// What a traces_sampler decides on: the root transaction about to start.
struct SamplingContext {
  std::string name;
  std::string op;
  std::string source;
  // The incoming trace's decision (sentry-trace's flag, traceparent's
  // sampled flag), when there is one.
  bool has_parent_sampled = false;
  bool parent_sampled = false;
  // TransactionContext::attributes (the civetweb wrapper: http.method, url).
  std::map<std::string, std::string> attributes;
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
  // Tracing. A root transaction is sampled with probability
  // traces_sampler(context) when a sampler is set, else the incoming trace's
  // decision when there is one, else traces_sample_rate (0: none sampled;
  // trace context is still created and propagated). Children inherit the
  // root's decision. Rates outside 0..1 are clamped.
  double traces_sample_rate = 0.0;
  std::function<double(const SamplingContext&)> traces_sampler;
  size_t max_spans = 1000;  // finished child spans kept per transaction
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

// --- Tracing ----------------------------------------------------------------

namespace detail {
struct SpanState;
struct Access;
}  // namespace detail

// A span of a trace: a handle (copies share the span). A default-constructed
// Span, and every span while the SDK is not initialised, is a no-op (empty
// ids, no headers). Finish() records the span's end once; later calls are
// ignored. A child finished after its transaction is not sent.
class CRASHCTL_SDK_API Span {
 public:
  Span() {}
  explicit operator bool() const { return state_ != nullptr; }

  // A child of this span (same trace, same sampling decision); started now.
  Span StartChild(const std::string& op,
                  const std::string& description = std::string()) const;
  // A Sentry span status: ok, cancelled, unknown, invalid_argument,
  // deadline_exceeded, not_found, already_exists, permission_denied,
  // resource_exhausted, failed_precondition, aborted, out_of_range,
  // unimplemented, internal_error, unavailable, data_loss, unauthenticated.
  // Default at Finish: ok.
  void SetStatus(const std::string& status);
  // The status an HTTP response code means (404 -> not_found, 5xx ->
  // internal_error, ...) and tag http.status_code; on a transaction also
  // contexts.response.status_code.
  void SetHttpStatus(int http_status);
  void SetDescription(const std::string& description);
  void SetData(const std::string& key, const std::string& value);
  void SetTag(const std::string& key, const std::string& value);
  void Finish();

  std::string TraceId() const;  // 32 hex, "" for a no-op span
  std::string SpanId() const;   // 16 hex
  bool IsSampled() const;
  // Headers to send downstream so that the callee continues this span's
  // trace: "sentry-trace", "traceparent" and "baggage" (the trace's
  // sentry-* entries, then incoming third-party members). Empty for a no-op.
  std::map<std::string, std::string> TraceHeaders() const;

 protected:
  friend struct detail::Access;
  std::shared_ptr<detail::SpanState> state_;
};

// The root span of a trace in this process; Finish() sends it as a Sentry
// `transaction` item with its finished children, when sampled.
class CRASHCTL_SDK_API Transaction : public Span {
 public:
  Transaction() {}
  // source: url, route, view, component, task, custom (Sentry's
  // transaction_info.source; crashctl uses the name as a metric label only
  // for low-cardinality sources, docs/tracing.md).
  void SetName(const std::string& name, const std::string& source = "custom");
  // request.method and request.url.
  void SetRequest(const std::string& method, const std::string& url);

 private:
  friend struct detail::Access;
};

struct TransactionContext {
  std::string name;
  std::string op;
  std::string source = "custom";
  // Incoming propagation headers, verbatim ("" when absent). A valid
  // sentry-trace is used first, else a valid traceparent; baggage's sentry-*
  // entries are then the trace's (frozen) and its other members passed on.
  // Invalid headers are ignored (a new trace starts).
  std::string sentry_trace;
  std::string traceparent;
  std::string baggage;
  std::map<std::string, std::string> attributes;  // for traces_sampler
};

// Starts a root transaction, sampled as Options says. A no-op Transaction
// when the SDK is not initialised.
CRASHCTL_SDK_API Transaction StartTransaction(const std::string& name,
                                              const std::string& op);
CRASHCTL_SDK_API Transaction
StartTransaction(const TransactionContext& context);

// Makes `span` the calling thread's current span until destroyed (the
// previous one is restored): events captured on this thread meanwhile carry
// its trace context (contexts.trace), and CurrentSpan() returns it.
class CRASHCTL_SDK_API SpanScope {
 public:
  explicit SpanScope(const Span& span);
  ~SpanScope();
  SpanScope(const SpanScope&) = delete;
  SpanScope& operator=(const SpanScope&) = delete;

 private:
  std::shared_ptr<detail::SpanState> previous_;
};

// The calling thread's current span (innermost SpanScope); a no-op Span when
// there is none.
CRASHCTL_SDK_API Span CurrentSpan();

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_H_
