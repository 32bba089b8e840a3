// Parsing of check-ins: the `check_in` item, the HTTP cron endpoint, slugs,
// monitor_config.
#include "crashctl/releases/check_in.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "check_in_private.h"
#include "crashctl/monitors/schedule.h"
#include "crashctl/util/enum_names.h"
#include "crashctl/util/strings.h"
#include "json_util.h"

namespace crashctl::releases {
namespace {

using internal::Member;
using internal::Quote;

// Any instant works as the anchor when only validating an interval.
constexpr int64_t kValidationAnchor = 1767225600;  // 2026-01-01T00:00:00Z

bool IsSlugChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// An integer field as Sentry's DRF IntegerField reads it: a JSON integer, a
// number without fraction, or decimal digits in a string; null and "" are
// absent.
Status GetLenientInt(const rapidjson::Value* v, const std::string& path,
                     int64_t min, int64_t max, std::optional<int64_t>* out) {
  if (v == nullptr) return Status::Ok();
  int64_t value = 0;
  if (v->IsInt64()) {
    value = v->GetInt64();
  } else if (v->IsNumber()) {
    const double d = v->GetDouble();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 1e15) {
      return Status::Invalid("field " + path + ": expected an integer");
    }
    value = static_cast<int64_t>(d);
  } else if (v->IsString()) {
    std::string_view text =
        util::Trim(std::string_view(v->GetString(), v->GetStringLength()));
    if (text.empty()) return Status::Ok();
    if (!util::ParseInt64(text, -1000000000000000, 1000000000000000, &value)) {
      return Status::Invalid("field " + path + ": expected an integer, not " +
                             Quote(text));
    }
  } else {
    return Status::Invalid("field " + path + ": expected an integer");
  }
  if (value < min || value > max) {
    return Status::Invalid("field " + path + ": " + std::to_string(value) +
                           " is not within " + std::to_string(min) + ".." +
                           std::to_string(max));
  }
  *out = value;
  return Status::Ok();
}

constexpr util::EnumName<CheckInStatus> kCheckInStatuses[] = {
    {CheckInStatus::kInProgress, "in_progress"},
    {CheckInStatus::kOk, "ok"},
    {CheckInStatus::kError, "error"},
};
static_assert(util::InEnumOrder(kCheckInStatuses),
              "kCheckInStatuses follows enum CheckInStatus");

Status ParseStatus(std::string_view name, CheckInStatus* out) {
  if (!util::ParseName(kCheckInStatuses, name, out)) {
    return Status::Invalid(
        "field status: " + Quote(name) +
        " is not a check-in status (in_progress, ok, error; missed and "
        "timeout are decided by the server)");
  }
  return Status::Ok();
}

Status ValidateDuration(double d, CheckIn* check_in) {
  if (!std::isfinite(d) || d < 0 || d > kMaxCheckInDurationSeconds) {
    return Status::Invalid(
        "field duration: expected seconds, a number from 0 to 315576000");
  }
  // Sentry: the duration only takes effect for ok and error.
  if (check_in->status != CheckInStatus::kInProgress) {
    check_in->duration_seconds = d;
  }
  return Status::Ok();
}

Status SetEnvironment(std::string_view env, CheckIn* check_in) {
  if (env.empty()) {
    check_in->environment = "production";  // Sentry's default
    return Status::Ok();
  }
  const std::string problem = internal::EnvironmentProblem(env);
  if (!problem.empty()) {
    return Status::Invalid("field environment " + Quote(env) + " " + problem);
  }
  check_in->environment.assign(env);
  return Status::Ok();
}

Status SetCheckInId(std::string_view text, CheckIn* check_in) {
  if (text.empty()) {
    check_in->check_in_id = kNilCheckInId;
    return Status::Ok();
  }
  if (!internal::ParseUuid(text, &check_in->check_in_id)) {
    return Status::Invalid("field check_in_id: " + Quote(text) +
                           " is not a UUID");
  }
  return Status::Ok();
}

// The check-in JSON; `slug_override` (non-null) replaces monitor_slug.
Status ParseCheckInDoc(const rapidjson::Value& doc,
                       const std::string* slug_override, CheckIn* out) {
  CheckIn c;
  c.check_in_id = kNilCheckInId;
  if (const rapidjson::Value* id = Member(doc, "check_in_id")) {
    if (!id->IsString()) {
      return Status::Invalid("field check_in_id: expected a string");
    }
    Status s = SetCheckInId(
        std::string_view(id->GetString(), id->GetStringLength()), &c);
    if (!s.ok()) return s;
  }
  if (slug_override != nullptr) {
    c.monitor_slug = *slug_override;
  } else {
    const rapidjson::Value* slug = Member(doc, "monitor_slug");
    if (slug == nullptr || !slug->IsString()) {
      return Status::Invalid("field monitor_slug is required (a string)");
    }
    Status s = NormalizeMonitorSlug(
        std::string_view(slug->GetString(), slug->GetStringLength()),
        &c.monitor_slug, &c.slug_changed);
    if (!s.ok()) return s;
  }
  const rapidjson::Value* status = Member(doc, "status");
  if (status == nullptr || !status->IsString()) {
    return Status::Invalid("field status is required (a string)");
  }
  Status s = ParseStatus(
      std::string_view(status->GetString(), status->GetStringLength()),
      &c.status);
  if (!s.ok()) return s;
  if (const rapidjson::Value* d = Member(doc, "duration")) {
    if (!d->IsNumber()) {
      return Status::Invalid("field duration: expected a number (seconds)");
    }
    s = ValidateDuration(d->GetDouble(), &c);
    if (!s.ok()) return s;
  }
  std::string env;
  s = internal::GetString(Member(doc, "environment"), "environment",
                          kMaxCheckInEnvironmentBytes + 1, &env);
  if (!s.ok()) return s;
  s = SetEnvironment(env, &c);
  if (!s.ok()) return s;
  std::string release;
  s = internal::GetString(Member(doc, "release"), "release",
                          kMaxCheckInReleaseBytes + 1, &release);
  if (!s.ok()) return s;
  if (internal::ReleaseProblem(release).empty()) c.release = release;
  if (const rapidjson::Value* contexts = Member(doc, "contexts")) {
    if (const rapidjson::Value* trace = Member(*contexts, "trace")) {
      const rapidjson::Value* id = Member(*trace, "trace_id");
      if (id != nullptr && id->IsString()) {
        std::string hex;
        if (internal::ParseUuid(
                std::string_view(id->GetString(), id->GetStringLength()),
                &hex)) {
          c.trace_id = hex;
        }
      }
    }
  }
  if (const rapidjson::Value* config = Member(doc, "monitor_config")) {
    MonitorConfig mc;
    s = internal::ParseMonitorConfig(*config, "monitor_config", &mc);
    if (!s.ok()) return s;
    c.monitor_config = std::move(mc);
  }
  *out = std::move(c);
  return Status::Ok();
}

// Percent-decoding of a path segment (plus_is_space false) or a query part.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char ch = in[i];
    if (ch == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex(in[i + 1]);
      const int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(ch);
    }
  }
  return true;
}

}  // namespace

