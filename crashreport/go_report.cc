// Go: "panic: ..." (with "[recovered]" and nested "\tpanic: ..." lines),
// "fatal error: ...", and signal crashes outside Go code ("SIGSEGV:
// segmentation violation" + "PC=0x..."), each followed by goroutine traces.
#include <algorithm>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr size_t kMaxMessageLines = 20;
// Lines between the header and the first goroutine besides "[signal ...]"
// and a "runtime stack:" block: blank lines, "PC=0x...", "unexpected fault
// address ...", unrelated lines.
constexpr size_t kMaxGapLines = 6;

// Top-level packages of the Go standard library (and "vendor", GOROOT's
// vendored golang.org/x code): a function in one of them is not in-app.
constexpr std::string_view kStdPackages[] = {
    "archive",  "arena",     "bufio",   "builtin", "bytes",    "cmp",
    "compress", "container", "context", "crypto",  "database", "debug",
    "embed",    "encoding",  "errors",  "expvar",  "flag",     "fmt",
    "go",       "hash",      "html",    "image",   "index",    "internal",
    "io",       "iter",      "log",     "maps",    "math",     "mime",
    "net",      "os",        "path",    "plugin",  "reflect",  "regexp",
    "runtime",  "slices",    "sort",    "strconv", "strings",  "structs",
    "sync",     "syscall",   "testing", "text",    "time",     "unicode",
    "unique",   "unsafe",    "vendor",  "weak"};

// Messages of panics raised by the runtime itself without the "runtime
// error: " prefix (they are runtime.Error values too).
constexpr std::string_view kRuntimePanics[] = {
    "assignment to entry in nil map", "send on closed channel",
    "close of closed channel",        "close of nil channel",
    "makeslice: len out of range",    "makeslice: cap out of range",
    "makechan: size out of range",    "growslice: len out of range",
    "makemap: size out of range"};

// "goroutine 1 [running]:", "goroutine 7 gp=0x... m=0 mp=0x... [chan send]:"
bool ParseGoroutineHeader(std::string_view s, std::string_view* id) {
  if (!StartsWith(s, "goroutine ") || !EndsWith(s, "]:")) return false;
  size_t p = 10;
  size_t q = p;
  while (q < s.size() && IsDigit(s[q])) ++q;
  if (q == p || q >= s.size() || s[q] != ' ') return false;
  if (s.find('[', q) == std::string_view::npos) return false;
  *id = s.substr(p, q - p);
  return true;
}

// The package path of a Go function name: "net/http.(*conn).serve" ->
// "net/http", "main.main" -> "main", "panic" -> "".
std::string_view GoPackage(std::string_view function) {
  const size_t slash = function.rfind('/');
  const size_t from = slash == std::string_view::npos ? 0 : slash + 1;
  const size_t dot = function.find('.', from);
  if (dot == std::string_view::npos) return {};
  return function.substr(0, dot);
}

bool GoInApp(std::string_view function, std::string_view package,
             std::string_view file) {
  if (package.empty()) return false;  // builtins: "panic", "goexit"
  if (package == "main") return true;
  std::string_view top = package.substr(0, package.find('/'));
  for (std::string_view std_package : kStdPackages) {
    if (top == std_package) return false;
  }
  (void)function;
  // Dependencies: the module cache and vendored code.
  if (Contains(file, "/pkg/mod/") || Contains(file, "/vendor/")) return false;
  return true;
}

// "\t/src/main.go:12 +0x1d" or "\t/src/x.go:5 +0x25 fp=0x... sp=... pc=...".
bool ParseLocationLine(std::string_view s, model::Frame* frame) {
  if (s.empty() || s[0] != '\t') return false;
  s = s.substr(1);
  for (std::string_view cut : {" +0x", " fp=", " pc="}) {
    const size_t at = s.find(cut);
    if (at != std::string_view::npos) s = s.substr(0, at);
  }
  s = TrimRight(s);
  std::string_view path;
  int line = 0;
  int col = 0;
  if (!SplitLocation(s, &path, &line, &col)) return false;
  if (col != 0) return false;  // Go prints no column
  frame->filename = Truncated(path, kMaxTextBytes);
  if (StartsWith(path, "/")) frame->abs_path = frame->filename;
  frame->lineno = line;
  return true;
}

// "main.(*T).m(0x1, 0x2)", "main.f(...)", "panic({0x48af20, 0xc000})":
// the name without its final argument list.
bool ParseFunctionLine(std::string_view s, std::string_view* function) {
  if (s.empty() || IsSpace(s[0]) || s.back() != ')') return false;
  int depth = 0;
  size_t k = s.size();
  while (k > 0) {
    --k;
    if (s[k] == ')') ++depth;
    if (s[k] == '(' && --depth == 0) break;
  }
  if (depth != 0 || k == 0) return false;
  *function = s.substr(0, k);
  return function->find(' ') == std::string_view::npos;
}

