// NormalizeMessage: a hand-written single-pass scanner (no std::regex).
//
// Linear time on any input: every matcher either consumes what it scanned,
// scans a bounded number of bytes, or records a "horizon" (the end of the run
// it scanned) so that later starts inside the same run are not rescanned.

#include <cstddef>
#include <string>

#include "crashctl/grouping/grouping.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace grouping {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}
bool IsEmailLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsSchemeChar(char c) {
  return IsAlnum(c) || c == '+' || c == '.' || c == '-';
}

// Longest plausible textual IPv6 address ("ffff:...:255.255.255.255").
constexpr size_t kMaxIpv6Length = 45;

class Scanner {
 public:
  explicit Scanner(const std::string& in) : s_(in), n_(in.size()) {
    out_.reserve(in.size());
  }

  std::string Run() {
    size_t i = 0;
    while (i < n_) {
      size_t end = 0;
      const char* placeholder = Match(i, &end);
      if (placeholder != nullptr) {
        out_ += placeholder;
        i = end;
        continue;
      }
      // No match: copy. A word that starts here is copied whole, so digits
      // inside identifiers ("utf8", "sha256") are kept and never rescanned.
      if (IsWordChar(s_[i])) {
        size_t j = i;
        while (j < n_ && IsWordChar(s_[j])) ++j;
        out_.append(s_, i, j - i);
        i = j;
      } else {
        out_ += s_[i];
        ++i;
      }
    }
    return std::move(out_);
  }

 private:
  char At(size_t i) const { return i < n_ ? s_[i] : '\0'; }
  bool AtBoundary(size_t i) const { return i == 0 || !IsWordChar(s_[i - 1]); }
  bool EndsWord(size_t i) const { return i >= n_ || !IsWordChar(s_[i]); }

  // Returns the placeholder for a token starting at `i` and sets `*end`,
  // or returns nullptr.
  const char* Match(size_t i, size_t* end) {
    const char c = s_[i];
    if (c == '"' || c == '`' || (c == '\'' && AtBoundary(i))) {
      return MatchQuoted(i, end) ? "<quoted>" : nullptr;
    }
    if (c == ':' && At(i + 1) == ':') {
      return MatchIpv6(i, end) ? "<ip>" : nullptr;
    }
    if (!IsAlnum(c) || !AtBoundary(i)) return nullptr;
    if (IsAlpha(c) && MatchUrl(i, end)) return "<url>";
    if (MatchUuid(i, end)) return "<uuid>";
    if (MatchEmail(i, end)) return "<email>";
    if (IsDigit(c)) {
      if (MatchDateTime(i, end)) return "<date>";
      if (MatchTime(i, end)) return "<time>";
      if (MatchIpv4(i, end)) return "<ip>";
    }
    if (util::IsHexDigit(c) && MatchIpv6(i, end)) return "<ip>";
    if (c == '0' && (At(i + 1) == 'x' || At(i + 1) == 'X') &&
        util::IsHexDigit(At(i + 2))) {
      size_t j = i + 2;
      while (j < n_ && util::IsHexDigit(s_[j])) ++j;
      if (EndsWord(j)) {
        *end = j;
        return "<hex>";
      }
    }
    if (MatchBareHex(i, end)) return "<hex>";
    if (IsDigit(c) || ((c == 'v' || c == 'V') && IsDigit(At(i + 1)))) {
      return MatchNumber(i, end);
    }
    return nullptr;
  }

  // '...', "..." or `...` on one line. A single quote closes only when not
  // followed by a word character (so "it's" inside does not close it).
  bool MatchQuoted(size_t i, size_t* end) {
    const char q = s_[i];
    int kind = q == '"' ? 0 : (q == '\'' ? 1 : 2);
    if (i < quote_horizon_[kind]) return false;
    size_t j = i + 1;
    while (j < n_ && s_[j] != '\n') {
      if (s_[j] == '\\' && j + 1 < n_ && s_[j + 1] != '\n') {
        j += 2;
        continue;
      }
      if (s_[j] == q && (q != '\'' || EndsWord(j + 1))) {
        *end = j + 1;
        return true;
      }
      ++j;
    }
    // No closing quote before `j`: no later opening quote of this kind
    // before `j` can find one either.
    quote_horizon_[kind] = j;
    return false;
  }

