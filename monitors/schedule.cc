#include "crashctl/monitors/schedule.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <utility>
#include <vector>

#include "crashctl/util/enum_names.h"
#include "crashctl/util/strings.h"

namespace crashctl::monitors {
namespace {

using Seconds = std::chrono::seconds;

constexpr int64_t kDay = 86400;
// How far NextLocal/PrevLocal look: 100 years of days. Every crontab the
// parser accepts matches at least once in any 40 years (the longest gap is
// a Feb 29 that must also be a given weekday, across a non-leap 2100).
constexpr int64_t kSearchDays = 36525;
// A crontab expression longer than this is refused (the longest sensible
// one, every value of every field listed, is about 400 characters).
constexpr size_t kMaxExpressionLength = 1024;
constexpr size_t kMaxZoneNameLength = 128;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// For messages: at most 64 bytes of user text, non-printable bytes as \xNN.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : text) {
    if (++n > 64) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += '"';
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// ---------------------------------------------------------------------------
// Time zones. A null time_zone is UTC.

class Zone {
 public:
  Zone() = default;
  explicit Zone(const date::time_zone* tz) : tz_(tz) {}

  // Wall-clock seconds (seconds since 1970-01-01T00:00 local) of instant t.
  int64_t ToLocal(int64_t t) const {
    if (tz_ == nullptr) return t;
    const date::sys_info info = tz_->get_info(date::sys_seconds{Seconds{t}});
    return t + info.offset.count();
  }

  // The instant of wall-clock time `local`: a time in a spring-forward gap
  // gives the first instant after the gap; a time that occurs twice gives
  // its first occurrence. Non-decreasing in `local`.
  int64_t ToInstant(int64_t local) const {
    if (tz_ == nullptr) return local;
    const date::local_info info =
        tz_->get_info(date::local_seconds{Seconds{local}});
    switch (info.result) {
      case date::local_info::nonexistent:
        return info.second.begin.time_since_epoch().count();
      case date::local_info::ambiguous:  // first = before the transition
      case date::local_info::unique:
      default:
        return local - info.first.offset.count();
    }
  }

  // The largest whole wall-clock minute whose instant is <= t. It is the
  // minute of t's own wall-clock time, except in the second pass of a
  // fall-back hour, where the rest of the repeated hour already ran (first
  // occurrences) and so is also "at or before t".
  int64_t LastLocalMinuteAtOrBefore(int64_t t) const {
    int64_t minute = FloorDiv(ToLocal(t), 60) * 60;
    for (int i = 0; i < 2 * 1440 && ToInstant(minute + 60) <= t; ++i) {
      minute += 60;
    }
    return minute;
  }

 private:
  const date::time_zone* tz_ = nullptr;
};

bool ResolveZone(std::string_view name, const date::time_zone** tz,
                 std::string* error) {
  *tz = nullptr;
  if (name.empty() || name == "UTC") return true;
  if (name.size() > kMaxZoneNameLength) {
    SetError(error, "time zone " + Quote(name) + ": longer than " +
                        std::to_string(kMaxZoneNameLength) + " characters");
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '/' || c == '_' ||
                    c == '-' || c == '+';
    if (!ok) {
      SetError(error, "time zone " + Quote(name) +
                          ": not a tz database name (like Europe/Vienna)");
      return false;
    }
  }
  if (name == "localtime") {
    SetError(error,
             "time zone \"localtime\": names the host's zone, not a tz "
             "database zone");
    return false;
  }
  try {
    const date::time_zone* zone = date::locate_zone(name);
    // Loads and parses the zone file now: later lookups cannot fail.
    (void)zone->get_info(date::sys_seconds{Seconds{0}});
    *tz = zone;
    return true;
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && IsSpace(what.back())) what.pop_back();
    if (what.find("not found") != std::string::npos) {
      SetError(error, "unknown time zone " + Quote(name) +
                          " (not in the tz database)");
    } else {
      SetError(error, "time zone " + Quote(name) +
                          ": tz database unavailable: " + Quote(what));
    }
  } catch (...) {
    SetError(error, "time zone " + Quote(name) + ": tz database unavailable");
  }
  return false;
}

// Civil date helpers on day numbers (days since 1970-01-01).
date::year_month_day CivilFromDays(int64_t day) {
  return date::year_month_day{date::sys_days{date::days{day}}};
}

int64_t DaysFromCivil(const date::year_month_day& ymd) {
  return date::sys_days{ymd}.time_since_epoch().count();
}

unsigned LastDayOfMonth(date::year y, date::month m) {
  return static_cast<unsigned>(
      date::year_month_day_last{y / m / date::last}.day());
}

std::string FormatUtc(int64_t t) {
  const int64_t day = FloorDiv(t, kDay);
  const int64_t sec = t - day * kDay;
  const date::year_month_day ymd = CivilFromDays(day);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(sec / 3600),
                static_cast<int>(sec / 60 % 60), static_cast<int>(sec % 60));
  return buf;
}

