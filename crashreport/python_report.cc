// Python: "Traceback (most recent call last):" blocks, chained by "During
// handling of the above exception, another exception occurred:" and "The
// above exception was the direct cause of the following exception:", and a
// SyntaxError in the main script (printed without a Traceback header).
#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr std::string_view kTraceback = "Traceback (most recent call last):";
// Lines (notes, blank lines) between an exception and a chain marker.
constexpr size_t kMaxChainGap = 4;

bool IsIdentifierStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || IsDigit(c); }

bool PythonInApp(std::string_view path) {
  if (StartsWith(path, "<frozen")) return false;
  if (StartsWith(path, "<")) return true;  // <string>, <stdin>: user code
  if (Contains(path, "site-packages") || Contains(path, "dist-packages")) {
    return false;  // third-party packages
  }
  for (std::string_view lib : {"/lib/python", "/lib64/python", "\\Lib\\"}) {
    const size_t at = path.find(lib);
    if (at == std::string_view::npos) continue;
    const size_t after = at + lib.size();
    if (lib == "\\Lib\\" || (after < path.size() && IsDigit(path[after]))) {
      return false;  // the standard library
    }
  }
  return true;
}

// '  File "x.py", line 3, in <module>' (", in ..." absent for syntax errors).
bool ParseFileLine(std::string_view s, model::Frame* frame) {
  if (!StartsWith(s, "  File \"")) return false;
  s.remove_prefix(8);
  const size_t end = s.find("\", line ");
  if (end == std::string_view::npos || end == 0) return false;
  const std::string_view path = s.substr(0, end);
  std::string_view rest = s.substr(end + 8);
  size_t k = 0;
  while (k < rest.size() && IsDigit(rest[k])) ++k;
  int line = 0;
  if (!ParseInt(rest.substr(0, k), &line)) return false;
  rest = rest.substr(k);
  std::string_view function;
  if (StartsWith(rest, ", in ")) {
    function = TrimRight(rest.substr(5));
  } else if (!Trim(rest).empty()) {
    return false;
  }
  frame->filename = Truncated(path, kMaxTextBytes);
  if (StartsWith(path, "/") ||
      (path.size() > 2 && path[1] == ':' && path[2] == '\\')) {
    frame->abs_path = frame->filename;
  }
  frame->lineno = line;
  frame->function = Truncated(function, kMaxTextBytes);
  frame->in_app = PythonInApp(path);
  return true;
}

// "ValueError: msg", "json.decoder.JSONDecodeError: msg", "KeyboardInterrupt".
bool ParseExceptionLine(std::string_view s, std::string_view* type,
                        std::string_view* value) {
  if (s.empty() || !IsIdentifierStart(s[0])) return false;
  size_t k = 0;
  size_t last_start = 0;
  bool dotted = false;
  while (k < s.size()) {
    if (!IsIdentifierStart(s[k])) return false;
    last_start = k;
    while (k < s.size() && IsIdentifierChar(s[k])) ++k;
    if (k < s.size() && s[k] == '.' && k + 1 < s.size() &&
        IsIdentifierStart(s[k + 1])) {
      dotted = true;
      ++k;
      continue;
    }
    break;
  }
  const std::string_view rest = s.substr(k);
  if (!rest.empty() && !StartsWith(rest, ": ") && rest != ":") return false;
  // A class name: capitalised, or qualified by its module.
  if (!dotted && !(s[last_start] >= 'A' && s[last_start] <= 'Z')) {
    return false;
  }
  *type = s.substr(0, k);
  *value = rest.size() > 2 ? rest.substr(2) : std::string_view();
  return true;
}

bool IsSourceLine(std::string_view s) {
  // The source line and the 3.11+ caret line are indented by 4; the
  // recursion note by 2.
  return StartsWith(s, "    ") ||
         StartsWith(TrimLeft(s), "[Previous line repeated ");
}

// One traceback's frames and exception, from lines[*j] (just after the
// header, or at the File line of a bare syntax error).
bool ParseBlock(const Lines& lines, size_t* j,
                model::ExceptionValue* exception) {
  std::vector<model::Frame> frames;
  size_t noise = 0;
  while (*j < lines.size()) {
    const std::string_view s = lines[*j].text;
    model::Frame frame;
    std::string_view type;
    std::string_view value;
    if (ParseFileLine(s, &frame)) {
      frames.push_back(std::move(frame));
      noise = 0;
    } else if (!frames.empty() && IsSourceLine(s)) {
      noise = 0;
    } else if (TrimRight(s) == kTraceback) {
      // Another traceback starts: this one was cut short. (Stopping here
      // also keeps the scan from every Traceback line linear overall.)
      return false;
    } else if (!frames.empty() && ParseExceptionLine(s, &type, &value)) {
      *exception = NewException("", value, "traceback");
      SplitQualifiedType(type, exception);
      exception->frames = std::move(frames);
      KeepInnermostFrames(&exception->frames);
      ++*j;
      return true;
    } else if (++noise > kMaxNoiseLines) {
      return false;
    }
    ++*j;
  }
  return false;
}

bool IsChainMarker(std::string_view s) {
  s = TrimRight(s);
  return s == "During handling of the above exception, another exception "
              "occurred:" ||
         s == "The above exception was the direct cause of the following "
              "exception:";
}

bool IsSyntaxErrorLine(std::string_view s) {
  return StartsWith(s, "SyntaxError") || StartsWith(s, "IndentationError") ||
         StartsWith(s, "TabError");
}

}  // namespace

bool ParsePython(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view first = TrimRight(lines[i].text);
  Report report;
  size_t j = i;
  if (first == kTraceback) {
    ++j;
  } else {
    // A syntax error in the main script: File line, source, caret, error.
    model::Frame frame;
    if (!ParseFileLine(lines[i].text, &frame) || !frame.function.empty()) {
      return false;
    }
    bool found = false;
    for (size_t k = i + 1; k < lines.size() && k <= i + 4 && !found; ++k) {
      found = IsSyntaxErrorLine(lines[k].text);
    }
    if (!found) return false;
  }
  model::ExceptionValue exception;
  if (!ParseBlock(lines, &j, &exception)) return false;
  report.exceptions.push_back(std::move(exception));
  size_t end = j;
  // Chained exceptions: marker, blank, header, block.
  while (report.exceptions.size() < 4 * kMaxExceptions) {
    size_t k = end;
    while (k < lines.size() && k < end + kMaxChainGap &&
           !IsChainMarker(lines[k].text)) {
      ++k;
    }
    if (k >= lines.size() || !IsChainMarker(lines[k].text)) break;
    ++k;
    while (k < lines.size() && k < end + kMaxChainGap + 3 &&
           Trim(lines[k].text).empty()) {
      ++k;
    }
    if (k >= lines.size() || TrimRight(lines[k].text) != kTraceback) break;
    ++k;
    model::ExceptionValue next;
    if (!ParseBlock(lines, &k, &next)) break;
    report.exceptions.push_back(std::move(next));
    end = k;
  }
  FinishReport(Runtime::kPython, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

}  // namespace crashreport
}  // namespace crashctl
