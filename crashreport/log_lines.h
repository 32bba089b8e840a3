// Internal to crashreport/: turns raw log lines into the text lines a crash
// report parser reads, undoing the wrappers around them: CRI log lines
// ("<RFC 3339 time> <stream> <P|F> <text>", P partials joined per stream),
// Docker JSON log lines ({"log":"...","stream":"...","time":"..."}, partials
// joined per stream), a leading timestamp ("2024-05-01T12:00:00.123Z ",
// "2024-05-01 12:00:00,123 ", "2024/05/01 12:00:00 "), and JSON log records
// whose string fields carry multi-line text (each such field becomes its
// lines, preceded by the record's single-line msg/message/error fields).
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_CRASHREPORT_LOG_LINES_H_
#define CRASHCTL_CRASHREPORT_LOG_LINES_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace crashreport {

// One text line and the input lines it came from (inclusive indices).
struct LogLine {
  std::string text;  // at most kMaxTextBytes, no '\n' or trailing '\r'
  size_t first = 0;
  size_t last = 0;
};

// `raw[k]` is input line `base + k`. At most kMaxLines * 2 lines result.
std::vector<LogLine> NormalizeLogLines(const std::vector<std::string_view>& raw,
                                       size_t base);

// Length of a timestamp at the start of `s` followed by one space (the
// space included), or 0 when `s` does not start with one.
size_t TimestampPrefixLength(std::string_view s);

}  // namespace crashreport
}  // namespace crashctl

#endif  // CRASHCTL_CRASHREPORT_LOG_LINES_H_