// ---------------------------------------------------------------------------
// Crontab.

struct Cron {
  uint64_t minutes = 0;  // bit m: minute m (0-59)
  uint32_t hours = 0;    // bit h: hour h (0-23)
  uint32_t doms = 0;     // bit d: day of month d (1-31)
  uint32_t months = 0;   // bit m: month m (1-12)
  uint32_t dows = 0;     // bit d: weekday d (0-6, 0 = Sunday)
  // The field's text starts with '*' (Vixie cron's DOM_STAR / DOW_STAR):
  // then day-of-month and day-of-week must both match, else either.
  bool dom_star = false;
  bool dow_star = false;
};

bool DayMatches(const Cron& c, unsigned dom, unsigned dow) {
  const bool dom_match = (c.doms >> dom) & 1u;
  const bool dow_match = (c.dows >> dow) & 1u;
  if (c.dom_star || c.dow_star) return dom_match && dow_match;
  return dom_match || dow_match;
}

// The first minute of the day (0-1439) at or after `minute_of_day` whose
// hour and minute match, or -1.
int FirstMinuteAtOrAfter(const Cron& c, int minute_of_day) {
  const int h = minute_of_day / 60;
  const int m = minute_of_day % 60;
  if ((c.hours >> h) & 1u) {
    const uint64_t mm = c.minutes & (~0ULL << m);
    if (mm != 0) return h * 60 + __builtin_ctzll(mm);
  }
  if (h + 1 >= 24) return -1;
  const uint32_t hh = c.hours & (~0u << (h + 1));
  if (hh == 0) return -1;
  return __builtin_ctz(hh) * 60 + __builtin_ctzll(c.minutes);
}

// The last minute of the day at or before `minute_of_day` that matches, or
// -1.
int LastMinuteAtOrBefore(const Cron& c, int minute_of_day) {
  const int h = minute_of_day / 60;
  const int m = minute_of_day % 60;
  if ((c.hours >> h) & 1u) {
    const uint64_t mm = c.minutes & ((2ULL << m) - 1);
    if (mm != 0) return h * 60 + 63 - __builtin_clzll(mm);
  }
  if (h == 0) return -1;
  const uint32_t hh = c.hours & ((1u << h) - 1);
  if (hh == 0) return -1;
  return (31 - __builtin_clz(hh)) * 60 + 63 - __builtin_clzll(c.minutes);
}

// The first matching wall-clock minute strictly after `local`, looking at
// most kSearchDays ahead.
std::optional<int64_t> NextLocal(const Cron& c, int64_t local) {
  const int64_t start = FloorDiv(local, 60) * 60 + 60;
  int64_t day = FloorDiv(start, kDay);
  int minute_of_day = static_cast<int>((start - day * kDay) / 60);
  const int64_t last_day = day + kSearchDays;
  while (day <= last_day) {
    const date::year_month_day ymd = CivilFromDays(day);
    const unsigned month = static_cast<unsigned>(ymd.month());
    if (((c.months >> month) & 1u) == 0) {
      const date::year_month_day first =
          date::year_month_day{ymd.year() / ymd.month() / 1} + date::months{1};
      day = DaysFromCivil(first);
      minute_of_day = 0;
      continue;
    }
    const unsigned dow =
        date::weekday{date::sys_days{date::days{day}}}.c_encoding();
    if (DayMatches(c, static_cast<unsigned>(ymd.day()), dow)) {
      const int found = FirstMinuteAtOrAfter(c, minute_of_day);
      if (found >= 0) return day * kDay + int64_t{found} * 60;
    }
    ++day;
    minute_of_day = 0;
  }
  return std::nullopt;
}

