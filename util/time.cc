#include "crashctl/util/time.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace crashctl {
namespace util {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string FormatRfc3339Millis(double epoch_seconds) {
  // 0001-01-01 and 9999-12-31T23:59:59.999 in epoch milliseconds.
  constexpr int64_t kMinMs = -62135596800000LL;
  constexpr int64_t kMaxMs = 253402300799999LL;
  int64_t ms;
  if (std::isnan(epoch_seconds)) {
    ms = 0;
  } else if (epoch_seconds * 1000.0 <= static_cast<double>(kMinMs)) {
    ms = kMinMs;
  } else if (epoch_seconds * 1000.0 >= static_cast<double>(kMaxMs)) {
    ms = kMaxMs;
  } else {
    // Round to the nearest microsecond first so 1.123 (stored as
    // 1.12299999...) prints .123, then truncate to milliseconds.
    const double us = std::round(epoch_seconds * 1e6);
    ms = static_cast<int64_t>(std::floor(us / 1000.0));
  }
  int64_t days = ms / 86400000;
  int64_t rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  const int64_t secs = rem / 1000;
  char buf[40];
  std::snprintf(
      buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
      static_cast<long long>(year), month, day,
      static_cast<long long>(secs / 3600),
      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
      static_cast<long long>(rem % 1000));
  return buf;
}

namespace {

// The parser behind ParseRfc3339 and ParseRfc3339Lenient.
bool Parse(std::string_view s, bool lenient, double* epoch_seconds) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, '-') ||
      !Digits(s, &pos, 2, &month) || !Expect(s, &pos, '-') ||
      !Digits(s, &pos, 2, &day)) {
    return false;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) {
    return false;
  }
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') ||
      !Digits(s, &pos, 2, &minute) || !Expect(s, &pos, ':') ||
      !Digits(s, &pos, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 ||
      day > static_cast<int>(DaysInMonth(year, month)) || hour > 23 ||
      minute > 59 || second > 60) {  // 60: leap second, folded below
    return false;
  }
  double fraction = 0;
  if (pos < s.size() && (s[pos] == '.' || (lenient && s[pos] == ','))) {
    ++pos;
    double scale = 0.1;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) fraction += (s[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
      if (digits > 32) return false;  // bounded
    }
    if (digits == 0) return false;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!Digits(s, &pos, 2, &oh)) return false;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, &pos, 2, &om)) return false;
    } else if (lenient && pos < s.size()) {
      if (!Digits(s, &pos, 2, &om)) return false;  // +HHMM
    } else if (!lenient) {
      return false;  // RFC 3339 wants +HH:MM
    }
    if (oh > 23 || om > 59) return false;
    offset_minutes = sign * (oh * 60 + om);
  } else if (!lenient || pos < s.size()) {
    return false;
  }
  if (pos != s.size()) return false;
  if (second == 60) second = 59;
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second -
                       static_cast<int64_t>(offset_minutes) * 60;
  *epoch_seconds = static_cast<double>(secs) + fraction;
  return true;
}

}  // namespace

bool ParseRfc3339(std::string_view text, double* epoch_seconds) {
  return Parse(text, /*lenient=*/false, epoch_seconds);
}

bool ParseRfc3339Lenient(std::string_view text, double* epoch_seconds) {
  return Parse(text, /*lenient=*/true, epoch_seconds);
}

}  // namespace util
}  // namespace crashctl
