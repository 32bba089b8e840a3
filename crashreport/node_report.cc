// Node.js (and any V8 stack): an uncaught exception's preamble ("/app/x.js:3",
// the source line, the caret line, a blank line), "TypeError: msg", frames
// "    at fn (/app/x.js:3:9)", an own-properties block "{ ... }" that may hold
// "[cause]: Error: ..." with its own frames, and the "Node.js v20.x" trailer.
// Also a bare "Error: msg" directly followed by "    at " frames (a logged
// error.stack), and a thrown non-Error value (preamble, value, "(Use `node
// --trace-uncaught ...`").
#include <algorithm>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr size_t kMaxMessageLines = 20;
constexpr size_t kMaxPropertyLines = 2000;
constexpr int kMaxCauseDepth = 10;

bool IsJsIdentifierStart(char c) { return IsAlpha(c) || c == '_' || c == '$'; }
bool IsJsIdentifierChar(char c) { return IsJsIdentifierStart(c) || IsDigit(c); }

bool NodeInApp(std::string_view path) {
  if (path.empty()) return false;
  if (StartsWith(path, "node:") || StartsWith(path, "internal/") ||
      StartsWith(path, "<") || path == "native" || StartsWith(path, "index ")) {
    return false;
  }
  if (Contains(path, "/node_modules/") || Contains(path, "\\node_modules\\")) {
    return false;
  }
  // Core modules of older Node versions: "events.js", "_stream_readable.js".
  return path.find_first_of("/\\") != std::string_view::npos;
}

struct JsFrame {
  model::Frame frame;
  std::string_view text;  // the trimmed "at ..." text, to match cause frames
  bool opens_block = false;
};

// "at fn (/app/x.js:3:9)", "at /app/x.js:3:9", "at async f (file:///x.mjs:
// 1:2)", "at JSON.parse (<anonymous>)", "at Promise.all (index 0)"; a
// trailing " {" opens the error's properties block.
bool ParseFrame(std::string_view s, JsFrame* out) {
  std::string_view t = Trim(s);
  if (!StartsWith(t, "at ")) return false;
  bool opens = false;
  if (EndsWith(t, " {")) {
    opens = true;
    t = TrimRight(t.substr(0, t.size() - 2));
  }
  const std::string_view body = t.substr(3);
  std::string_view function;
  std::string_view location = body;
  if (EndsWith(body, ")")) {
    int depth = 0;
    size_t k = body.size();
    while (k > 0) {
      --k;
      if (body[k] == ')') ++depth;
      if (body[k] == '(' && --depth == 0) break;
    }
    if (depth != 0) return false;
    if (k > 0) {
      if (body[k - 1] != ' ') return false;  // "a.B.c(B.java:1)" is JVM
      function = TrimRight(body.substr(0, k));
    }
    location = body.substr(k + 1, body.size() - k - 2);
  }
  std::string_view path;
  int line = 0;
  int col = 0;
  model::Frame frame;
  if (SplitLocation(location, &path, &line, &col) && col > 0) {
    if (StartsWith(path, "file://")) path.remove_prefix(7);
    frame.filename = Truncated(path, kMaxTextBytes);
    frame.lineno = line;
    frame.colno = col;
  } else if (location == "<anonymous>" || location == "native" ||
             StartsWith(location, "index ")) {
    if (function.empty()) return false;
    path = location;
    frame.filename = Truncated(location, kMaxTextBytes);
  } else {
    return false;
  }
  if (StartsWith(path, "/") ||
      (path.size() > 2 && path[1] == ':' && path[2] == '\\')) {
    frame.abs_path = frame.filename;
  }
  frame.function = Truncated(function, kMaxTextBytes);
  frame.in_app = NodeInApp(path);
  out->frame = std::move(frame);
  out->text = t;
  out->opens_block = opens;
  return true;
}

bool IsFrameAt(const Lines& lines, size_t j, size_t indent) {
  JsFrame f;
  return j < lines.size() && Indent(lines[j].text) == indent &&
         ParseFrame(lines[j].text, &f);
}

// "    ... 5 lines matching cause stack trace ..."
bool ParseElided(std::string_view s, int* n) {
  constexpr std::string_view kSuffix = " lines matching cause stack trace ...";
  s = Trim(s);
  if (!StartsWith(s, "... ") || !EndsWith(s, kSuffix)) return false;
  return ParseInt(s.substr(4, s.size() - 4 - kSuffix.size()), n);
}

