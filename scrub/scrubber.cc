#include "scrub/scrubber.h"

#include <algorithm>
#include <cstring>

namespace crashctl {
namespace scrub {
namespace {

// Sentry's default sensitive field names (relay's @password rule and the
// cookie/session fields it strips), as substrings of lower-cased keys.
const char* const kDefaultWords[] = {
    "password",   "passwd",      "secret",     "api_key", "apikey",
    "api-key",    "access_key",  "accesskey",  "token",   "auth",
    "credential", "private_key", "privatekey", "session", "cookie",
    "csrf",       "xsrf",        "jwt",        "bearer",  "mysql_pwd",
};

constexpr size_t kMaxKey = 128;  // longer keys are compared by this prefix

inline char LowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

inline bool IsKeyChar(char c) {
  return IsAlnum(c) || c == '_' || c == '-' || c == '.';
}

// Characters of a bearer credential (RFC 6750 b64token) or similar.
inline bool IsTokenChar(char c) {
  return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
         c == '+' || c == '/' || c == '=';
}

// Ends a `key=value` value that is not quoted.
inline bool EndsValue(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '&' ||
         c == ';' || c == ',' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == ')' || c == ']' || c == '}';
}

bool StartsWithNoCase(std::string_view text, size_t at, std::string_view word) {
  if (at + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (LowerChar(text[at + i]) != word[i]) return false;
  }
  return true;
}

// A credential scheme word at `at` followed by blanks: its length including
// the blanks, else 0.
size_t SchemeAt(std::string_view text, size_t at) {
  static const std::string_view kSchemes[] = {"bearer", "basic", "digest",
                                              "token"};
  for (std::string_view scheme : kSchemes) {
    if (!StartsWithNoCase(text, at, scheme)) continue;
    size_t end = at + scheme.size();
    if (end >= text.size() || (text[end] != ' ' && text[end] != '\t')) {
      continue;
    }
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) {
      ++end;
    }
    return end - at;
  }
  return 0;
}

size_t TokenEnd(std::string_view text, size_t at) {
  while (at < text.size() && IsTokenChar(text[at])) ++at;
  return at;
}

}  // namespace

bool LooksLikeCardNumber(std::string_view digits) {
  const size_t n = digits.size();
  if (n < 13 || n > 19) return false;
  auto prefix = [&](size_t len) {
    int v = 0;
    for (size_t i = 0; i < len; ++i) v = v * 10 + (digits[i] - '0');
    return v;
  };
  const int p1 = prefix(1), p2 = prefix(2), p3 = prefix(3), p4 = prefix(4);
  const int p6 = prefix(6);
  bool network = false;
  if (p1 == 4 && (n == 13 || n == 16 || n == 19)) network = true;  // Visa
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16) {
    network = true;  // Mastercard
  }
  if ((p2 == 34 || p2 == 37) && n == 15) network = true;  // Amex
  if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) ||
       (p6 >= 622126 && p6 <= 622925)) &&
      n >= 16) {
    network = true;  // Discover
  }
  if (p4 >= 3528 && p4 <= 3589 && n >= 16) network = true;  // JCB
  if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38) && n >= 14) {
    network = true;  // Diners Club
  }
  if ((p2 == 62 || p2 == 81) && n >= 16) network = true;  // UnionPay
  if (!network) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = n; i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

Scrubber::Scrubber(Options options) : defaults_(options.defaults) {
  if (options.defaults) {
    for (const char* word : kDefaultWords) words_.emplace_back(word);
  }
  for (std::string& key : options.extra_keys) {
    std::string lower;
    for (char c : key) lower.push_back(LowerChar(c));
    if (!lower.empty()) words_.push_back(std::move(lower));
  }
}