// The last matching wall-clock minute at or before `local`, looking at most
// kSearchDays back.
std::optional<int64_t> PrevLocal(const Cron& c, int64_t local) {
  const int64_t start = FloorDiv(local, 60) * 60;
  int64_t day = FloorDiv(start, kDay);
  int minute_of_day = static_cast<int>((start - day * kDay) / 60);
  const int64_t first_day = day - kSearchDays;
  while (day >= first_day) {
    const date::year_month_day ymd = CivilFromDays(day);
    const unsigned month = static_cast<unsigned>(ymd.month());
    if (((c.months >> month) & 1u) == 0) {
      day = DaysFromCivil(ymd.year() / ymd.month() / 1) - 1;
      minute_of_day = 1439;
      continue;
    }
    const unsigned dow =
        date::weekday{date::sys_days{date::days{day}}}.c_encoding();
    if (DayMatches(c, static_cast<unsigned>(ymd.day()), dow)) {
      const int found = LastMinuteAtOrBefore(c, minute_of_day);
      if (found >= 0) return day * kDay + int64_t{found} * 60;
    }
    --day;
    minute_of_day = 1439;
  }
  return std::nullopt;
}

struct FieldSpec {
  const char* name;
  int low;
  int high;
  const char* const* names;  // 3-letter names for values name_base, ...
  int name_base;
};

const char* const kMonthNames[] = {"JAN", "FEB", "MAR",  "APR", "MAY",
                                   "JUN", "JUL", "AUG",  "SEP", "OCT",
                                   "NOV", "DEC", nullptr};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED",
                                 "THU", "FRI", "SAT", nullptr};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 1},
    {"day-of-week", 0, 7, kDayNames, 0},
};

// One value of a field: digits, or a name where the field has names.
bool ParseValue(std::string_view text, const FieldSpec& spec, int* value,
                std::string* reason) {
  if (text.empty()) {
    *reason = "missing number";
    return false;
  }
  if (text[0] >= '0' && text[0] <= '9') {
    int v = 0;
    for (char ch : text) {
      if (ch < '0' || ch > '9') {
        *reason = Quote(text) + " is not a number";
        return false;
      }
      v = v * 10 + (ch - '0');
      if (v > 9999) v = 9999;  // saturate: out of range anyway
    }
    if (v < spec.low || v > spec.high) {
      *reason = Quote(text) + " is out of range " + std::to_string(spec.low) +
                "-" + std::to_string(spec.high);
      return false;
    }
    *value = v;
    return true;
  }
  if (spec.names != nullptr) {
    for (int i = 0; spec.names[i] != nullptr; ++i) {
      if (util::EqualsIgnoreCase(text, spec.names[i])) {
        *value = spec.name_base + i;
        return true;
      }
    }
    *reason = Quote(text) + " is not a number or a name (" + spec.names[0] +
              "-" + spec.names[spec.name_base == 1 ? 11 : 6] + ")";
    return false;
  }
  *reason = Quote(text) + " is not a number";
  return false;
}