const char* CheckInStatusName(CheckInStatus status) {
  return util::NameOf(kCheckInStatuses, status, "ok");
}

int64_t MonitorConfig::margin_seconds() const {
  int64_t minutes = checkin_margin_minutes.value_or(1);
  return std::max<int64_t>(minutes, 1) * 60;
}

int64_t MonitorConfig::max_runtime_seconds() const {
  return std::max<int64_t>(max_runtime_minutes.value_or(30), 1) * 60;
}

int64_t MonitorConfig::failure_threshold() const {
  return std::max<int64_t>(failure_issue_threshold.value_or(1), 1);
}

int64_t MonitorConfig::recovery_threshold_or_default() const {
  return std::max<int64_t>(recovery_threshold.value_or(1), 1);
}

namespace internal {

bool BuildSchedule(const MonitorConfig& config, int64_t anchor,
                   monitors::Schedule* out, std::string* error) {
  if (config.schedule.type == ScheduleConfig::Type::kCrontab) {
    return monitors::Schedule::ParseCrontab(config.schedule.crontab,
                                            config.timezone, out, error);
  }
  monitors::IntervalUnit unit;
  if (!monitors::ParseIntervalUnit(config.schedule.interval_unit, &unit)) {
    *error = "schedule unit " + Quote(config.schedule.interval_unit) +
             " is not minute, hour, day, week, month or year";
    return false;
  }
  return monitors::Schedule::MakeInterval(config.schedule.interval_value, unit,
                                          anchor, config.timezone, out, error);
}

Status ParseMonitorConfig(const rapidjson::Value& v, std::string_view path,
                          MonitorConfig* out) {
  const std::string p(path);
  if (!v.IsObject())
    return Status::Invalid("field " + p + ": expected an object");
  MonitorConfig mc;
  const rapidjson::Value* schedule = Member(v, "schedule");
  if (schedule == nullptr) {
    return Status::Invalid("field " + p + ".schedule is required");
  }
  // The object form {"type": ..., "value": ..., "unit": ...}, and Sentry's
  // older form: schedule_type + a crontab string or [value, unit].
  std::string type;
  const rapidjson::Value* value = nullptr;
  const rapidjson::Value* unit = nullptr;
  if (schedule->IsObject()) {
    Status s =
        GetString(Member(*schedule, "type"), p + ".schedule.type", 32, &type);
    if (!s.ok()) return s;
    value = Member(*schedule, "value");
    unit = Member(*schedule, "unit");
  } else {
    Status s =
        GetString(Member(v, "schedule_type"), p + ".schedule_type", 32, &type);
    if (!s.ok()) return s;
    if (schedule->IsArray()) {
      if (type.empty()) type = "interval";
      if (schedule->Size() == 2) {
        value = &(*schedule)[0];
        unit = &(*schedule)[1];
      }
    } else {
      if (type.empty()) type = "crontab";
      value = schedule;
    }
  }
  if (type == "crontab") {
    mc.schedule.type = ScheduleConfig::Type::kCrontab;
    if (value == nullptr || !value->IsString()) {
      return Status::Invalid("field " + p +
                             ".schedule.value: expected a crontab string");
    }
    std::string_view text(value->GetString(), value->GetStringLength());
    if (text.size() > kMaxCrontabBytes) {
      return Status::Invalid("field " + p + ".schedule.value is longer than " +
                             std::to_string(kMaxCrontabBytes) + " bytes");
    }
    // Sentry collapses runs of blanks.
    std::string collapsed;
    for (char ch : util::Trim(text)) {
      const bool blank = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
                         ch == '\f' || ch == '\v';
      if (blank) {
        if (!collapsed.empty() && collapsed.back() != ' ') collapsed += ' ';
      } else {
        collapsed += ch;
      }
    }
    mc.schedule.crontab = collapsed;
  } else if (type == "interval") {
    mc.schedule.type = ScheduleConfig::Type::kInterval;
    std::optional<int64_t> n;
    Status s = GetLenientInt(value, p + ".schedule.value", 1, 1000000000, &n);
    if (!s.ok()) return s;
    if (!n) {
      return Status::Invalid("field " + p +
                             ".schedule.value is required (an integer)");
    }
    mc.schedule.interval_value = *n;
    if (unit == nullptr || !unit->IsString()) {
      return Status::Invalid("field " + p +
                             ".schedule.unit: expected minute, hour, day, "
                             "week, month or year");
    }
    monitors::IntervalUnit u;
    std::string_view name(unit->GetString(), unit->GetStringLength());
    if (!monitors::ParseIntervalUnit(name, &u)) {
      return Status::Invalid("field " + p + ".schedule.unit: " + Quote(name) +
                             " is not minute, hour, day, week, month or year");
    }
    mc.schedule.interval_unit = monitors::IntervalUnitName(u);
  } else {
    return Status::Invalid("field " + p + ".schedule.type: " + Quote(type) +
                           " is not crontab or interval");
  }
  Status s =
      GetLenientInt(Member(v, "checkin_margin"), p + ".checkin_margin", 0,
                    kMaxCheckinMarginMinutes, &mc.checkin_margin_minutes);
  if (!s.ok()) return s;
  // Sentry turns a margin of 0 into 1.
  if (mc.checkin_margin_minutes && *mc.checkin_margin_minutes == 0) {
    mc.checkin_margin_minutes = 1;
  }
  s = GetLenientInt(Member(v, "max_runtime"), p + ".max_runtime", 1,
                    kMaxMaxRuntimeMinutes, &mc.max_runtime_minutes);
  if (!s.ok()) return s;
  s = GetLenientInt(Member(v, "failure_issue_threshold"),
                    p + ".failure_issue_threshold", 1, kMaxThreshold,
                    &mc.failure_issue_threshold);
  if (!s.ok()) return s;
  s = GetLenientInt(Member(v, "recovery_threshold"), p + ".recovery_threshold",
                    1, kMaxThreshold, &mc.recovery_threshold);
  if (!s.ok()) return s;
  s = GetString(Member(v, "timezone"), p + ".timezone", 128, &mc.timezone);
  if (!s.ok()) return s;
  std::string error;
  if (!mc.timezone.empty() &&
      !monitors::ValidateTimeZone(mc.timezone, &error)) {
    return Status::Invalid("field " + p + ".timezone: " + error);
  }
  monitors::Schedule built;
  if (!BuildSchedule(mc, kValidationAnchor, &built, &error)) {
    return Status::Invalid("field " + p + ".schedule: " + error);
  }
  *out = std::move(mc);
  return Status::Ok();
}

}  // namespace internal