  // scheme "://" followed by non-space characters.
  bool MatchUrl(size_t i, size_t* end) {
    if (i < url_horizon_) return false;
    size_t j = i;
    while (j < n_ && IsSchemeChar(s_[j])) ++j;
    if (!(At(j) == ':' && At(j + 1) == '/' && At(j + 2) == '/')) {
      url_horizon_ = j;
      return false;
    }
    j += 3;
    while (j < n_ && !IsSpace(s_[j]) && s_[j] != '"' && s_[j] != '\'' &&
           s_[j] != '<' && s_[j] != '>' && s_[j] != '`') {
      ++j;
    }
    // Trailing sentence punctuation is not part of the URL.
    while (j > i && (s_[j - 1] == '.' || s_[j - 1] == ',' || s_[j - 1] == ';' ||
                     s_[j - 1] == ':' || s_[j - 1] == '!' || s_[j - 1] == '?' ||
                     s_[j - 1] == ')' || s_[j - 1] == ']')) {
      --j;
    }
    *end = j;
    return true;
  }

  // 8-4-4-4-12 hexadecimal digits.
  bool MatchUuid(size_t i, size_t* end) const {
    static const int kGroups[] = {8, 4, 4, 4, 12};
    size_t j = i;
    for (int g = 0; g < 5; ++g) {
      if (g > 0) {
        if (At(j) != '-') return false;
        ++j;
      }
      for (int k = 0; k < kGroups[g]; ++k, ++j) {
        if (!util::IsHexDigit(At(j))) return false;
      }
    }
    if (!EndsWord(j)) return false;
    *end = j;
    return true;
  }

  // local@domain.tld
  bool MatchEmail(size_t i, size_t* end) {
    if (i < email_horizon_) return false;
    size_t j = i;
    while (j < n_ && IsEmailLocalChar(s_[j])) ++j;
    if (At(j) != '@') {
      email_horizon_ = j;
      return false;
    }
    size_t k = j + 1;
    while (k < n_ && (IsAlnum(s_[k]) || s_[k] == '-' || s_[k] == '.')) ++k;
    while (k > j + 1 && s_[k - 1] == '.') --k;  // sentence full stop
    size_t last_dot = 0;
    for (size_t d = j + 1; d < k; ++d) {
      if (s_[d] == '.') last_dot = d;
    }
    if (last_dot <= j + 1 || last_dot + 1 >= k || !IsAlnum(s_[last_dot + 1])) {
      email_horizon_ = j;
      return false;
    }
    *end = k;
    return true;
  }

  bool Digits(size_t i, int count) const {
    for (int k = 0; k < count; ++k) {
      if (!IsDigit(At(i + k))) return false;
    }
    return true;
  }

  // HH:MM:SS with optional fraction; returns the end or 0.
  size_t TimeEnd(size_t i) const {
    if (!Digits(i, 2) || At(i + 2) != ':' || !Digits(i + 3, 2) ||
        At(i + 5) != ':' || !Digits(i + 6, 2)) {
      return 0;
    }
    size_t j = i + 8;
    if ((At(j) == '.' || At(j) == ',') && IsDigit(At(j + 1))) {
      ++j;
      while (j < n_ && IsDigit(s_[j])) ++j;
    }
    return j;
  }

  // YYYY-MM-DD, optionally followed by 'T' or ' ' and a time, and a zone.
  bool MatchDateTime(size_t i, size_t* end) const {
    if (!Digits(i, 4) || At(i + 4) != '-' || !Digits(i + 5, 2) ||
        At(i + 7) != '-' || !Digits(i + 8, 2)) {
      return false;
    }
    size_t j = i + 10;
    if (At(j) == 'T' || At(j) == 't' || At(j) == ' ') {
      size_t t = TimeEnd(j + 1);
      if (t != 0) {
        j = t;
        if (At(j) == 'Z' || At(j) == 'z') {
          ++j;
        } else if ((At(j) == '+' || At(j) == '-') && Digits(j + 1, 2)) {
          if (At(j + 3) == ':' && Digits(j + 4, 2)) {
            j += 6;
          } else if (Digits(j + 3, 2)) {
            j += 5;
          }
        }
      }
    }
    if (!EndsWord(j)) return false;
    *end = j;
    return true;
  }

