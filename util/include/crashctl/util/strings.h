// Small string helpers used across components (ASCII only: case mapping and
// blanks are the 7-bit ones; bytes >= 0x80 pass unchanged).
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_UTIL_STRINGS_H_
#define CRASHCTL_UTIL_STRINGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace util {

// `s` without leading and trailing blanks (space, tab, CR, LF, FF, VT).
std::string_view Trim(std::string_view s);
// `s` with A-Z mapped to a-z.
std::string ToLower(std::string_view s);
// Case-insensitive (ASCII) equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
// Splits on `separator`; with `skip_empty`, empty pieces are dropped.
std::vector<std::string> Split(std::string_view s, char separator,
                               bool skip_empty = false);

inline bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}
// True when `s` is non-empty and only 0-9a-fA-F.
bool IsHex(std::string_view s);
// True when `s` is exactly `length` lower-case hex digits.
bool IsLowerHex(std::string_view s, size_t length);
// Lower-case hex of `bytes`.
std::string HexEncode(const unsigned char* bytes, size_t size);
// `count` random bytes from OpenSSL's CSPRNG as lower-case hex (2 * count
// characters); std::random_device if it fails.
std::string RandomHex(size_t count);

// Parses a whole decimal integer in [min, max] ("" and trailing junk are
// errors). False when it is not one.
bool ParseInt64(std::string_view s, int64_t min, int64_t max, int64_t* out);

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max);

// `s` as well-formed UTF-8 without NUL bytes: every byte that does not
// start a well-formed sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) and every NUL becomes U+FFFD. What
// PostgreSQL's text type accepts; text from outside (pod logs) may be
// anything. Returns `s` unchanged (one copy) when it already is.
std::string ToValidUtf8(std::string_view s);

}  // namespace util
}  // namespace crashctl

#endif  // CRASHCTL_UTIL_STRINGS_H_
