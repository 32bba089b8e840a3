#include "cursor.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace crashctl {
namespace store {
namespace {

// A cursor is short; anything longer is not one of ours.
constexpr size_t kMaxCursorLength = 256;

}  // namespace

// OpenSSL has plain base64 (EVP_EncodeBlock) but not base64url, and its
// decoder accepts non-zero leftover bits: these wrappers translate the
// alphabet, drop the padding, and check that a decoded cursor re-encodes to
// the same text, so that every cursor has exactly one spelling.
std::string Base64UrlEncode(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                      reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool Base64UrlDecode(const std::string& text, std::string* data) {
  data->clear();
  if (text.size() % 4 == 1 || text.size() > kMaxCursorLength) return false;
  std::string std_text = text;
  for (char& c : std_text) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return false;  // not the url alphabet
    }
  }
  const size_t padding = (4 - std_text.size() % 4) % 4;
  std_text.append(padding, '=');
  std::string out(std_text.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                      reinterpret_cast<const unsigned char*>(std_text.data()),
                      static_cast<int>(std_text.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return false;
  out.resize(static_cast<size_t>(n) - padding);
  if (Base64UrlEncode(out) != text) return false;  // one spelling only
  *data = std::move(out);
  return true;
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

Status ParsePageCursor(const std::string& text, const std::string& want_sort,
                       Cursor* cursor, bool* has_cursor) {
  *has_cursor = !text.empty();
  if (!*has_cursor) return Status::Ok();
  std::string error;
  if (!DecodeCursor(text, want_sort, cursor, &error)) {
    return Status::Invalid(error);
  }
  return Status::Ok();
}

std::string CursorAfter(const std::string& sort, double value, int64_t id) {
  Cursor next;
  next.sort = sort;
  next.value = value;
  next.id = id;
  return EncodeCursor(next);
}

}  // namespace store
}  // namespace crashctl