// One comma-separated element: * | V | V-V, optionally followed by /STEP
// (only after * or a range).
bool ParseElement(std::string_view element, const FieldSpec& spec,
                  uint64_t* bits, std::string* reason) {
  if (element.empty()) {
    *reason = "empty list element";
    return false;
  }
  const size_t slash = element.find('/');
  const std::string_view base = element.substr(0, slash);
  int lo = 0;
  int hi = 0;
  bool single = false;
  if (base == "*") {
    lo = spec.low;
    hi = spec.high;
  } else {
    const size_t dash = base.find('-');
    if (dash == std::string_view::npos) {
      if (!ParseValue(base, spec, &lo, reason)) return false;
      hi = lo;
      single = true;
    } else {
      const std::string_view end = base.substr(dash + 1);
      if (!ParseValue(base.substr(0, dash), spec, &lo, reason) ||
          !ParseValue(end, spec, &hi, reason)) {
        return false;
      }
      // "MON-SUN", "FRI-SUN": SUN ending a range is day 7.
      if (spec.names == kDayNames && util::EqualsIgnoreCase(end, "SUN")) hi = 7;
      if (lo > hi) {
        *reason = "range start " + std::to_string(lo) + " is after its end " +
                  std::to_string(hi);
        return false;
      }
    }
  }
  int step = 1;
  if (slash != std::string_view::npos) {
    if (single) {
      *reason = "a step (/N) needs * or a range before it";
      return false;
    }
    const std::string_view step_text = element.substr(slash + 1);
    const int max_step = spec.high - spec.low + 1;
    if (step_text.empty()) {
      *reason = "missing step after /";
      return false;
    }
    step = 0;
    for (char ch : step_text) {
      if (ch < '0' || ch > '9') {
        *reason = "step " + Quote(step_text) + " is not a number";
        return false;
      }
      step = step * 10 + (ch - '0');
      if (step > 9999) step = 9999;
    }
    if (step < 1 || step > max_step) {
      *reason = "step " + Quote(step_text) + " is out of range 1-" +
                std::to_string(max_step);
      return false;
    }
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return true;
}

bool ParseField(std::string_view text, const FieldSpec& spec, uint64_t* bits,
                std::string* error) {
  *bits = 0;
  size_t pos = 0;
  for (;;) {
    const size_t comma = text.find(',', pos);
    const std::string_view element = text.substr(
        pos,
        comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    std::string reason;
    if (!ParseElement(element, spec, bits, &reason)) {
      SetError(error, std::string(spec.name) + " field " + Quote(text) +
                          ": bad token " + Quote(element) + ": " + reason);
      return false;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return true;
}

struct Macro {
  const char* name;
  const char* expansion;
};
const Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size() && fields.size() <= 5) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

// True when some allowed month has some allowed day of month (Feb counted
// with 29 days). Only checked when the day-of-month list alone decides.
bool DayOfMonthCanOccur(const Cron& c) {
  static const unsigned kMaxDays[13] = {0,  31, 29, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; ++m) {
    if (((c.months >> m) & 1u) == 0) continue;
    for (unsigned d = 1; d <= kMaxDays[m]; ++d) {
      if ((c.doms >> d) & 1u) return true;
    }
  }
  return false;
}

bool ParseCron(std::string_view expression, Cron* cron, std::string* text,
               std::string* error) {
  if (expression.size() > kMaxExpressionLength) {
    SetError(error, "crontab expression longer than " +
                        std::to_string(kMaxExpressionLength) + " characters");
    return false;
  }
  std::vector<std::string_view> fields = SplitFields(expression);
  if (fields.empty()) {
    SetError(error, "empty crontab expression");
    return false;
  }
  std::string expanded;
  if (fields[0][0] == '@') {
    if (fields.size() != 1) {
      SetError(error, "crontab macro " + Quote(fields[0]) +
                          " must be the whole expression");
      return false;
    }
    for (const Macro& macro : kMacros) {
      if (util::EqualsIgnoreCase(fields[0], macro.name))
        expanded = macro.expansion;
    }
    if (expanded.empty()) {
      SetError(error,
               "unknown crontab macro " + Quote(fields[0]) +
                   (util::EqualsIgnoreCase(fields[0], "@reboot")
                        ? " (@reboot has no schedule)"
                        : " (expected @yearly, @annually, @monthly, @weekly, "
                          "@daily, @midnight or @hourly)"));
      return false;
    }
    *text = std::string(fields[0]);
    for (char& ch : *text) ch = Lower(ch);
    fields = SplitFields(expanded);
  } else {
    if (fields.size() != 5) {
      SetError(error, "crontab " + Quote(expression) +
                          ": expected 5 fields (minute " +
                          "hour day-of-month month day-of-week), got " +
                          (fields.size() > 5 ? "more than 5"
                                             : std::to_string(fields.size())));
      return false;
    }
    text->clear();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) *text += ' ';
      *text += fields[i];
    }
  }
  Cron c;
  uint64_t bits[5];
  for (int i = 0; i < 5; ++i) {
    if (!ParseField(fields[i], kFields[i], &bits[i], error)) return false;
  }
  c.minutes = bits[0];
  c.hours = static_cast<uint32_t>(bits[1]);
  c.doms = static_cast<uint32_t>(bits[2]);
  c.months = static_cast<uint32_t>(bits[3]);
  c.dows = static_cast<uint32_t>(bits[4]);
  if (c.dows & (1u << 7)) c.dows = (c.dows | 1u) & 0x7fu;  // 7 = Sunday
  c.dom_star = fields[2][0] == '*';
  c.dow_star = fields[4][0] == '*';
  if (!c.dom_star && c.dow_star && !DayOfMonthCanOccur(c)) {
    SetError(error, "crontab " + Quote(*text) + " never runs: day-of-month " +
                        "field " + Quote(fields[2]) +
                        " names no day that the month field " +
                        Quote(fields[3]) + " has");
    return false;
  }
  *cron = c;
  return true;
}

// ---------------------------------------------------------------------------
// Intervals.

struct Interval {
  int64_t value = 1;
  IntervalUnit unit = IntervalUnit::kMinute;
  int64_t anchor = 0;
  // Calendar units: the anchor's wall-clock date and time of day.
  int64_t anchor_day = 0;  // days since 1970-01-01, local
  int64_t anchor_tod = 0;  // seconds into that day
  date::year_month_day anchor_ymd{};
};

bool IsElapsed(IntervalUnit unit) {
  return unit == IntervalUnit::kMinute || unit == IntervalUnit::kHour;
}

int64_t ElapsedStep(const Interval& iv) {
  return iv.value * (iv.unit == IntervalUnit::kMinute ? 60 : 3600);
}

// Largest accepted value per unit: about 100 years.
int64_t MaxValue(IntervalUnit unit) {
  switch (unit) {
    case IntervalUnit::kMinute:
      return 36525LL * 1440;
    case IntervalUnit::kHour:
      return 36525LL * 24;
    case IntervalUnit::kDay:
      return 36525;
    case IntervalUnit::kWeek:
      return 5218;
    case IntervalUnit::kMonth:
      return 1200;
    case IntervalUnit::kYear:
    default:
      return 100;
  }
}

// Wall-clock time of calendar occurrence k >= 1, or nullopt past year 10000.
std::optional<int64_t> CalendarLocal(const Interval& iv, int64_t k) {
  int64_t day = 0;
  switch (iv.unit) {
    case IntervalUnit::kDay:
      day = iv.anchor_day + k * iv.value;
      break;
    case IntervalUnit::kWeek:
      day = iv.anchor_day + k * 7 * iv.value;
      break;
    case IntervalUnit::kMonth:
    case IntervalUnit::kYear: {
      const int64_t steps =
          k * iv.value * (iv.unit == IntervalUnit::kYear ? 12 : 1);
      const int64_t total =
          int64_t{static_cast<int>(iv.anchor_ymd.year())} * 12 +
          (static_cast<unsigned>(iv.anchor_ymd.month()) - 1) + steps;
      const int64_t y = FloorDiv(total, 12);
      if (y > 10000) return std::nullopt;
      const date::year year{static_cast<int>(y)};
      const date::month month{static_cast<unsigned>(total - y * 12 + 1)};
      unsigned d = static_cast<unsigned>(iv.anchor_ymd.day());
      const unsigned last = LastDayOfMonth(year, month);
      if (d > last) d = last;
      day = DaysFromCivil(year / month / date::day{d});
      break;
    }
    default:
      return std::nullopt;
  }
  if (day > 3000000) return std::nullopt;  // far past year 10000
  return day * kDay + iv.anchor_tod;
}

// Instant of occurrence k (k = 0 is the anchor itself).
std::optional<int64_t> Occurrence(const Interval& iv, const Zone& zone,
                                  int64_t k) {
  if (k == 0) return iv.anchor;
  if (IsElapsed(iv.unit)) return iv.anchor + k * ElapsedStep(iv);
  const std::optional<int64_t> local = CalendarLocal(iv, k);
  if (!local) return std::nullopt;
  return zone.ToInstant(*local);
}

// An occurrence index k0 >= 0 with Occurrence(k0 - 1) <= t (for k0 >= 1)
// and Occurrence(k0 + 2) > t, for t >= anchor.
int64_t EstimateIndex(const Interval& iv, const Zone& zone, int64_t t) {
  if (IsElapsed(iv.unit)) return (t - iv.anchor) / ElapsedStep(iv);
  const int64_t local = zone.ToLocal(t);
  const int64_t day = FloorDiv(local, kDay);
  int64_t k0 = 0;
  switch (iv.unit) {
    case IntervalUnit::kDay:
      k0 = FloorDiv(day - iv.anchor_day, iv.value);
      break;
    case IntervalUnit::kWeek:
      k0 = FloorDiv(day - iv.anchor_day, 7 * iv.value);
      break;
    case IntervalUnit::kMonth:
    case IntervalUnit::kYear: {
      const date::year_month_day ymd = CivilFromDays(day);
      const int64_t months = (int64_t{static_cast<int>(ymd.year())} -
                              static_cast<int>(iv.anchor_ymd.year())) *
                                 12 +
                             (int64_t{static_cast<unsigned>(ymd.month())} -
                              static_cast<unsigned>(iv.anchor_ymd.month()));
      k0 = FloorDiv(months,
                    iv.value * (iv.unit == IntervalUnit::kYear ? 12 : 1));
      break;
    }
    default:
      break;
  }
  return k0 < 0 ? 0 : k0;
}

std::optional<int64_t> IntervalNextAfter(const Interval& iv, const Zone& zone,
                                         int64_t t) {
  if (t < iv.anchor) return iv.anchor;
  int64_t k = EstimateIndex(iv, zone, t);
  if (k < 1) k = 1;
  for (int i = 0; i < 8; ++i, ++k) {
    const std::optional<int64_t> at = Occurrence(iv, zone, k);
    if (!at) return std::nullopt;
    if (*at > t) return at;
  }
  return std::nullopt;
}

std::optional<int64_t> IntervalPreviousAtOrBefore(const Interval& iv,
                                                  const Zone& zone, int64_t t) {
  if (t < iv.anchor) return std::nullopt;
  for (int64_t k = EstimateIndex(iv, zone, t) + 3; k >= 1; --k) {
    const std::optional<int64_t> at = Occurrence(iv, zone, k);
    if (at && *at <= t) return at;
  }
  return iv.anchor;
}

}  // namespace

