#include "crashctl/crashreport/crash_report_parser.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "log_lines.h"
#include "parsers.h"

namespace crashctl {
namespace crashreport {
namespace {

using ParseFn = bool (*)(const Lines&, size_t, Parsed*);

// First match wins at a line. The order matters only where two formats
// could start on the same line: none do today (each anchor is distinct).
constexpr ParseFn kParsers[] = {ParsePython, ParseGo,   ParseRust,
                                ParseJava,   ParseNode, ParseNative};

std::optional<Report> FindIn(const std::vector<std::string_view>& raw,
                             size_t base) {
  const Lines lines = NormalizeLogLines(raw, base);
  std::optional<Report> last;
  size_t i = 0;
  while (i < lines.size()) {
    Parsed parsed;
    bool found = false;
    for (ParseFn parse : kParsers) {
      if (parse(lines, i, &parsed)) {
        found = true;
        break;
      }
    }
    if (!found || parsed.end <= i || parsed.end > lines.size() ||
        parsed.report.exceptions.empty()) {
      ++i;
      continue;
    }
    // A line joined from partials may start before the lines around it,
    // and a partial still open at the end is flushed last: take the extent.
    size_t span_first = lines[i].first;
    size_t span_last = lines[i].last;
    for (size_t k = i; k < parsed.end; ++k) {
      span_first = std::min(span_first, lines[k].first);
      span_last = std::max(span_last, lines[k].last);
    }
    parsed.report.first_line = span_first;
    parsed.report.last_line = span_last;
    last = std::move(parsed.report);
    i = parsed.end;
  }
  return last;
}

}  // namespace

const char* RuntimeName(Runtime runtime) {
  switch (runtime) {
    case Runtime::kGo:
      return "go";
    case Runtime::kRust:
      return "rust";
    case Runtime::kPython:
      return "python";
    case Runtime::kJava:
      return "java";
    case Runtime::kNode:
      return "node";
    case Runtime::kNative:
      return "native";
  }
  return "native";
}

std::optional<Report> FindLastReport(const std::vector<std::string>& lines) {
  try {
    // The tail: at most kMaxLines lines and kMaxInputBytes bytes.
    size_t start = lines.size();
    size_t bytes = 0;
    while (start > 0 && lines.size() - start < kMaxLines) {
      const size_t n = std::min(lines[start - 1].size(), kMaxLineBytes);
      if (bytes + n > kMaxInputBytes) break;
      bytes += n;
      --start;
    }
    std::vector<std::string_view> raw;
    raw.reserve(lines.size() - start);
    for (size_t k = start; k < lines.size(); ++k) raw.push_back(lines[k]);
    return FindIn(raw, start);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<Report> FindLastReport(std::string_view text) {
  try {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    // Walk back from the end over at most kMaxLines lines and
    // kMaxInputBytes bytes; `pos` is the end of the line looked at.
    std::vector<std::string_view> tail;  // newest first
    size_t bytes = 0;
    size_t pos = text.size();
    size_t tail_start = 0;  // byte offset of the oldest line taken
    while (tail.size() < kMaxLines) {
      const size_t nl =
          pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
      const size_t line_start = nl == std::string_view::npos ? 0 : nl + 1;
      const std::string_view line = text.substr(line_start, pos - line_start);
      const size_t n = std::min(line.size(), kMaxLineBytes);
      if (bytes + n > kMaxInputBytes) break;
      bytes += n;
      tail.push_back(line);
      tail_start = line_start;
      if (nl == std::string_view::npos) break;
      pos = nl;
    }
    if (tail.empty()) return std::nullopt;
    const size_t base = static_cast<size_t>(
        std::count(text.begin(), text.begin() + tail_start, '\n'));
    std::reverse(tail.begin(), tail.end());
    return FindIn(tail, base);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace crashreport
}  // namespace crashctl