// "TypeError: msg", "Error", "SystemError [ERR_X]: msg"; the type must be
// capitalised.
bool ParseHeader(std::string_view s, std::string_view* type,
                 std::string_view* value) {
  size_t k = 0;
  size_t last_start = 0;
  while (k < s.size()) {
    if (!IsJsIdentifierStart(s[k])) return false;
    last_start = k;
    while (k < s.size() && IsJsIdentifierChar(s[k])) ++k;
    if (k + 1 < s.size() && s[k] == '.' && IsJsIdentifierStart(s[k + 1])) {
      ++k;
      continue;
    }
    break;
  }
  if (k == 0 || !(s[last_start] >= 'A' && s[last_start] <= 'Z')) return false;
  *type = s.substr(0, k);
  std::string_view rest = s.substr(k);
  if (StartsWith(rest, " [")) {  // Node's error code
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    rest = rest.substr(close + 1);
  }
  if (!rest.empty() && !StartsWith(rest, ": ") && rest != ":") return false;
  *value = rest.size() > 2 ? rest.substr(2) : std::string_view();
  return true;
}

struct JsError {
  model::ExceptionValue exception;
  std::vector<JsFrame> frames;                // innermost first
  size_t elided_at = std::string_view::npos;  // index in frames
  int elided = 0;
};

class ErrorParser {
 public:
  explicit ErrorParser(const Lines& lines) : lines_(lines) {}
  ErrorParser(const ErrorParser&) = delete;
  ErrorParser& operator=(const ErrorParser&) = delete;

  // The error whose header text starts at lines[*j] after `prefix` bytes,
  // its frames at indent + 4, its properties block; appends it and its
  // causes to errors_ (outermost first).
  bool Parse(size_t* j, size_t indent, size_t prefix, int depth) {
    std::string_view type;
    std::string_view value;
    const std::string_view header = lines_[*j].text;
    if (prefix > header.size() ||
        !ParseHeader(header.substr(prefix), &type, &value)) {
      return false;
    }
    const size_t frame_indent = indent + 4;
    // Message lines up to the first frame.
    size_t k = *j + 1;
    while (k < lines_.size() && k <= *j + kMaxMessageLines &&
           !IsFrameAt(lines_, k, frame_indent)) {
      ++k;
    }
    if (!IsFrameAt(lines_, k, frame_indent)) return false;
    std::string message(value);
    for (size_t m = *j + 1; m < k; ++m) {
      message += '\n';
      message += lines_[m].text;
    }
    JsError error;
    error.exception = NewException(type, message, "uncaught_exception");
    bool opens_block = false;
    size_t at = k;
    while (at < lines_.size()) {
      JsFrame frame;
      int elided = 0;
      const std::string_view s = lines_[at].text;
      if (Indent(s) == frame_indent && ParseFrame(s, &frame)) {
        opens_block = frame.opens_block;
        error.frames.push_back(std::move(frame));
        ++at;
        if (opens_block) break;
      } else if (Indent(s) == frame_indent && ParseElided(s, &elided)) {
        error.elided_at = error.frames.size();
        error.elided = elided;
        ++at;
      } else {
        size_t next = at + 1;
        while (next < lines_.size() && next <= at + kMaxNoiseLines &&
               !IsFrameAt(lines_, next, frame_indent)) {
          ++next;
        }
        if (next >= lines_.size() || next > at + kMaxNoiseLines) break;
        at = next;
      }
    }
    const size_t index = errors_.size();
    errors_.push_back(std::move(error));
    if (opens_block) {
      // Properties up to the "}" at the error's indent; "[cause]: ..."
      // at indent + 2 is the cause.
      const std::string close = std::string(indent, ' ') + "}";
      size_t n = 0;
      while (at < lines_.size() && n++ < kMaxPropertyLines) {
        const std::string_view s = lines_[at].text;
        if (TrimRight(s) == close) {
          ++at;
          break;
        }
        if (depth < kMaxCauseDepth && Indent(s) == indent + 2 &&
            StartsWith(s.substr(indent + 2), "[cause]: ") &&
            errors_.size() == index + 1) {
          size_t cause_at = at;
          if (Parse(&cause_at, indent + 2, indent + 2 + 9, depth + 1)) {
            at = cause_at;
            continue;
          }
        }
        ++at;
      }
    }
    *j = at;
    return true;
  }

