// Internal to crashreport/: one parser per runtime format, and what they
// share. Each Parse* function looks at lines[i]; when a report of its format
// starts there it fills *out (report without span, `end` one past its last
// line) and returns true; else it returns false and leaves *out alone.
// Every loop is bounded by the number of lines; none throws on bad input
// (std::bad_alloc aside, which FindLastReport catches).
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_CRASHREPORT_PARSERS_H_
#define CRASHCTL_CRASHREPORT_PARSERS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/crashreport/crash_report_parser.h"
#include "crashctl/model/event.h"
#include "log_lines.h"

namespace crashctl {
namespace crashreport {

using Lines = std::vector<LogLine>;

struct Parsed {
  Report report;
  size_t end = 0;
};

bool ParseGo(const Lines& lines, size_t i, Parsed* out);
bool ParseRust(const Lines& lines, size_t i, Parsed* out);
bool ParsePython(const Lines& lines, size_t i, Parsed* out);
bool ParseJava(const Lines& lines, size_t i, Parsed* out);
bool ParseNode(const Lines& lines, size_t i, Parsed* out);
bool ParseNative(const Lines& lines, size_t i, Parsed* out);

// Unrelated lines skipped inside a report's frame list before it is taken
// to have ended.
inline constexpr size_t kMaxNoiseLines = 3;

// An exception with type and value cut to kMaxTextBytes, handled = false.
model::ExceptionValue NewException(std::string_view type,
                                   std::string_view value,
                                   const char* mechanism);

// Splits "a.b.C" into module "a.b" and type "C" (no module without a dot).
void SplitQualifiedType(std::string_view qualified, model::ExceptionValue* e);

// Keeps the kMaxFramesPerThread innermost frames of a Sentry-ordered list.
void KeepInnermostFrames(std::vector<model::Frame>* frames);

// Sets platform from runtime; caps the chain at kMaxExceptions (the root
// cause and the kMaxExceptions - 1 last ones kept), frames, threads.
void FinishReport(Runtime runtime, Report* report);

// The crashed thread entry.
Thread CrashedThread(std::string_view id, std::string_view name);

// Native (C, C++, Rust-without-debug-info) in_app rule: false for libc,
// libstdc++, libgcc, the dynamic loader, sanitizer runtimes, and standard
// library code compiled into the program from system headers.
bool NativeInApp(std::string_view function, std::string_view file,
                 std::string_view package);

// The text of `s` as an int, 0 when not a number.
int IntOr0(std::string_view s);

}  // namespace crashreport
}  // namespace crashctl

#endif  // CRASHCTL_CRASHREPORT_PARSERS_H_