struct Schedule::Impl {
  Type type = Type::kNone;
  std::string timezone = "UTC";
  Zone zone;
  std::string text;  // crontab as written (whitespace normalised)
  Cron cron;
  Interval interval;
};

constexpr util::EnumName<IntervalUnit> kIntervalUnits[] = {
    {IntervalUnit::kMinute, "minute"}, {IntervalUnit::kHour, "hour"},
    {IntervalUnit::kDay, "day"},       {IntervalUnit::kWeek, "week"},
    {IntervalUnit::kMonth, "month"},   {IntervalUnit::kYear, "year"},
};
static_assert(util::InEnumOrder(kIntervalUnits),
              "kIntervalUnits follows enum IntervalUnit");

bool ParseIntervalUnit(std::string_view text, IntervalUnit* unit) {
  return util::ParseName(kIntervalUnits, text, unit, /*ignore_case=*/true);
}

const char* IntervalUnitName(IntervalUnit unit) {
  return util::NameOf(kIntervalUnits, unit, "unknown");
}

bool ValidateTimeZone(std::string_view timezone, std::string* error) {
  const date::time_zone* tz = nullptr;
  return ResolveZone(timezone, &tz, error);
}

Schedule::Schedule() = default;

Schedule::Schedule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

bool Schedule::ParseCrontab(std::string_view expression,
                            std::string_view timezone, Schedule* out,
                            std::string* error) {
  try {
    auto impl = std::make_shared<Impl>();
    const date::time_zone* tz = nullptr;
    if (!ParseCron(expression, &impl->cron, &impl->text, error) ||
        !ResolveZone(timezone, &tz, error)) {
      return false;
    }
    impl->type = Type::kCrontab;
    impl->zone = Zone(tz);
    impl->timezone = timezone.empty() ? "UTC" : std::string(timezone);
    *out = Schedule(std::move(impl));
    return true;
  } catch (...) {  // allocation failure: refuse, never throw
    SetError(error, "crontab: out of memory");
    return false;
  }
}

