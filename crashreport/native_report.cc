// C and C++: std::terminate (libstdc++ "terminate called after throwing an
// instance of 'T'" + "  what():  msg"; libc++abi "terminating due to
// uncaught exception of type T: msg"), glibc and musl assertion failures,
// AddressSanitizer / LeakSanitizer / other "==PID==ERROR: XSanitizer: ..."
// reports with their first stack, and UBSan "file:line:col: runtime error:".
#include <algorithm>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

// Lines from a sanitizer's first stack to its SUMMARY, and from the SUMMARY
// to "==PID==ABORTING" (the shadow byte table is about 40 lines).
constexpr size_t kMaxToSummary = 400;
constexpr size_t kMaxToAborting = 80;

// "    #0 0x55853dd5ff88 in read_it /tmp/uaf.c:4:63",
// "    #4 0x55853dca2300 in _start (/tmp/uaf+0x20300) (BuildId: 30bb...)",
// "    #1 0x7f... (/lib/x86_64-linux-gnu/libc.so.6+0x29d90)".
bool ParseSanitizerFrame(std::string_view s, int* number, model::Frame* frame) {
  s = Trim(s);
  if (!StartsWith(s, "#")) return false;
  size_t k = 1;
  while (k < s.size() && IsDigit(s[k])) ++k;
  if (!ParseInt(s.substr(1, k - 1), number) || k >= s.size() || s[k] != ' ') {
    return false;
  }
  s = s.substr(k + 1);
  if (!StartsWith(s, "0x")) return false;
  const size_t space = s.find(' ');
  const std::string_view address =
      space == std::string_view::npos ? s : s.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view()
                                                          : s.substr(space + 1);
  const size_t build_id = rest.rfind(" (BuildId: ");
  if (build_id != std::string_view::npos) rest = rest.substr(0, build_id);
  rest = Trim(rest);
  std::string_view function;
  std::string_view package;
  std::string_view file;
  int line = 0;
  int col = 0;
  if (StartsWith(rest, "in ")) rest.remove_prefix(3);
  // A trailing "(module+0xoffset)".
  if (EndsWith(rest, ")")) {
    const size_t open = rest.rfind('(');
    const std::string_view group =
        open == std::string_view::npos
            ? std::string_view()
            : rest.substr(open + 1, rest.size() - open - 2);
    const size_t plus = group.rfind("+0x");
    if (plus != std::string_view::npos) {
      package = group.substr(0, plus);
      rest = TrimRight(rest.substr(0, open));
    }
  }
  if (package.empty()) {
    // "function file:line:col": the location is the last word.
    const size_t last_space = rest.rfind(' ');
    const std::string_view word = last_space == std::string_view::npos
                                      ? rest
                                      : rest.substr(last_space + 1);
    std::string_view path;
    if (SplitLocation(word, &path, &line, &col) && line > 0) {
      file = path;
      rest = last_space == std::string_view::npos
                 ? std::string_view()
                 : TrimRight(rest.substr(0, last_space));
    } else {
      line = 0;
      col = 0;
    }
  }
  function = rest;
  frame->function = Truncated(function, kMaxTextBytes);
  frame->package = Truncated(package, kMaxTextBytes);
  frame->filename = Truncated(file, kMaxTextBytes);
  if (StartsWith(file, "/")) frame->abs_path = frame->filename;
  frame->lineno = line;
  frame->colno = col;
  frame->instruction_addr = Truncated(address, 32);
  frame->in_app = NativeInApp(function, file, package);
  return true;
}

