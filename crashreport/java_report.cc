// JVM (Java, Kotlin, Scala): "Exception in thread "main" a.b.C: msg", or any
// "a.b.C: msg" line directly followed by "\tat ..." frames (a logged stack
// trace); "Caused by: ..." sections, "\t... N more" (filled in from the
// enclosing trace), and "\tSuppressed: ..." blocks (skipped).
#include <algorithm>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr size_t kMaxMessageLines = 20;

bool IsJavaIdentifierStart(char c) {
  return IsAlpha(c) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsJavaIdentifierChar(char c) {
  return IsJavaIdentifierStart(c) || IsDigit(c);
}

bool JavaInApp(std::string_view cls, std::string_view jdk_module) {
  if (StartsWith(jdk_module, "java.") || StartsWith(jdk_module, "jdk.")) {
    return false;
  }
  static constexpr std::string_view kRuntimePrefixes[] = {
      "java.",   "javax.",   "jdk.",   "sun.",         "com.sun.",
      "kotlin.", "kotlinx.", "scala.", "groovy.lang.", "org.codehaus.groovy."};
  for (std::string_view p : kRuntimePrefixes) {
    if (StartsWith(cls, p)) return false;
  }
  return true;
}

// "\tat com.x.Main.f(Main.java:12)", "\tat java.base/java.lang.Thread.run(
// Thread.java:840)", "\tat app//a.B.c(Native Method)".
bool ParseFrame(std::string_view s, model::Frame* frame) {
  s = Trim(s);
  if (!StartsWith(s, "at ")) return false;
  s.remove_prefix(3);
  // "~[app.jar:1.0]" / "[app.jar:1.0]" packaging suffixes (logback).
  const size_t bracket = s.find(") ");
  if (bracket != std::string_view::npos &&
      (s.find("[", bracket) != std::string_view::npos)) {
    s = s.substr(0, bracket + 1);
  }
  if (s.size() < 4 || s.back() != ')') return false;
  const size_t open = s.find('(');
  if (open == std::string_view::npos || open == 0) return false;
  std::string_view qualified = s.substr(0, open);
  if (qualified.find(' ') != std::string_view::npos) return false;
  const std::string_view inside = s.substr(open + 1, s.size() - open - 2);
  std::string_view jdk_module;
  const size_t slash = qualified.rfind('/');
  if (slash != std::string_view::npos) {
    jdk_module = qualified.substr(0, slash);
    qualified = qualified.substr(slash + 1);
  }
  const size_t dot = qualified.rfind('.');
  if (dot == std::string_view::npos || dot == 0 ||
      dot + 1 == qualified.size()) {
    return false;
  }
  const std::string_view cls = qualified.substr(0, dot);
  if (!IsJavaIdentifierStart(cls[0])) return false;
  std::string_view file = inside;
  int line = 0;
  const size_t colon = inside.rfind(':');
  if (colon != std::string_view::npos &&
      ParseInt(inside.substr(colon + 1), &line)) {
    file = inside.substr(0, colon);
  }
  if (file == "Native Method" || file == "Unknown Source") file = {};
  frame->module = Truncated(cls, kMaxTextBytes);
  frame->function = Truncated(qualified.substr(dot + 1), kMaxTextBytes);
  frame->filename = Truncated(file, kMaxTextBytes);
  frame->lineno = line;
  frame->in_app = JavaInApp(cls, jdk_module);
  return true;
}

bool IsFrame(std::string_view s) {
  model::Frame frame;
  return ParseFrame(s, &frame);
}

// "a.b.C: msg" / "a.b.C"; `dotted` demands a package.
bool ParseHeader(std::string_view s, bool dotted, std::string_view* type,
                 std::string_view* value) {
  size_t k = 0;
  bool has_dot = false;
  while (k < s.size()) {
    if (!IsJavaIdentifierStart(s[k])) return false;
    while (k < s.size() && IsJavaIdentifierChar(s[k])) ++k;
    if (k + 1 < s.size() && s[k] == '.' && IsJavaIdentifierStart(s[k + 1])) {
      has_dot = true;
      ++k;
      continue;
    }
    break;
  }
  if (k == 0 || (dotted && !has_dot)) return false;
  const std::string_view rest = s.substr(k);
  if (!rest.empty() && !StartsWith(rest, ": ") && rest != ":") return false;
  *type = s.substr(0, k);
  *value = rest.size() > 2 ? rest.substr(2) : std::string_view();
  return true;
}

// "\t... 3 more" (logback: "\t... 3 common frames omitted")
bool ParseMore(std::string_view s, int* n) {
  s = Trim(s);
  if (!StartsWith(s, "... ")) return false;
  s.remove_prefix(4);
  for (std::string_view suffix : {" more", " common frames omitted"}) {
    if (EndsWith(s, suffix)) {
      return ParseInt(s.substr(0, s.size() - suffix.size()), n);
    }
  }
  return false;
}

struct Section {
  model::ExceptionValue exception;  // frames innermost first while parsing
  int more = 0;
};

}  // namespace