Status NormalizeMonitorSlug(std::string_view slug, std::string* out,
                            bool* changed) {
  if (slug.size() > 1024) {
    return Status::Invalid("field monitor_slug is longer than 1024 bytes");
  }
  const bool valid = !slug.empty() && slug.size() <= kMaxMonitorSlugBytes &&
                     slug.front() != '-' && slug.back() != '-' &&
                     std::all_of(slug.begin(), slug.end(), IsSlugChar);
  if (valid) {
    out->assign(slug);
    if (changed != nullptr) *changed = false;
    return Status::Ok();
  }
  std::string s;
  bool pending_dash = false;
  for (char ch : slug) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u >= 0x80) {
      return Status::Invalid("field monitor_slug " + Quote(slug) +
                             ": only ASCII letters, digits, '-' and '_' "
                             "make a slug");
    }
    char c = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
        c == '\f' || c == '\v') {
      pending_dash = true;
      continue;
    }
    if (!IsSlugChar(c)) continue;  // removed, as Django's slugify does
    if (pending_dash) s += '-';
    pending_dash = false;
    s += c;
  }
  if (s.size() > kMaxMonitorSlugBytes) s.resize(kMaxMonitorSlugBytes);
  while (!s.empty() && s.front() == '-') s.erase(s.begin());
  while (!s.empty() && s.back() == '-') s.pop_back();
  if (s.empty()) {
    return Status::Invalid("field monitor_slug " + Quote(slug) +
                           " has no letter, digit or '_'");
  }
  *out = std::move(s);
  if (changed != nullptr) *changed = true;
  return Status::Ok();
}

