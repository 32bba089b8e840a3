#include "crashctl/scrub/scrubber.h"

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

// Character classes of the key automaton: 0 any other character, 1-26
// letters (any case), 27 '_', 28 '-', 29 '.', 30-39 digits, 40 unused.
struct KeyClasses {
  uint8_t of[256] = {};
  KeyClasses() {
    for (int c = 'a'; c <= 'z'; ++c) {
      of[c] = static_cast<uint8_t>(c - 'a' + 1);
      of[c - 'a' + 'A'] = static_cast<uint8_t>(c - 'a' + 1);
    }
    of[static_cast<unsigned char>('_')] = 27;
    of[static_cast<unsigned char>('-')] = 28;
    of[static_cast<unsigned char>('.')] = 29;
    for (int c = '0'; c <= '9'; ++c) of[c] = static_cast<uint8_t>(30 + c - '0');
  }
};
const KeyClasses& Classes() {
  static const KeyClasses* classes = new KeyClasses;
  return *classes;
}

// What the text scan must look at; 0 for the characters that start nothing.
enum : uint8_t { kPlain = 0, kDigit, kGroupSeparator, kSeparator, kLetterE };
struct TextClasses {
  uint8_t of[256] = {};
  TextClasses() {
    for (int c = '0'; c <= '9'; ++c) of[c] = kDigit;
    of[static_cast<unsigned char>(' ')] = kGroupSeparator;
    of[static_cast<unsigned char>('-')] = kGroupSeparator;
    of[static_cast<unsigned char>('=')] = kSeparator;
    of[static_cast<unsigned char>(':')] = kSeparator;
    of[static_cast<unsigned char>('e')] = kLetterE;
    of[static_cast<unsigned char>('E')] = kLetterE;
  }
};
const TextClasses& TextClass() {
  static const TextClasses* classes = new TextClasses;
  return *classes;
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
  // The trie of the words (by character class), then Aho-Corasick's
  // failure links folded into a complete transition table (breadth first).
  const KeyClasses& classes = Classes();
  std::vector<bool> final_state(1, false);
  std::vector<std::vector<int>> children(1, std::vector<int>(kClasses, -1));
  for (const std::string& word : words_) {
    int state = 0;
    for (char c : word) {
      const int cls = classes.of[static_cast<unsigned char>(c)];
      if (children[state][cls] < 0) {
        children[state][cls] = static_cast<int>(children.size());
        children.emplace_back(kClasses, -1);
        final_state.push_back(false);
      }
      state = children[state][cls];
    }
    final_state[state] = true;
  }
  const size_t states = children.size();
  std::vector<int> next(states * kClasses, 0);
  std::vector<int> fail(states, 0);
  std::vector<int> queue;
  for (int cls = 0; cls < kClasses; ++cls) {
    const int child = children[0][cls];
    if (child > 0) {
      next[cls] = child;
      queue.push_back(child);
    }
  }
  for (size_t q = 0; q < queue.size(); ++q) {
    const int state = queue[q];
    if (final_state[fail[state]]) final_state[state] = true;
    for (int cls = 0; cls < kClasses; ++cls) {
      const int child = children[state][cls];
      if (child > 0) {
        fail[child] = next[fail[state] * kClasses + cls];
        next[state * kClasses + cls] = child;
        queue.push_back(child);
      } else {
        next[state * kClasses + cls] = next[fail[state] * kClasses + cls];
      }
    }
  }
  next_.resize(next.size());
  for (size_t i = 0; i < next.size(); ++i) {
    next_[i] =
        static_cast<uint16_t>(next[i] | (final_state[next[i]] ? kFinal : 0));
  }
}

bool Scrubber::IsSecretKey(std::string_view key) const {
  if (words_.empty()) return false;
  const KeyClasses& classes = Classes();
  const size_t n = std::min(key.size(), kMaxKey);
  unsigned state = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t to = next_[state * kClasses +
                              classes.of[static_cast<unsigned char>(key[i])]];
    if (to & kFinal) return true;
    state = to;
  }
  return false;
}

bool Scrubber::IsCodeField(std::string_view key) {
  // Runs for every key of every event, so by length first. None of these
  // names contains a secret word, so IsSecretKey need not look at them.
  switch (key.size()) {
    case 4:
      return key == "type" || key == "lang" || key == "dist";
    case 5:
      return key == "level" || key == "colno";
    case 6:
      return key == "lineno" || key == "module" || key == "in_app" ||
             key == "symbol" || key == "logger";
    case 7:
      return key == "release" || key == "package" || key == "span_id" ||
             key == "code_id";
    case 8:
      return key == "function" || key == "filename" || key == "abs_path" ||
             key == "platform" || key == "event_id" || key == "trace_id" ||
             key == "debug_id" || key == "category";
    case 9:
      return key == "timestamp" || key == "addr_mode" || key == "code_file";
    case 10:
      return key == "image_addr" || key == "debug_file";
    case 11:
      return key == "environment" || key == "symbol_addr";
    case 12:
      return key == "raw_function";
    case 14:
      return key == "parent_span_id";
    case 16:
      return key == "instruction_addr";
    default:
      return false;
  }
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
  // Cheap rejection, in one pass: nothing can match without a `=` or `:`
  // (key=value), a run of 13 digits (a card number, separators aside) or
  // "bearer". Most strings of an event (file names, function names) have
  // none.
  const TextClasses& classes = TextClass();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  bool candidate = false;
  size_t digits = 0;
  size_t i = 0;
  while (i < n && !candidate) {
    // Most characters start nothing.
    while (i < n && classes.of[p[i]] == kPlain) ++i;
    if (i > 0 && i < n && classes.of[p[i - 1]] == kPlain) digits = 0;
    for (; i < n && classes.of[p[i]] != kPlain && !candidate; ++i) {
      switch (classes.of[p[i]]) {
        case kDigit:
          if (++digits >= 13 && defaults_) candidate = true;
          break;
        case kGroupSeparator:
          break;  // card number groups: the run goes on
        case kSeparator:
          candidate = true;
          break;
        case kLetterE:
          digits = 0;
          candidate =
              defaults_ && i >= 1 && StartsWithNoCase(text, i - 1, "bearer");
          break;
      }
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