bool Schedule::MakeInterval(int64_t value, IntervalUnit unit, int64_t anchor,
                            std::string_view timezone, Schedule* out,
                            std::string* error) {
  try {
    const char* name = IntervalUnitName(unit);
    if (std::string_view(name) == "unknown") {
      SetError(error, "interval: unknown unit");
      return false;
    }
    if (value < 1 || value > MaxValue(unit)) {
      SetError(error, "interval: value " + std::to_string(value) + " " + name +
                          " is out of range 1-" +
                          std::to_string(MaxValue(unit)) + " (100 years)");
      return false;
    }
    if (anchor < kMinTime || anchor > kMaxTime) {
      SetError(error, "interval: start time " + std::to_string(anchor) +
                          " is outside 1970-9999");
      return false;
    }
    const date::time_zone* tz = nullptr;
    if (!ResolveZone(timezone, &tz, error)) return false;
    auto impl = std::make_shared<Impl>();
    impl->type = Type::kInterval;
    impl->zone = Zone(tz);
    impl->timezone = timezone.empty() ? "UTC" : std::string(timezone);
    Interval& iv = impl->interval;
    iv.value = value;
    iv.unit = unit;
    iv.anchor = anchor;
    const int64_t local = impl->zone.ToLocal(anchor);
    iv.anchor_day = FloorDiv(local, kDay);
    iv.anchor_tod = local - iv.anchor_day * kDay;
    iv.anchor_ymd = CivilFromDays(iv.anchor_day);
    *out = Schedule(std::move(impl));
    return true;
  } catch (...) {
    SetError(error, "interval: out of memory");
    return false;
  }
}