// A "#0 ... #N" stack from lines[*j], innermost first in the input; Sentry
// order out.
std::vector<model::Frame> ReadSanitizerStack(const Lines& lines, size_t* j) {
  std::vector<model::Frame> frames;
  int expected = 0;
  while (*j < lines.size()) {
    int number = 0;
    model::Frame frame;
    if (!ParseSanitizerFrame(lines[*j].text, &number, &frame) ||
        number != expected) {
      break;
    }
    frames.push_back(std::move(frame));
    ++expected;
    ++*j;
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

bool IsSanitizerFrameStart(std::string_view s) {
  int number = 0;
  model::Frame frame;
  return ParseSanitizerFrame(s, &number, &frame) && number == 0;
}

// "==123==" at the start of `s`: its length, or 0.
size_t PidPrefixLength(std::string_view s) {
  if (!StartsWith(s, "==")) return 0;
  size_t k = 2;
  while (k < s.size() && IsDigit(s[k])) ++k;
  if (k == 2 || !StartsWith(s.substr(k), "==")) return 0;
  return k + 2;
}

std::string SignalForSanitizerKind(std::string_view kind) {
  if (kind == "SEGV" || kind == "stack-overflow") return "SIGSEGV";
  if (kind == "BUS") return "SIGBUS";
  if (kind == "FPE") return "SIGFPE";
  if (kind == "ILL") return "SIGILL";
  if (kind == "ABRT") return "SIGABRT";
  return "";
}

bool ParseSanitizer(const Lines& lines, size_t i, Parsed* out) {
  // The report may start with "AddressSanitizer:DEADLYSIGNAL" and a
  // "=====" rule; the ERROR line follows within two lines.
  size_t e = i;
  for (; e < lines.size() && e <= i + 2; ++e) {
    const size_t pid = PidPrefixLength(lines[e].text);
    if (pid > 0 &&
        StartsWith(std::string_view(lines[e].text).substr(pid), "ERROR: ")) {
      break;
    }
    const std::string_view s = lines[e].text;
    const bool lead_in =
        EndsWith(s, "Sanitizer:DEADLYSIGNAL") ||
        (s.size() >= 20 && s.find_first_not_of('=') == std::string_view::npos);
    if (!lead_in) return false;
  }
  if (e >= lines.size() || e > i + 2) return false;
  const std::string_view text = lines[e].text;
  const size_t pid = PidPrefixLength(text);
  const std::string_view pid_prefix = text.substr(0, pid);
  std::string_view rest = text.substr(pid + 7);  // after "ERROR: "
  const size_t colon = rest.find(": ");
  if (colon == std::string_view::npos ||
      !EndsWith(rest.substr(0, colon), "Sanitizer")) {
    return false;
  }
  const std::string_view sanitizer = rest.substr(0, colon);
  rest = rest.substr(colon + 2);
  std::string_view kind = rest.substr(0, rest.find(' '));
  std::string value(rest.substr(kind.size()));
  for (std::string_view cut : {" (pc ", " at pc "}) {
    const size_t at = value.find(cut);
    if (at != std::string::npos) value.resize(at);
  }
  value = std::string(Trim(value));
  std::string type(kind);
  std::string thread;
  const bool leak = sanitizer == "LeakSanitizer";
  if (leak) type = "memory leak";
  // Up to the first stack: "READ of size 4 at 0x... thread T0", "==PID==..."
  // notes, LeakSanitizer's "Direct leak of ... allocated from:".
  size_t j = e + 1;
  for (; j < lines.size() && j <= e + 8; ++j) {
    const std::string_view s = lines[j].text;
    if (IsSanitizerFrameStart(s)) break;
    if (StartsWith(s, "READ of size ") || StartsWith(s, "WRITE of size ") ||
        (leak && (StartsWith(s, "Direct leak of ") ||
                  StartsWith(s, "Indirect leak of ")))) {
      value = std::string(Trim(s));
      if (EndsWith(value, " allocated from:")) value.resize(value.size() - 16);
      const size_t t = value.rfind(" thread T");
      if (t != std::string::npos) thread = value.substr(t + 8);
    }
  }
  if (thread.empty()) {
    // "SEGV on unknown address 0x000 (pc 0x... bp ... sp ... T0)"
    const size_t t = text.rfind(" T");
    if (t != std::string_view::npos && EndsWith(text, ")") &&
        AllDigits(text.substr(t + 2, text.size() - t - 3))) {
      thread = std::string(text.substr(t + 1, text.size() - t - 2));
    }
  }
  Report report;
  report.exceptions.push_back(NewException(type, value, "sanitizer"));
  report.signal = SignalForSanitizerKind(kind);
  size_t end = e + 1;
  if (j < lines.size() && IsSanitizerFrameStart(lines[j].text)) {
    report.exceptions.back().frames = ReadSanitizerStack(lines, &j);
    end = j;
  }
  // Extend the span to the SUMMARY and "==PID==ABORTING".
  for (size_t k = end; k < lines.size() && k < end + kMaxToSummary; ++k) {
    if (StartsWith(lines[k].text, "SUMMARY: ")) {
      end = k + 1;
      for (size_t m = end; m < lines.size() && m < end + kMaxToAborting; ++m) {
        if (StartsWith(lines[m].text, pid_prefix) &&
            EndsWith(lines[m].text, "ABORTING")) {
          end = m + 1;
          break;
        }
      }
      break;
    }
    // Another report starts: this one has no SUMMARY in view.
    if (PidPrefixLength(lines[k].text) > 0 &&
        Contains(lines[k].text, "==ERROR: ")) {
      break;
    }
  }
  if (!thread.empty()) {
    report.thread_name = thread;
    report.threads.push_back(CrashedThread("", thread));
  }
  FinishReport(Runtime::kNative, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

// "ub.c:4:67: runtime error: signed integer overflow: ..."
bool ParseUbsan(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view s = lines[i].text;
  const size_t at = s.find(": runtime error: ");
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view path;
  int line = 0;
  int col = 0;
  const std::string_view location = s.substr(0, at);
  if (location.find(' ') != std::string_view::npos ||
      !SplitLocation(location, &path, &line, &col) || line == 0) {
    return false;
  }
  Report report;
  report.exceptions.push_back(
      NewException("undefined-behavior", s.substr(at + 17), "sanitizer"));
  size_t j = i + 1;
  std::vector<model::Frame> frames;
  if (j < lines.size() && IsSanitizerFrameStart(lines[j].text)) {
    frames = ReadSanitizerStack(lines, &j);
  }
  if (frames.empty()) {
    model::Frame frame;
    frame.filename = Truncated(path, kMaxTextBytes);
    if (StartsWith(path, "/")) frame.abs_path = frame.filename;
    frame.lineno = line;
    frame.colno = col;
    frame.in_app = NativeInApp("", path, "");
    frames.push_back(std::move(frame));
  }
  report.exceptions.back().frames = std::move(frames);
  for (size_t k = j; k < lines.size() && k < j + 2; ++k) {
    if (StartsWith(lines[k].text, "SUMMARY: UndefinedBehaviorSanitizer")) {
      j = k + 1;
      break;
    }
    if (!Trim(lines[k].text).empty()) break;
  }
  FinishReport(Runtime::kNative, &report);
  out->report = std::move(report);
  out->end = j;
  return true;
}

bool ParseTerminate(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view s = TrimRight(lines[i].text);
  Report report;
  size_t end = i + 1;
  constexpr std::string_view kThrowing =
      "terminate called after throwing an instance of '";
  constexpr std::string_view kLibcxx =
      "libc++abi: terminating due to uncaught exception of type ";
  if (StartsWith(s, kThrowing) && EndsWith(s, "'")) {
    const std::string_view type =
        s.substr(kThrowing.size(), s.size() - kThrowing.size() - 1);
    std::string_view value;
    for (size_t k = i + 1; k < lines.size() && k <= i + 2; ++k) {
      const std::string_view w = TrimLeft(lines[k].text);
      if (StartsWith(w, "what():")) {
        value = TrimLeft(w.substr(7));
        end = k + 1;
        break;
      }
    }
    report.exceptions.push_back(
        NewException(type, value, "uncaught_exception"));
  } else if (StartsWith(s, kLibcxx)) {
    const std::string_view rest = s.substr(kLibcxx.size());
    const size_t colon = rest.find(": ");
    report.exceptions.push_back(NewException(rest.substr(0, colon),
                                             colon == std::string_view::npos
                                                 ? std::string_view()
                                                 : rest.substr(colon + 2),
                                             "uncaught_exception"));
  } else if (s == "terminate called without an active exception" ||
             s == "terminate called recursively" ||
             StartsWith(s, "libc++abi: terminating")) {
    report.exceptions.push_back(NewException("std::terminate", s, "terminate"));
  } else {
    return false;
  }
  report.signal = "SIGABRT";  // std::terminate calls abort()
  FinishReport(Runtime::kNative, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

// glibc: "prog: file.c:12: main: Assertion `x == 1' failed."
// musl:  "Assertion failed: x == 1 (file.c: main: 12)"
bool ParseAssert(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view s = TrimRight(lines[i].text);
  std::string_view expression;
  std::string_view file;
  std::string_view function;
  int line = 0;
  const size_t marker = s.rfind(": Assertion `");
  if (marker != std::string_view::npos && EndsWith(s, "' failed.")) {
    const size_t from = marker + 13;
    if (from + 9 > s.size()) return false;
    expression = s.substr(from, s.size() - 9 - from);
    const std::string_view head = s.substr(0, marker);  // prog: file:line: fn
    // The first ": <file>:<line>: " after the program name.
    size_t p = head.find(": ");
    bool found = false;
    while (p != std::string_view::npos && !found) {
      const size_t q = head.find(": ", p + 2);
      const std::string_view candidate = head.substr(
          p + 2, q == std::string_view::npos ? head.size() - p - 2 : q - p - 2);
      std::string_view path;
      int col = 0;
      if (SplitLocation(candidate, &path, &line, &col) && col == 0 &&
          line > 0) {
        file = path;
        function = q == std::string_view::npos ? std::string_view()
                                               : head.substr(q + 2);
        found = true;
      }
      p = q;
    }
    if (!found) return false;
  } else if (StartsWith(s, "Assertion failed: ") && EndsWith(s, ")")) {
    const size_t open = s.rfind(" (");
    if (open == std::string_view::npos || open < 18) return false;
    expression = s.substr(18, open - 18);
    const std::string_view inside = s.substr(open + 2, s.size() - open - 3);
    const size_t a = inside.find(": ");
    const size_t b = inside.rfind(": ");
    if (a == std::string_view::npos || a == b ||
        !ParseInt(inside.substr(b + 2), &line)) {
      return false;
    }
    file = inside.substr(0, a);
    function = inside.substr(a + 2, b - a - 2);
  } else {
    return false;
  }
  Report report;
  report.exceptions.push_back(
      NewException("Assertion failed", expression, "assert"));
  model::Frame frame;
  frame.function = Truncated(function, kMaxTextBytes);
  frame.filename = Truncated(file, kMaxTextBytes);
  if (StartsWith(file, "/")) frame.abs_path = frame.filename;
  frame.lineno = line;
  frame.in_app = NativeInApp(function, file, "");
  report.exceptions.back().frames.push_back(std::move(frame));
  report.signal = "SIGABRT";  // assert() calls abort()
  FinishReport(Runtime::kNative, &report);
  out->report = std::move(report);
  out->end = i + 1;
  return true;
}

}  // namespace

bool ParseNative(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view s = lines[i].text;
  if (s.empty()) return false;
  if (s[0] == 't' || s[0] == 'l') {
    if (ParseTerminate(lines, i, out)) return true;
  }
  if (s[0] == '=' || EndsWith(s, "Sanitizer:DEADLYSIGNAL")) {
    if (ParseSanitizer(lines, i, out)) return true;
  }
  if (Contains(s, ": runtime error: ") && ParseUbsan(lines, i, out)) {
    return true;
  }
  if (Contains(s, "Assertion") && ParseAssert(lines, i, out)) return true;
  return false;
}

}  // namespace crashreport
}  // namespace crashctl
