// Internal to crashreport/: small string helpers shared by the parsers.
// Thread-safety: pure functions.
#ifndef CRASHCTL_CRASHREPORT_TEXT_H_
#define CRASHCTL_CRASHREPORT_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace crashreport {

using util::EndsWith;
using util::StartsWith;
inline bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
using util::IsHexDigit;
inline bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Without leading/trailing spaces and tabs.
std::string_view Trim(std::string_view s);
std::string_view TrimLeft(std::string_view s);
std::string_view TrimRight(std::string_view s);

// Number of leading spaces and tabs (each counts as one).
size_t Indent(std::string_view s);

// True when `s` is all digits (and not empty).
bool AllDigits(std::string_view s);

// Parses a non-negative decimal that fits an int (at most 9 digits); false
// otherwise.
bool ParseInt(std::string_view s, int* out);

// `s` cut to at most `max` bytes, not inside a UTF-8 sequence.
std::string Truncated(std::string_view s, size_t max);

// Splits "path:line" or "path:line:col" at its end. `path` may itself
// contain ':'. False when `s` does not end in ":<digits>".
bool SplitLocation(std::string_view s, std::string_view* path, int* line,
                   int* col);

}  // namespace crashreport
}  // namespace crashctl

#endif  // CRASHCTL_CRASHREPORT_TEXT_H_