std::optional<int64_t> Schedule::NextAfter(int64_t t) const {
  if (!impl_ || t < kMinTime || t > kMaxTime) return std::nullopt;
  try {
    std::optional<int64_t> next;
    if (impl_->type == Type::kInterval) {
      next = IntervalNextAfter(impl_->interval, impl_->zone, t);
    } else if (impl_->type == Type::kCrontab) {
      const Zone& zone = impl_->zone;
      int64_t local = zone.LastLocalMinuteAtOrBefore(t);
      // One step suffices (every later wall-clock minute maps past t); the
      // loop only guards the invariant.
      for (int i = 0; i < 4 && !next; ++i) {
        const std::optional<int64_t> candidate = NextLocal(impl_->cron, local);
        if (!candidate) return std::nullopt;
        const int64_t at = zone.ToInstant(*candidate);
        if (at > t) next = at;
        local = *candidate;
      }
    }
    if (next && *next > kMaxTime) return std::nullopt;
    return next;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<int64_t> Schedule::PreviousAtOrBefore(int64_t t) const {
  if (!impl_ || t < kMinTime || t > kMaxTime) return std::nullopt;
  try {
    std::optional<int64_t> prev;
    if (impl_->type == Type::kInterval) {
      prev = IntervalPreviousAtOrBefore(impl_->interval, impl_->zone, t);
    } else if (impl_->type == Type::kCrontab) {
      const Zone& zone = impl_->zone;
      int64_t local = zone.LastLocalMinuteAtOrBefore(t);
      for (int i = 0; i < 4 && !prev; ++i) {
        const std::optional<int64_t> candidate = PrevLocal(impl_->cron, local);
        if (!candidate) return std::nullopt;
        const int64_t at = zone.ToInstant(*candidate);
        if (at <= t) prev = at;
        local = *candidate - 60;
      }
    }
    if (prev && *prev < kMinTime) return std::nullopt;
    return prev;
  } catch (...) {
    return std::nullopt;
  }
}

Schedule::Type Schedule::type() const {
  return impl_ ? impl_->type : Type::kNone;
}

const std::string& Schedule::timezone() const {
  static const std::string kUtc = "UTC";
  return impl_ ? impl_->timezone : kUtc;
}

std::string Schedule::Describe() const {
  if (!impl_ || impl_->type == Type::kNone) return "none";
  if (impl_->type == Type::kCrontab) {
    return impl_->text + " (" + impl_->timezone + ")";
  }
  const Interval& iv = impl_->interval;
  return "every " + std::to_string(iv.value) + " " + IntervalUnitName(iv.unit) +
         " from " + FormatUtc(iv.anchor) + " (" + impl_->timezone + ")";
}

}  // namespace crashctl::monitors