bool Scrubber::IsSecretKey(std::string_view key) const {
  if (words_.empty() || key.empty()) return false;
  char lower[kMaxKey];
  const size_t n = std::min(key.size(), kMaxKey);
  for (size_t i = 0; i < n; ++i) lower[i] = LowerChar(key[i]);
  const std::string_view k(lower, n);
  for (const std::string& word : words_) {
    if (word.size() <= n && k.find(word) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

void Scrubber::FindSecrets(
    std::string_view text,
    std::vector<std::pair<size_t, size_t>>* spans) const {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const char c = text[i];
    // "Bearer <credential>" anywhere.
    if ((c == 'b' || c == 'B') && defaults_ &&
        (i == 0 || !IsAlnum(text[i - 1])) &&
        StartsWithNoCase(text, i, "bearer")) {
      const size_t scheme = SchemeAt(text, i);
      if (scheme > 0) {
        const size_t begin = i + scheme;
        const size_t end = TokenEnd(text, begin);
        if (end > begin && text.substr(begin, end - begin) != kFiltered) {
          spans->emplace_back(begin, end);
          i = end;
          continue;
        }
      }
    }
    // Payment card numbers.
    if (c >= '0' && c <= '9' && defaults_ &&
        (i == 0 || !IsAlnum(text[i - 1]))) {
      char digits[20];
      size_t count = 0;
      size_t j = i;
      while (j < n && count < 20) {
        if (text[j] >= '0' && text[j] <= '9') {
          digits[count++] = text[j++];
        } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < n &&
                   text[j + 1] >= '0' && text[j + 1] <= '9' && j > i) {
          ++j;
        } else {
          break;
        }
      }
      if (count >= 13 && count <= 19 && (j >= n || !IsAlnum(text[j])) &&
          LooksLikeCardNumber(std::string_view(digits, count))) {
        spans->emplace_back(i, j);
        i = j;
        continue;
      }
      // Skip the whole run of digits: none of its suffixes starts a number.
      while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
      continue;
    }
    // key=value, key: value.
    if ((c == '=' || c == ':') && i > 0) {
      size_t key_end = i;
      while (key_end > 0 &&
             (text[key_end - 1] == ' ' || text[key_end - 1] == '\t') &&
             i - key_end < 8) {
        --key_end;  // "password = x"
      }
      if (key_end > 0 &&
          (text[key_end - 1] == '"' || text[key_end - 1] == '\'')) {
        --key_end;
      }
      size_t key_begin = key_end;
      while (key_begin > 0 && IsKeyChar(text[key_begin - 1]) &&
             key_end - key_begin < kMaxKey) {
        --key_begin;
      }
      const bool scope = c == ':' && i + 1 < n && text[i + 1] == ':';
      if (!scope && key_end > key_begin &&
          IsSecretKey(text.substr(key_begin, key_end - key_begin))) {
        size_t begin = i + 1;
        while (begin < n && (text[begin] == ' ' || text[begin] == '\t')) {
          ++begin;
        }
        size_t end = begin;
        if (begin < n && (text[begin] == '"' || text[begin] == '\'')) {
          const char quote = text[begin];
          ++begin;
          end = begin;
          while (end < n && text[end] != quote && text[end] != '\n') ++end;
        } else {
          const size_t scheme = SchemeAt(text, begin);
          if (scheme > 0) begin += scheme;
          while (end < begin) ++end;
          while (end < n && !EndsValue(text[end])) ++end;
        }
        if (text.compare(begin, kFiltered.size(), kFiltered) == 0) {
          i = begin + kFiltered.size();  // scrubbed already
          continue;
        }
        if (end > begin) {
          spans->emplace_back(begin, end);
          i = end;
          continue;
        }
      }
    }
    ++i;
  }
}

bool Scrubber::TextNeedsScrubbing(std::string_view text) const {
  if (words_.empty()) return false;
  // Cheap rejection: nothing to find without one of these characters.
  bool candidate = false;
  for (char c : text) {
    if (c == '=' || c == ':' || c == 'b' || c == 'B' ||
        (c >= '0' && c <= '9')) {
      candidate = true;
      break;
    }
  }
  if (!candidate) return false;
  std::vector<std::pair<size_t, size_t>> spans;
  FindSecrets(text, &spans);
  return !spans.empty();
}

size_t Scrubber::ScrubText(std::string* text) const {
  if (words_.empty()) return 0;
  std::vector<std::pair<size_t, size_t>> spans;
  FindSecrets(*text, &spans);
  if (spans.empty()) return 0;
  std::string out;
  out.reserve(text->size());
  size_t at = 0;
  for (const auto& [begin, end] : spans) {
    out.append(*text, at, begin - at);
    out.append(kFiltered.data(), kFiltered.size());
    at = end;
  }
  out.append(*text, at, std::string::npos);
  *text = std::move(out);
  return spans.size();
}

}  // namespace scrub
}  // namespace crashctl
