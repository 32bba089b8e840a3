// libFuzzer target: crashreport::FindLastReport on arbitrary log text, both
// overloads. A report must keep every documented bound (chain, frames,
// threads, text sizes), have a span inside the input, agree between the
// two overloads, and carry handled=false and in_app on every frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/crashreport/crash_report_parser.h"

namespace {

using crashctl::crashreport::FindLastReport;
using crashctl::crashreport::Report;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckReport(const Report& r, size_t line_count) {
  namespace cr = crashctl::crashreport;
  Check(!r.exceptions.empty() && r.exceptions.size() <= cr::kMaxExceptions);
  Check(r.first_line <= r.last_line && r.last_line < line_count);
  Check(r.threads.size() <= cr::kMaxThreads);
  Check(!r.platform.empty());
  for (const crashctl::model::ExceptionValue& e : r.exceptions) {
    Check(e.type.size() <= cr::kMaxTextBytes);
    Check(e.value.size() <= cr::kMaxTextBytes);
    Check(e.handled == std::optional<bool>(false));
    Check(!e.mechanism_type.empty());
    Check(e.frames.size() <= cr::kMaxFramesPerThread);
    for (const crashctl::model::Frame& f : e.frames) {
      Check(f.in_app.has_value());
      Check(f.function.size() <= cr::kMaxTextBytes);
      Check(f.filename.size() <= cr::kMaxTextBytes);
    }
  }
  for (const cr::Thread& t : r.threads) {
    Check(t.frames.size() <= cr::kMaxFramesPerThread);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  size_t start = 0;
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (!body.empty()) {
    while (true) {
      const size_t nl = body.find('\n', start);
      lines.emplace_back(body.substr(start, nl == std::string_view::npos
                                                ? std::string_view::npos
                                                : nl - start));
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }
  const std::optional<Report> from_text = FindLastReport(text);
  const std::optional<Report> from_lines = FindLastReport(lines);
  Check(from_text.has_value() == from_lines.has_value());
  if (from_text) {
    CheckReport(*from_text, lines.size());
    CheckReport(*from_lines, lines.size());
    Check(from_text->first_line == from_lines->first_line);
    Check(from_text->last_line == from_lines->last_line);
    Check(from_text->exceptions.back().value ==
          from_lines->exceptions.back().value);
  }
  return 0;
}
