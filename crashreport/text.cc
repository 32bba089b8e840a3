#include "text.h"

namespace crashctl {
namespace crashreport {

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

std::string_view TrimRight(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && IsSpace(s[n - 1])) --n;
  return s.substr(0, n);
}

std::string_view Trim(std::string_view s) { return TrimRight(TrimLeft(s)); }

size_t Indent(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9 || !AllDigits(s)) return false;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = v;
  return true;
}

std::string Truncated(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  // Back up over continuation bytes (10xxxxxx) so that a multi-byte
  // sequence is either whole or absent.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

namespace {

// Splits "<head>:<digits>" at its last ':'; false unless the tail is digits.
bool SplitTrailingNumber(std::string_view s, std::string_view* head, int* n) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (!ParseInt(s.substr(colon + 1), n)) return false;
  *head = s.substr(0, colon);
  return true;
}

}  // namespace

bool SplitLocation(std::string_view s, std::string_view* path, int* line,
                   int* col) {
  std::string_view head;
  int last = 0;
  if (!SplitTrailingNumber(s, &head, &last)) return false;
  std::string_view head2;
  int before = 0;
  if (SplitTrailingNumber(head, &head2, &before) && !head2.empty()) {
    *path = head2;
    *line = before;
    *col = last;
  } else {
    *path = head;
    *line = last;
    *col = 0;
  }
  return !path->empty();
}

}  // namespace crashreport
}  // namespace crashctl
