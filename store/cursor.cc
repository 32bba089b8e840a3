#include "cursor.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace crashctl {
namespace store {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// A cursor is short; anything longer is not one of ours.
constexpr size_t kMaxCursorLength = 256;

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string Base64UrlEncode(const std::string& data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) |
                 (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) |
                 (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(const std::string& text, std::string* data) {
  data->clear();
  if (text.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = DecodeChar(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      data->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, so every cursor has exactly one spelling.
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string EncodeCursor(const Cursor& cursor) {
  char value[64];
  std::snprintf(value, sizeof(value), "%.17g", cursor.value);
  return Base64UrlEncode(cursor.sort + "|" + value + "|" +
                         std::to_string(cursor.id));
}

bool DecodeCursor(const std::string& text, const std::string& want_sort,
                  Cursor* cursor, std::string* error) {
  std::string raw;
  if (text.size() > kMaxCursorLength || !Base64UrlDecode(text, &raw)) {
    *error = "malformed cursor";
    return false;
  }
  size_t first = raw.find('|');
  size_t second = first == std::string::npos ? first : raw.find('|', first + 1);
  if (second == std::string::npos) {
    *error = "malformed cursor";
    return false;
  }
  std::string sort = raw.substr(0, first);
  std::string value = raw.substr(first + 1, second - first - 1);
  std::string id = raw.substr(second + 1);
  if (sort != want_sort) {
    *error = "cursor is for sort '" + sort + "', not '" + want_sort + "'";
    return false;
  }
  if (value.empty() || id.empty()) {
    *error = "malformed cursor";
    return false;
  }
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (errno != 0 || end != value.c_str() + value.size() || !std::isfinite(v)) {
    *error = "malformed cursor value";
    return false;
  }
  errno = 0;
  long long n = std::strtoll(id.c_str(), &end, 10);
  if (errno != 0 || end != id.c_str() + id.size() || n < 0) {
    *error = "malformed cursor id";
    return false;
  }
  cursor->sort = sort;
  cursor->value = v;
  cursor->id = n;
  return true;
}

}  // namespace store
}  // namespace crashctl