bool StartsReportPart(std::string_view s) {
  std::string_view id;
  return StartsWith(s, "panic: ") || StartsWith(s, "fatal error: ") ||
         StartsWith(s, "runtime stack:") || StartsWith(s, "[signal ") ||
         ParseGoroutineHeader(s, &id);
}

bool IsFramePair(const Lines& lines, size_t j) {
  std::string_view function;
  model::Frame frame;
  return j + 1 < lines.size() && ParseFunctionLine(lines[j].text, &function) &&
         ParseLocationLine(lines[j + 1].text, &frame);
}

// Reads the frames of one stack from lines[*j] (innermost first) into
// Sentry order; stops at a blank line or the first line that is not a
// frame (after skipping up to kMaxNoiseLines unrelated lines).
std::vector<model::Frame> ReadStack(const Lines& lines, size_t* j) {
  std::vector<model::Frame> frames;
  while (*j < lines.size()) {
    const std::string_view s = lines[*j].text;
    if (Trim(s).empty()) break;
    std::string_view function;
    model::Frame frame;
    if (StartsWith(s, "created by ")) {
      // Where the goroutine was started, not part of its call stack.
      *j += (*j + 1 < lines.size() &&
             ParseLocationLine(lines[*j + 1].text, &frame))
                ? 2
                : 1;
      continue;
    }
    if (StartsWith(s, "...") && Contains(s, "frames elided")) {
      ++*j;
      continue;
    }
    if (ParseFunctionLine(s, &function) && *j + 1 < lines.size() &&
        ParseLocationLine(lines[*j + 1].text, &frame)) {
      frame.function = Truncated(function, kMaxTextBytes);
      const std::string_view package = GoPackage(function);
      frame.module = Truncated(package, kMaxTextBytes);
      frame.in_app = GoInApp(function, package, frame.filename);
      frames.push_back(std::move(frame));
      *j += 2;
      continue;
    }
    // Unrelated lines inside the stack: skip them when a frame follows,
    // unless they start another part of a report (which also keeps the scan
    // from every header line linear overall).
    if (StartsReportPart(s)) break;
    size_t next = *j + 1;
    while (next < lines.size() && next <= *j + kMaxNoiseLines &&
           !IsFramePair(lines, next)) {
      ++next;
    }
    if (next < lines.size() && next <= *j + kMaxNoiseLines) {
      *j = next;
      continue;
    }
    break;
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

// "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4606]"
bool ParseSignalLine(std::string_view s, std::string* signal) {
  if (!StartsWith(s, "[signal ")) return false;
  std::string_view name = s.substr(8);
  name = name.substr(0, name.find_first_of(": ]"));
  if (!StartsWith(name, "SIG")) return false;
  *signal = std::string(name);
  return true;
}

// "SIGSEGV: segmentation violation" (a signal in non-Go code, or SIGQUIT).
bool ParseSignalHeader(const Lines& lines, size_t i, std::string_view* name,
                       std::string_view* description) {
  const std::string_view s = lines[i].text;
  if (!StartsWith(s, "SIG") || i + 1 >= lines.size() ||
      !StartsWith(lines[i + 1].text, "PC=0x")) {
    return false;
  }
  const size_t colon = s.find(": ");
  if (colon == std::string_view::npos || colon > 12) return false;
  for (size_t k = 3; k < colon; ++k) {
    if (!(s[k] >= 'A' && s[k] <= 'Z') && !IsDigit(s[k])) return false;
  }
  *name = s.substr(0, colon);
  *description = s.substr(colon + 2);
  return true;
}

std::string_view StripRecovered(std::string_view value) {
  // "A [recovered]", "A [recovered, repanicked]"
  const size_t at = value.rfind(" [recovered");
  if (at != std::string_view::npos && EndsWith(value, "]")) {
    return value.substr(0, at);
  }
  return value;
}

model::ExceptionValue PanicException(std::string_view value) {
  if (StartsWith(value, "runtime error: ")) {
    return NewException("runtime.Error", value.substr(15), "panic");
  }
  for (std::string_view message : kRuntimePanics) {
    if (value == message) return NewException("runtime.Error", value, "panic");
  }
  // Values that are neither errors, Stringers nor basic kinds print as
  // "(main.T) 0xc000012345".
  if (StartsWith(value, "(")) {
    const size_t close = value.find(") ");
    if (close != std::string_view::npos && close > 1 &&
        value.substr(1, close - 1).find(' ') == std::string_view::npos) {
      return NewException(value.substr(1, close - 1), value.substr(close + 2),
                          "panic");
    }
  }
  return NewException("panic", value, "panic");
}

bool EndsMessage(std::string_view s) {
  std::string_view id;
  return Trim(s).empty() || StartsWith(s, "[signal ") ||
         StartsWith(s, "\tpanic: ") || StartsWith(s, "goroutine ") ||
         StartsWith(s, "runtime stack:") || StartsWith(s, "panic: ") ||
         StartsWith(s, "fatal error: ") || ParseGoroutineHeader(s, &id);
}

}  // namespace

bool ParseGo(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view first = lines[i].text;
  Report report;
  size_t j = i + 1;
  std::string_view signal_name;
  std::string_view signal_description;
  if (StartsWith(first, "panic: ")) {
    // "panic: A [recovered]" / "\tpanic: B" ...: A is the root cause.
    std::string value(StripRecovered(first.substr(7)));
    auto flush = [&report](std::string* v) {
      report.exceptions.push_back(PanicException(*v));
      v->clear();
    };
    size_t message_lines = 0;
    while (j < lines.size()) {
      const std::string_view s = lines[j].text;
      if (StartsWith(s, "\tpanic: ")) {
        flush(&value);
        value = std::string(StripRecovered(s.substr(8)));
        message_lines = 0;
      } else if (!EndsMessage(s) && message_lines < kMaxMessageLines) {
        value += '\n';  // a panic value with newlines
        value += s;
        ++message_lines;
      } else {
        break;
      }
      ++j;
    }
    flush(&value);
  } else if (StartsWith(first, "fatal error: ")) {
    report.exceptions.push_back(
        NewException("fatal error", first.substr(13), "fatal_error"));
    // Racing goroutines may print the same line twice.
    while (j < lines.size() && lines[j].text == first) ++j;
  } else if (ParseSignalHeader(lines, i, &signal_name, &signal_description)) {
    report.exceptions.push_back(
        NewException(signal_name, signal_description, "signal"));
    report.signal = std::string(signal_name);
    j = i + 2;  // past "PC=0x..."
  } else {
    return false;
  }

  // Up to the first goroutine: "[signal ...]", blank lines, a "runtime
  // stack:" block (the system stack; not kept), a few unrelated lines.
  bool have_signal_line = false;
  size_t header_end = j;  // one past the last line known to be the header's
  std::string_view id;
  size_t budget = kMaxGapLines;
  while (j < lines.size() && !ParseGoroutineHeader(lines[j].text, &id)) {
    const std::string_view s = lines[j].text;
    std::string signal;
    if (ParseSignalLine(s, &signal)) {
      report.signal = signal;
      have_signal_line = true;
      header_end = ++j;
    } else if (StartsWith(s, "runtime stack:")) {
      ++j;
      ReadStack(lines, &j);
    } else if (StartsWith(s, "panic: ") || StartsWith(s, "fatal error: ")) {
      break;  // another header: this one was a log line, or cut short
    } else if (budget > 0) {
      --budget;
      ++j;
    } else {
      break;
    }
  }
  if (j >= lines.size() || !ParseGoroutineHeader(lines[j].text, &id)) {
    // No goroutine trace (GOTRACEBACK=none): only a "[signal ...]" line
    // makes the header a crash rather than a log message.
    if (!have_signal_line) return false;
    FinishReport(Runtime::kGo, &report);
    out->report = std::move(report);
    out->end = header_end;
    return true;
  }

  // The first goroutine is the one that crashed; the others follow.
  bool crashed = true;
  size_t end = j;
  while (j < lines.size() && ParseGoroutineHeader(lines[j].text, &id)) {
    const std::string name = "goroutine " + std::string(id);
    const std::string id_text(id);
    ++j;
    std::vector<model::Frame> frames = ReadStack(lines, &j);
    end = j;
    if (crashed) {
      report.exceptions.back().frames = std::move(frames);
      report.thread_name = name;
      report.threads.push_back(CrashedThread(id_text, name));
      crashed = false;
    } else if (report.threads.size() < kMaxThreads) {
      Thread thread;
      thread.id = id_text;
      thread.name = name;
      thread.frames = std::move(frames);
      report.threads.push_back(std::move(thread));
    }
    // Goroutines are separated by one blank line.
    size_t next = j;
    while (next < lines.size() && next < j + 2 &&
           Trim(lines[next].text).empty()) {
      ++next;
    }
    if (next >= lines.size() || !ParseGoroutineHeader(lines[next].text, &id)) {
      break;
    }
    j = next;
  }
  // "exit status 2" from `go run`.
  if (end < lines.size() && StartsWith(lines[end].text, "exit status ")) ++end;
  FinishReport(Runtime::kGo, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

}  // namespace crashreport
}  // namespace crashctl