  bool MatchTime(size_t i, size_t* end) const {
    size_t j = TimeEnd(i);
    if (j == 0 || !EndsWord(j)) return false;
    *end = j;
    return true;
  }

  // d.d.d.d with 1-3 digits per part.
  bool MatchIpv4(size_t i, size_t* end) const {
    size_t j = i;
    for (int part = 0; part < 4; ++part) {
      if (part > 0) {
        if (At(j) != '.') return false;
        ++j;
      }
      int len = 0;
      int value = 0;
      while (len < 4 && IsDigit(At(j))) {
        value = value * 10 + (s_[j] - '0');
        ++len;
        ++j;
      }
      if (len == 0 || len > 3 || value > 255) return false;
    }
    if (!EndsWord(j) || (At(j) == '.' && IsDigit(At(j + 1)))) return false;
    *end = j;
    return true;
  }

  // Hex groups separated by ':' with "::" or exactly eight groups, at least
  // one decimal digit; an embedded IPv4 tail is allowed. Scans at most
  // kMaxIpv6Length bytes.
  bool MatchIpv6(size_t i, size_t* end) const {
    size_t j = i;
    int colons = 0;
    bool double_colon = false;
    int group_len = 0;
    bool digit_seen = false;
    bool dotted = false;
    size_t dotted_from = 0;  // start of an IPv4 tail
    while (j < n_ && j - i <= kMaxIpv6Length) {
      char c = s_[j];
      if (c == ':') {
        if (At(j + 1) == ':') {
          if (double_colon) return false;
          double_colon = true;
          colons += 2;
          j += 2;
        } else {
          ++colons;
          ++j;
        }
        group_len = 0;
        continue;
      }
      if (util::IsHexDigit(c)) {
        if (++group_len > 4) return false;
        if (IsDigit(c)) digit_seen = true;
        ++j;
        continue;
      }
      if (c == '.' && IsDigit(At(j + 1)) && colons > 0) {
        dotted = true;
        dotted_from = j - group_len;
      }
      break;
    }
    if (j - i > kMaxIpv6Length) return false;
    if (dotted) {
      size_t v4_end = 0;
      if (!MatchIpv4(dotted_from, &v4_end)) return false;
      j = v4_end;
    } else if (j - i >= 2 && s_[j - 1] == ':' && s_[j - 2] != ':') {
      --j;  // "::1:" ends a sentence, the colon is not part of it
      --colons;
    }
    if (!digit_seen || colons < 2) return false;
    if (!double_colon && colons != 7 && !(dotted && colons == 6)) {
      return false;
    }
    if (!EndsWord(j)) return false;
    *end = j;
    return true;
  }

  // A word of at least 8 hex digits with at least one digit and one letter
  // (commit ids, object ids, trace ids).
  bool MatchBareHex(size_t i, size_t* end) const {
    size_t j = i;
    bool digit = false;
    bool letter = false;
    while (j < n_ && util::IsHexDigit(s_[j])) {
      if (IsDigit(s_[j])) {
        digit = true;
      } else {
        letter = true;
      }
      ++j;
    }
    if (j - i < 8 || !digit || !letter || !EndsWord(j)) return false;
    *end = j;
    return true;
  }

  // Digits: "<int>"; digits "." digits: "<float>"; more dot-separated
  // groups, or a "v" before them: "<version>". Letters directly after the
  // number ("5000ms") are kept.
  const char* MatchNumber(size_t i, size_t* end) const {
    size_t j = i;
    bool v = s_[j] == 'v' || s_[j] == 'V';
    if (v) ++j;
    while (j < n_ && IsDigit(s_[j])) ++j;
    int dots = 0;
    while (At(j) == '.' && IsDigit(At(j + 1))) {
      ++dots;
      ++j;
      while (j < n_ && IsDigit(s_[j])) ++j;
    }
    if (v && (dots == 0 || !EndsWord(j))) return nullptr;
    *end = j;
    if (v || dots > 1) return "<version>";
    return dots == 1 ? "<float>" : "<int>";
  }

  const std::string& s_;
  const size_t n_;
  std::string out_;
  size_t quote_horizon_[3] = {0, 0, 0};
  size_t url_horizon_ = 0;
  size_t email_horizon_ = 0;
};

}  // namespace

std::string NormalizeMessage(const std::string& message) {
  return Scanner(message).Run();
}

}  // namespace grouping
}  // namespace crashctl