  // Sentry order: the deepest cause first, frames outermost first.
  std::vector<model::ExceptionValue> Chain() {
    // Fill "... N lines matching cause stack trace ..." from the cause.
    for (size_t e = 0; e + 1 < errors_.size(); ++e) {
      JsError& error = errors_[e];
      const JsError& cause = errors_[e + 1];
      if (error.elided_at == std::string_view::npos || error.elided_at == 0) {
        continue;
      }
      const std::string_view before = error.frames[error.elided_at - 1].text;
      for (size_t q = 0; q < cause.frames.size(); ++q) {
        if (cause.frames[q].text != before) continue;
        const size_t from = q + 1;
        const size_t to = std::min(cause.frames.size(),
                                   from + static_cast<size_t>(error.elided));
        error.frames.insert(error.frames.begin() + error.elided_at,
                            cause.frames.begin() + from,
                            cause.frames.begin() + to);
        break;
      }
    }
    std::vector<model::ExceptionValue> chain;
    for (auto it = errors_.rbegin(); it != errors_.rend(); ++it) {
      for (auto f = it->frames.rbegin(); f != it->frames.rend(); ++f) {
        it->exception.frames.push_back(std::move(f->frame));
      }
      chain.push_back(std::move(it->exception));
    }
    return chain;
  }

 private:
  const Lines& lines_;
  std::vector<JsError> errors_;
};

bool IsCaretLine(std::string_view s) {
  s = Trim(s);
  return !s.empty() && s.find_first_not_of('^') == std::string_view::npos;
}

// "/app/x.js:3", "node:internal/process/promises:389", "file:///x.mjs:3".
bool IsPreamble(std::string_view s, std::string_view* path, int* line) {
  int col = 0;
  return !s.empty() && !IsSpace(s[0]) &&
         s.find(' ') == std::string_view::npos &&
         SplitLocation(s, path, line, &col) && col == 0 && *line > 0;
}

}  // namespace

bool ParseNode(const Lines& lines, size_t i, Parsed* out) {
  std::string_view preamble_path;
  int preamble_line = 0;
  size_t j = i;
  bool preamble = false;
  if (IsPreamble(lines[i].text, &preamble_path, &preamble_line) &&
      i + 2 < lines.size() && IsCaretLine(lines[i + 2].text)) {
    preamble = true;
    j = i + 3;
    if (j < lines.size() && Trim(lines[j].text).empty()) ++j;
  } else if (!IsFrameAt(lines, i + 1, 4)) {
    return false;
  }
  if (j >= lines.size()) return false;
  Report report;
  ErrorParser parser(lines);
  size_t end = j;
  if (parser.Parse(&end, 0, 0, 0)) {
    report.exceptions = parser.Chain();
  } else if (preamble) {
    // A thrown non-Error value: its printed form up to Node's hint.
    size_t k = j;
    while (k < lines.size() && k < j + kMaxMessageLines &&
           !StartsWith(lines[k].text, "(Use `node --trace-uncaught")) {
      ++k;
    }
    if (k >= lines.size() ||
        !StartsWith(lines[k].text, "(Use `node --trace-uncaught")) {
      return false;
    }
    std::string value;
    for (size_t m = j; m < k; ++m) {
      if (m > j) value += '\n';
      value += lines[m].text;
    }
    report.exceptions.push_back(
        NewException("Error", value, "uncaught_exception"));
    model::Frame frame;
    std::string_view path = preamble_path;
    if (StartsWith(path, "file://")) path.remove_prefix(7);
    frame.filename = Truncated(path, kMaxTextBytes);
    if (StartsWith(path, "/")) frame.abs_path = frame.filename;
    frame.lineno = preamble_line;
    frame.in_app = NodeInApp(path);
    report.exceptions.back().frames.push_back(std::move(frame));
    end = k + 1;
  } else {
    return false;
  }
  // The "Node.js v20.11.1" trailer.
  for (size_t k = end; k < lines.size() && k < end + 3; ++k) {
    if (StartsWith(lines[k].text, "Node.js v")) {
      end = k + 1;
      break;
    }
    if (!Trim(lines[k].text).empty()) break;
  }
  FinishReport(Runtime::kNode, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

}  // namespace crashreport
}  // namespace crashctl
