// Rust: "thread 'main' panicked at src/main.rs:2:5:" + message lines (Rust
// >= 1.73; >= 1.8x adds the thread id: "thread 'main' (123) panicked at"),
// the old "thread 'main' panicked at 'msg', src/main.rs:2:5", an optional
// "stack backtrace:" (RUST_BACKTRACE=1 or full), and "thread 'main' has
// overflowed its stack".
#include <algorithm>

#include "parsers.h"
#include "text.h"

namespace crashctl {
namespace crashreport {
namespace {

constexpr size_t kMaxMessageLines = 50;

struct ThreadPrefix {
  std::string_view name;
  std::string_view id;
  std::string_view tail;  // after "panicked at " / "has overflowed..."
  bool overflow = false;
};

// "thread 'NAME' [(ID) ]panicked at TAIL" / "... has overflowed its stack".
bool ParseThreadPrefix(std::string_view s, ThreadPrefix* t) {
  if (!StartsWith(s, "thread '")) return false;
  std::string_view rest = s.substr(8);
  size_t k = rest.find(" panicked at ");
  size_t keyword_length = 13;
  if (k == std::string_view::npos) {
    k = rest.find(" has overflowed its stack");
    if (k == std::string_view::npos) return false;
    t->overflow = true;
    keyword_length = 25;
  }
  std::string_view before = rest.substr(0, k);
  t->tail = rest.substr(k + keyword_length);
  if (EndsWith(before, ")")) {
    const size_t open = before.rfind(" (");
    if (open != std::string_view::npos &&
        AllDigits(before.substr(open + 2, before.size() - open - 3))) {
      t->id = before.substr(open + 2, before.size() - open - 3);
      before = before.substr(0, open);
    }
  }
  if (!EndsWith(before, "'")) return false;
  t->name = before.substr(0, before.size() - 1);
  return true;
}

bool IsLocation(std::string_view s, std::string_view* path, int* line,
                int* col) {
  return s.find(' ') == std::string_view::npos &&
         SplitLocation(s, path, line, col);
}

// Drops the "::h0123456789abcdef" hash suffix and the "[0123456789abcdef]"
// crate disambiguators of the v0 mangling scheme.
std::string CleanSymbol(std::string_view symbol) {
  if (symbol.size() > 19) {
    const std::string_view tail = symbol.substr(symbol.size() - 19);
    bool hash = StartsWith(tail, "::h");
    for (size_t k = 3; hash && k < tail.size(); ++k) {
      hash = IsHexDigit(tail[k]);
    }
    if (hash) symbol.remove_suffix(19);
  }
  std::string out;
  out.reserve(symbol.size());
  for (size_t k = 0; k < symbol.size(); ++k) {
    if (symbol[k] == '[' && k + 17 < symbol.size() && symbol[k + 17] == ']') {
      bool hex = true;
      for (size_t m = k + 1; hex && m < k + 17; ++m)
        hex = IsHexDigit(symbol[m]);
      if (hex) {
        k += 17;
        continue;
      }
    }
    out += symbol[k];
  }
  return out;
}

bool RustInApp(std::string_view function, std::string_view file) {
  if (function == "<unknown>") return false;
  std::string_view f = function;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view p : {"<", "&", "dyn ", "mut "}) {
      if (StartsWith(f, p)) {
        f.remove_prefix(p.size());
        changed = true;
      }
    }
  }
  static constexpr std::string_view kRuntimePrefixes[] = {
      "std::",   "core::",         "alloc::",       "__rustc::",
      "__rust_", "panic_unwind::", "panic_abort::", "backtrace::"};
  for (std::string_view p : kRuntimePrefixes) {
    if (StartsWith(f, p)) return false;
  }
  // Bare symbols of the runtime and the C library ("rust_panic",
  // "__libc_start_main", "clone3"), but not a path in a crate of a similar
  // name ("rust_panic::parse_port", "clone_tool::main").
  static constexpr std::string_view kRuntimeSymbols[] = {
      "rust_begin_unwind", "rust_panic", "_start",  "__libc_start",
      "start_thread",      "__GI_",      "__clone", "clone"};
  for (std::string_view p : kRuntimeSymbols) {
    if (StartsWith(f, p) && f.find("::") == std::string_view::npos) {
      return false;
    }
  }
  if (f == "main") return false;  // the C main() rustc generates
  static constexpr std::string_view kRuntimePaths[] = {"/rustc/",
                                                       "/usr/src/rustc-",
                                                       "library/std/src/",
                                                       "library/core/src/",
                                                       "library/alloc/src/",
                                                       "/.cargo/registry/",
                                                       "/.cargo/git/",
                                                       "csu/",
                                                       "sysdeps/"};
  for (std::string_view p : kRuntimePaths) {
    if (Contains(file, p)) return false;
  }
  return true;
}

// "   4: panic::parse_port" or "  17:     0x55d0c1b0e3c1 -
// panic::parse_port::h..."
bool ParseFrameLine(std::string_view s, int* number, std::string_view* symbol,
                    std::string_view* address = nullptr) {
  s = TrimLeft(s);
  const size_t colon = s.find(": ");
  if (colon == std::string_view::npos ||
      !ParseInt(s.substr(0, colon), number)) {
    return false;
  }
  s = TrimLeft(s.substr(colon + 2));
  if (StartsWith(s, "0x")) {
    const size_t dash = s.find(" - ");
    if (dash == std::string_view::npos) return false;
    if (address != nullptr) *address = s.substr(0, dash);
    s = s.substr(dash + 3);
  }
  *symbol = Trim(s);
  return !symbol->empty();
}

// "             at ./panic.rs:8:21"
bool ParseAtLine(std::string_view s, model::Frame* frame) {
  if (!StartsWith(s, "  ")) return false;
  s = Trim(s);
  if (!StartsWith(s, "at ")) return false;
  std::string_view path;
  int line = 0;
  int col = 0;
  if (!SplitLocation(s.substr(3), &path, &line, &col)) return false;
  frame->filename = Truncated(path, kMaxTextBytes);
  if (StartsWith(path, "/")) frame->abs_path = frame->filename;
  frame->lineno = line;
  frame->colno = col;
  return true;
}

std::vector<model::Frame> ReadBacktrace(const Lines& lines, size_t* j) {
  std::vector<model::Frame> frames;
  int expected = 0;
  while (*j < lines.size()) {
    int number = 0;
    std::string_view symbol;
    std::string_view address;
    if (!ParseFrameLine(lines[*j].text, &number, &symbol, &address) ||
        number != expected) {
      // Unrelated lines: skip them when the next frame follows.
      size_t next = *j + 1;
      while (next < lines.size() && next <= *j + kMaxNoiseLines &&
             !(ParseFrameLine(lines[next].text, &number, &symbol) &&
               number == expected)) {
        ++next;
      }
      if (expected == 0 || next >= lines.size() || next > *j + kMaxNoiseLines) {
        break;
      }
      *j = next;
      continue;
    }
    model::Frame frame;
    frame.instruction_addr = Truncated(address, 32);
    frame.function = Truncated(CleanSymbol(symbol), kMaxTextBytes);
    if (frame.function != symbol) {
      frame.raw_function = Truncated(symbol, kMaxTextBytes);
    }
    ++*j;
    if (*j < lines.size() && ParseAtLine(lines[*j].text, &frame)) ++*j;
    frame.in_app = RustInApp(frame.function, frame.filename);
    frames.push_back(std::move(frame));
    ++expected;
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

bool StartsAnotherReport(std::string_view s) {
  ThreadPrefix t;
  return ParseThreadPrefix(s, &t);
}

}  // namespace

bool ParseRust(const Lines& lines, size_t i, Parsed* out) {
  ThreadPrefix t;
  if (!ParseThreadPrefix(lines[i].text, &t)) return false;
  Report report;
  size_t j = i + 1;
  std::string message;
  std::string location_path;
  std::string_view path;
  int line = 0;
  int col = 0;
  if (t.overflow) {
    std::string_view value = "stack overflow";
    if (j < lines.size() &&
        StartsWith(lines[j].text, "fatal runtime error: ")) {
      value = lines[j].text;
      value.remove_prefix(21);
      // Rust >= 1.8x: "stack overflow, aborting".
      if (EndsWith(value, ", aborting")) value.remove_suffix(10);
      ++j;
    }
    report.exceptions.push_back(
        NewException("fatal runtime error", value, "fatal_error"));
  } else if (EndsWith(t.tail, ":") &&
             IsLocation(t.tail.substr(0, t.tail.size() - 1), &path, &line,
                        &col)) {
    // New form: the message is on the next lines.
    location_path = std::string(path);
    size_t n = 0;
    while (j < lines.size() && n < kMaxMessageLines) {
      const std::string_view s = lines[j].text;
      if (Trim(s).empty() || StartsWith(s, "note: ") ||
          StartsWith(s, "stack backtrace:") || StartsAnotherReport(s)) {
        break;
      }
      if (n > 0) message += '\n';
      message += s;
      ++n;
      ++j;
    }
  } else if (StartsWith(t.tail, "'")) {
    // Old form: 'message', path:line:col; the message may span lines.
    std::string text(t.tail.substr(1));
    for (size_t n = 0;; ++n) {
      const size_t quote = text.rfind("', ");
      if (quote != std::string::npos &&
          IsLocation(std::string_view(text).substr(quote + 3), &path, &line,
                     &col)) {
        location_path = std::string(path);
        message = text.substr(0, quote);
        break;
      }
      if (j >= lines.size() || n >= kMaxMessageLines ||
          StartsAnotherReport(lines[j].text)) {
        return false;
      }
      text += '\n';
      text += lines[j].text;
      ++j;
    }
  } else {
    return false;
  }
  if (!t.overflow) {
    report.exceptions.push_back(NewException("panic", message, "panic"));
    // Without a backtrace the panic's location is the only frame.
    model::Frame location;
    location.filename = Truncated(location_path, kMaxTextBytes);
    if (StartsWith(location_path, "/")) location.abs_path = location.filename;
    location.lineno = line;
    location.colno = col;
    location.in_app = RustInApp("", location.filename);
    report.exceptions.back().frames.push_back(std::move(location));
  }

  // Notes and the backtrace.
  for (int step = 0; step < 4 && j < lines.size(); ++step) {
    const std::string_view s = lines[j].text;
    if (StartsWith(s, "note: ")) {
      ++j;
    } else if (StartsWith(s, "stack backtrace:")) {
      ++j;
      std::vector<model::Frame> frames = ReadBacktrace(lines, &j);
      if (!frames.empty()) report.exceptions.back().frames = std::move(frames);
    } else {
      break;
    }
  }
  report.thread_name = std::string(t.name);
  report.threads.push_back(CrashedThread(t.id, t.name));
  FinishReport(Runtime::kRust, &report);
  out->report = std::move(report);
  out->end = j;
  return true;
}

}  // namespace crashreport
}  // namespace crashctl