Status ParseCheckIn(std::string_view json, CheckIn* out) {
  rapidjson::Document doc;
  Status s = internal::ParseObject(json, kMaxCheckInPayloadBytes,
                                   "check-in payload", &doc);
  if (!s.ok()) return s;
  return ParseCheckInDoc(doc, nullptr, out);
}

Status ParseCronRequest(std::string_view path, std::string_view query,
                        std::string_view content_type, std::string_view body,
                        CronRequest* out) {
  if (path.size() > 2048 || query.size() > 8192) {
    return Status::Invalid("cron check-in URL is too long");
  }
  if (!util::StartsWith(path, "/api/")) {
    return Status::Invalid("cron check-in path must start with /api/");
  }
  path.remove_prefix(5);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> segments;
  while (segments.size() < 5) {
    const size_t slash = path.find('/');
    std::string decoded;
    if (!PercentDecode(path.substr(0, slash), false, &decoded)) {
      return Status::Invalid("cron check-in path has a bad %-escape");
    }
    segments.push_back(std::move(decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (segments.size() < 3 || segments.size() > 4 || segments[1] != "cron") {
    return Status::Invalid(
        "cron check-in path must be /api/{project_id}/cron/{monitor_slug}/"
        "[{sentry_key}/]");
  }
  CronRequest r;
  if (!util::ParseInt64(segments[0], 1, INT64_MAX, &r.project_id)) {
    return Status::Invalid("cron check-in path: project id " +
                           Quote(segments[0]) + " is not a positive integer");
  }
  std::string slug;
  Status s = NormalizeMonitorSlug(segments[2], &slug, &r.check_in.slug_changed);
  if (!s.ok()) return s;
  if (segments.size() == 4) {
    const std::string& key = segments[3];
    const bool ok_key = !key.empty() && key.size() <= 64 &&
                        std::all_of(key.begin(), key.end(), [](char c) {
                          return (c >= '0' && c <= '9') ||
                                 (c >= 'a' && c <= 'z') ||
                                 (c >= 'A' && c <= 'Z');
                        });
    if (!ok_key) {
      return Status::Invalid("cron check-in path: " + Quote(key) +
                             " is not a sentry key");
    }
    r.sentry_key = key;
  }
  const bool slug_changed = r.check_in.slug_changed;
  std::string type = util::ToLower(util::Trim(content_type));
  if (util::StartsWith(type, "application/json")) {
    rapidjson::Document doc;
    s = internal::ParseObject(body, kMaxCheckInPayloadBytes, "check-in body",
                              &doc);
    if (!s.ok()) return s;
    s = ParseCheckInDoc(doc, &slug, &r.check_in);
    if (!s.ok()) return s;
    r.check_in.slug_changed = slug_changed;
    *out = std::move(r);
    return Status::Ok();
  }
  // Query form.
  std::optional<std::string> status, check_in_id, environment, duration;
  size_t params = 0;
  while (!query.empty()) {
    if (++params > 64) {
      return Status::Invalid("cron check-in query has more than 64 parameters");
    }
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view()
                                                    : pair.substr(eq + 1),
                       true, &value)) {
      return Status::Invalid("cron check-in query has a bad %-escape");
    }
    std::optional<std::string>* slot = nullptr;
    if (name == "status") slot = &status;
    if (name == "check_in_id") slot = &check_in_id;
    if (name == "environment") slot = &environment;
    if (name == "duration") slot = &duration;
    if (slot == nullptr) continue;  // sentry_key and others
    if (*slot) {
      return Status::Invalid("cron check-in query gives " + name + " twice");
    }
    *slot = std::move(value);
  }
  CheckIn& c = r.check_in;
  c.monitor_slug = slug;
  if (!status) {
    return Status::Invalid(
        "cron check-in query parameter status is required (in_progress, ok "
        "or error)");
  }
  s = ParseStatus(*status, &c.status);
  if (!s.ok()) return s;
  s = SetCheckInId(check_in_id.value_or(""), &c);
  if (!s.ok()) return s;
  s = SetEnvironment(environment.value_or(""), &c);
  if (!s.ok()) return s;
  if (duration && !duration->empty()) {
    const std::string& text = *duration;
    char* end = nullptr;
    const double d = text.size() <= 32 ? std::strtod(text.c_str(), &end) : 0;
    if (end == nullptr || end != text.c_str() + text.size()) {
      return Status::Invalid("field duration: " + Quote(text) +
                             " is not a number (seconds)");
    }
    s = ValidateDuration(d, &c);
    if (!s.ok()) return s;
  }
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace crashctl::releases
