// crashreport: finds the crash report a language runtime printed to
// stdout/stderr (a Go panic, a Rust panic, a Python traceback, an uncaught
// Java or Node.js exception, a C++ std::terminate, a glibc assertion, an
// AddressSanitizer/UBSan report) in a process's or container's last log lines
// and turns it into an exception chain with frames, in Sentry's conventions.
//
// Contract:
//  - FindLastReport() looks at the lines oldest first and returns the LAST
//    report in them (the one that starts last), or nullopt when there is none.
//    It never throws and never crashes on any input (garbage, binary, huge);
//    its work is linear in the input it looks at, which is bounded: only the
//    last kMaxLines lines and kMaxInputBytes bytes are looked at, each line is
//    cut at kMaxLineBytes, and every list in the result is capped (kMax*
//    below). (The string_view overload also counts the '\n's before that
//    tail, to number the lines.)
//  - Log prefixes are tolerated on every line: an RFC 3339 or "YYYY/MM/DD
//    hh:mm:ss" timestamp, the CRI log format ("<time> stderr F <text>"; "P"
//    partial lines are joined with the rest of their line), Docker's JSON log
//    lines ({"log":"...\n","stream":...}), and JSON log records whose string
//    fields carry a multi-line trace ({"msg":...,"stack":"Error: x\n    at
//    ..."}). Unrelated lines before, after and between reports are ignored;
//    a few unrelated lines inside a report's frame list are skipped.
//  - Exceptions are in Sentry order: the root cause first, the exception that
//    was finally raised LAST; the frames of each in Sentry order: the
//    outermost call first, the crashing frame LAST. Every exception has
//    handled = false and a mechanism_type ("panic", "fatal_error", "signal",
//    "traceback", "uncaught_exception", "terminate", "assert", "sanitizer").
//    Every frame has in_app set (runtime/standard-library/dependency frames
//    false). docs/crash-reports.md lists what each runtime's output becomes.
//
// Thread-safety: the functions are pure (no shared state) and may be called
// from any number of threads at once.
#ifndef CRASHCTL_CRASHREPORT_CRASH_REPORT_PARSER_H_
#define CRASHCTL_CRASHREPORT_CRASH_REPORT_PARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/model/event.h"

namespace crashctl {
namespace crashreport {

// Bounds on the work done and on the size of a Report.
inline constexpr size_t kMaxLines = 10000;          // input lines looked at
inline constexpr size_t kMaxInputBytes = 4 << 20;   // input bytes looked at
inline constexpr size_t kMaxLineBytes = 64 << 10;   // a joined input line
inline constexpr size_t kMaxTextBytes = 4096;       // a line of a report,
                                                    // a type, a value
inline constexpr size_t kMaxFramesPerThread = 256;  // innermost ones kept
inline constexpr size_t kMaxThreads = 64;           // crashed one included
inline constexpr size_t kMaxExceptions = 10;        // per chain

// The runtime whose report format was recognised.
enum class Runtime { kGo, kRust, kPython, kJava, kNode, kNative };

// "go", "rust", "python", "java", "node", "native".
const char* RuntimeName(Runtime runtime);

// A thread (goroutine) the report names.
struct Thread {
  std::string id;    // "1" for "goroutine 1", "12345" for Rust's
                     // "thread 'main' (12345)"; may be ""
  std::string name;  // "goroutine 1", "main", "worker-7", "T0"; may be ""
  bool crashed = false;
  // Sentry order (outermost first). Empty for the crashed thread: its frames
  // are exceptions.back().frames.
  std::vector<model::Frame> frames;
};

struct Report {
  Runtime runtime = Runtime::kNative;
  // The Sentry platform of an event made from it: "go", "native" (Rust, C,
  // C++), "python", "java", "node".
  std::string platform;
  // Never empty; see the contract above for the order.
  std::vector<model::ExceptionValue> exceptions;
  // The crashed thread first (crashed = true, no frames), then the other
  // threads/goroutines the output shows, in output order, at most
  // kMaxThreads in all. Empty when the output names no thread (Python, Node,
  // C++ terminate, assert).
  std::vector<Thread> threads;
  // The crashed thread's name ("goroutine 1", "main"), "" when not shown.
  std::string thread_name;
  // "SIGSEGV", "SIGABRT", ... when the output names or implies the signal
  // (Go "[signal SIGSEGV: ...]", ASan "SEGV on unknown address", abort()
  // after std::terminate or a failed assert); else "".
  std::string signal;
  // The report's span in the input: 0-based indices, both inclusive, into
  // the `lines` given (for the string_view overload: into its lines). It
  // covers every input line the report's text came from (all pieces of a
  // CRI/Docker partial line; a JSON record's index for all its lines).
  size_t first_line = 0;
  size_t last_line = 0;
};

// Finds the last crash report in `lines` (oldest first; a trailing '\r' on a
// line is ignored). Returns nullopt when there is none. Never throws.
std::optional<Report> FindLastReport(const std::vector<std::string>& lines);

// Convenience: splits `text` on '\n' (a final empty piece after a trailing
// '\n' is not a line) and calls the overload above.
std::optional<Report> FindLastReport(std::string_view text);

}  // namespace crashreport
}  // namespace crashctl

#endif  // CRASHCTL_CRASHREPORT_CRASH_REPORT_PARSER_H_