bool ParseJava(const Lines& lines, size_t i, Parsed* out) {
  const std::string_view first = lines[i].text;
  std::string_view thread_name;
  std::string_view type;
  std::string_view value;
  bool explicit_header = false;
  if (StartsWith(first, "Exception in thread \"")) {
    const size_t close = first.find("\" ", 21);
    if (close == std::string_view::npos) return false;
    thread_name = first.substr(21, close - 21);
    if (!ParseHeader(first.substr(close + 2), false, &type, &value)) {
      return false;
    }
    explicit_header = true;
  } else if (!(i + 1 < lines.size() && IsFrame(lines[i + 1].text) &&
               ParseHeader(first, true, &type, &value))) {
    return false;
  }
  std::vector<Section> chain(1);
  chain[0].exception = NewException("", value, "uncaught_exception");
  SplitQualifiedType(type, &chain[0].exception);
  size_t j = i + 1;
  if (explicit_header) {
    // A message with newlines: its other lines come before the first frame.
    size_t k = j;
    while (k < lines.size() && k < j + kMaxMessageLines &&
           !IsFrame(lines[k].text) &&
           !StartsWith(lines[k].text, "Exception in thread \"") &&
           !StartsWith(lines[k].text, "Caused by: ")) {
      ++k;
    }
    if (k < lines.size() && IsFrame(lines[k].text)) {
      std::string message = chain[0].exception.value;
      for (size_t m = j; m < k; ++m) {
        message += '\n';
        message += lines[m].text;
      }
      chain[0].exception.value = Truncated(message, kMaxTextBytes);
      j = k;
    }
  }
  size_t end = j;
  size_t base_indent = std::string_view::npos;
  bool in_suppressed = false;
  size_t suppressed_indent = 0;
  while (j < lines.size()) {
    const std::string_view s = lines[j].text;
    const size_t indent = Indent(s);
    const std::string_view t = Trim(s);
    if (in_suppressed && indent > suppressed_indent) {
      end = ++j;
      continue;
    }
    in_suppressed = false;
    model::Frame frame;
    int more = 0;
    if (ParseFrame(s, &frame) &&
        (base_indent == std::string_view::npos || indent == base_indent)) {
      base_indent = indent;
      chain.back().exception.frames.push_back(std::move(frame));
    } else if (base_indent != std::string_view::npos && indent == base_indent &&
               ParseMore(s, &more)) {
      chain.back().more = more;
    } else if (StartsWith(s, "Caused by: ")) {
      if (!ParseHeader(s.substr(11), false, &type, &value)) break;
      chain.emplace_back();
      chain.back().exception = NewException("", value, "uncaught_exception");
      SplitQualifiedType(type, &chain.back().exception);
    } else if (indent > 0 && (StartsWith(t, "Suppressed: ") ||
                              StartsWith(t, "Caused by: "))) {
      // A suppressed exception (and its causes): not part of the chain.
      in_suppressed = true;
      suppressed_indent = indent;
    } else {
      // Unrelated lines: skip them when the trace goes on after them.
      size_t next = j + 1;
      while (next < lines.size() && next <= j + kMaxNoiseLines &&
             !(IsFrame(lines[next].text) &&
               Indent(lines[next].text) == base_indent) &&
             !StartsWith(lines[next].text, "Caused by: ")) {
        ++next;
      }
      if (base_indent == std::string_view::npos || next >= lines.size() ||
          next > j + kMaxNoiseLines) {
        break;
      }
      j = next;
      continue;
    }
    end = ++j;
  }
  // "... N more": the last N frames are the enclosing trace's last N.
  for (size_t k = 1; k < chain.size(); ++k) {
    const std::vector<model::Frame>& outer = chain[k - 1].exception.frames;
    const size_t n = std::min(static_cast<size_t>(chain[k].more), outer.size());
    std::vector<model::Frame>& frames = chain[k].exception.frames;
    if (frames.size() + n > 4 * kMaxFramesPerThread) continue;
    frames.insert(frames.end(), outer.end() - n, outer.end());
  }
  Report report;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    std::reverse(it->exception.frames.begin(), it->exception.frames.end());
    report.exceptions.push_back(std::move(it->exception));
  }
  if (!thread_name.empty()) {
    report.thread_name = Truncated(thread_name, kMaxTextBytes);
    report.threads.push_back(CrashedThread("", thread_name));
  }
  FinishReport(Runtime::kJava, &report);
  out->report = std::move(report);
  out->end = end;
  return true;
}

}  // namespace crashreport
}  // namespace crashctl
