// Parsing of `session` and `sessions` items, the aggregate counts, the
// distinct-id hash and the crash-free arithmetic. The tracker is in
// session_tracker.cc.
#include "crashctl/releases/sessions.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "crashctl/util/enum_names.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "json_util.h"

namespace crashctl::releases {
namespace {

using internal::GetNumber;
using internal::GetString;
using internal::GetUint;
using internal::Member;
using internal::Quote;

constexpr util::EnumName<SessionStatus> kSessionStatuses[] = {
    {SessionStatus::kOk, "ok"},
    {SessionStatus::kExited, "exited"},
    {SessionStatus::kCrashed, "crashed"},
    {SessionStatus::kAbnormal, "abnormal"},
    {SessionStatus::kErrored, "errored"},
};
static_assert(util::InEnumOrder(kSessionStatuses),
              "kSessionStatuses follows enum SessionStatus");

// Newer SDKs also send "unhandled": an unhandled error that did not crash
// the app. Sentry counts these among the errored sessions.
constexpr const char* kUnhandledStatus = "unhandled";

constexpr util::EnumName<CountedStatus> kCountedStatuses[] = {
    {CountedStatus::kExited, "exited"},
    {CountedStatus::kErrored, "errored"},
    {CountedStatus::kCrashed, "crashed"},
    {CountedStatus::kAbnormal, "abnormal"},
};
static_assert(util::InEnumOrder(kCountedStatuses),
              "kCountedStatuses follows enum CountedStatus");

// The clock correction of ParseOptions: 0 unless sent_at is off by at least
// kMinClockDriftSeconds.
double Drift(const ParseOptions& options) {
  if (!options.sent_at || !std::isfinite(*options.sent_at)) return 0;
  const double drift = options.now - *options.sent_at;
  return std::fabs(drift) >= kMinClockDriftSeconds ? drift : 0;
}

// Relay's is_valid_session_timestamp.
Status CheckTime(double t, const char* field, const ParseOptions& options) {
  if (options.now - t > static_cast<double>(options.max_age_seconds)) {
    return Status::Invalid(
        std::string("field ") + field + ": " + util::FormatRfc3339Millis(t) +
        " is more than " + std::to_string(options.max_age_seconds / 3600) +
        " hours before the time received (Relay refuses sessions older than "
        "5 days)");
  }
  if (t - options.now > static_cast<double>(kMaxFutureSeconds)) {
    return Status::Invalid(std::string("field ") + field + ": " +
                           util::FormatRfc3339Millis(t) +
                           " is more than 60 s after the time received");
  }
  return Status::Ok();
}

Status ParseTime(const rapidjson::Value* v, const char* field, double* out) {
  if (v == nullptr) {
    return Status::Invalid(std::string("field ") + field + " is required");
  }
  if (!internal::ParseTimeValue(*v, out)) {
    return Status::Invalid(std::string("field ") + field +
                           ": expected an RFC 3339 time or epoch seconds");
  }
  return Status::Ok();
}

// `did`: a string, or a number (some SDKs send numeric user ids).
Status ParseDistinctId(const rapidjson::Value* v, std::string_view path,
                       std::string* out) {
  if (v == nullptr) return Status::Ok();
  if (v->IsString()) return GetString(v, path, kMaxDistinctIdBytes, out);
  if (v->IsInt64()) {
    *out = std::to_string(v->GetInt64());
    return Status::Ok();
  }
  if (v->IsUint64()) {
    *out = std::to_string(v->GetUint64());
    return Status::Ok();
  }
  return Status::Invalid("field " + std::string(path) + ": expected a string");
}

Status ParseAttributes(const rapidjson::Value& root, SessionAttributes* out) {
  const rapidjson::Value* attrs = Member(root, "attrs");
  if (attrs == nullptr) {
    return Status::Invalid(
        "field attrs is required (with attrs.release: Sentry drops sessions "
        "without a release)");
  }
  if (!attrs->IsObject()) {
    return Status::Invalid("field attrs: expected an object");
  }
  const rapidjson::Value* release = Member(*attrs, "release");
  if (release == nullptr) {
    return Status::Invalid(
        "field attrs.release is required (Sentry drops sessions without a "
        "release)");
  }
  if (!release->IsString()) {
    return Status::Invalid("field attrs.release: expected a string");
  }
  std::string_view text(release->GetString(), release->GetStringLength());
  const std::string problem = internal::ReleaseProblem(text);
  if (!problem.empty()) {
    return Status::Invalid("field attrs.release " + Quote(text) + " " +
                           problem);
  }
  out->release.assign(text);
  // An invalid environment is dropped, as Relay does, not refused.
  const rapidjson::Value* env = Member(*attrs, "environment");
  if (env != nullptr) {
    if (!env->IsString()) {
      return Status::Invalid("field attrs.environment: expected a string");
    }
    std::string_view e(env->GetString(), env->GetStringLength());
    if (internal::EnvironmentProblem(e).empty()) out->environment.assign(e);
  }
  Status s = GetString(Member(*attrs, "ip_address"), "attrs.ip_address",
                       kMaxIpAddressBytes, &out->ip_address);
  if (!s.ok()) return s;
  return GetString(Member(*attrs, "user_agent"), "attrs.user_agent",
                   kMaxUserAgentBytes, &out->user_agent);
}

}  // namespace

const char* SessionStatusName(SessionStatus status) {
  return util::NameOf(kSessionStatuses, status, "ok");
}

const char* CountedStatusName(CountedStatus status) {
  return util::NameOf(kCountedStatuses, status, "exited");
}

Status ParseSessionUpdate(std::string_view json, const ParseOptions& options,
                          SessionUpdate* out) {
  rapidjson::Document doc;
  Status s = internal::ParseObject(json, kMaxSessionPayloadBytes,
                                   "session payload", &doc);
  if (!s.ok()) return s;
  SessionUpdate u;

  if (const rapidjson::Value* sid = Member(doc, "sid")) {
    if (!sid->IsString() ||
        !internal::ParseUuid(
            std::string_view(sid->GetString(), sid->GetStringLength()),
            &u.sid)) {
      return Status::Invalid("field sid: expected a UUID");
    }
  }
  s = ParseDistinctId(Member(doc, "did"), "did", &u.distinct_id);
  if (!s.ok()) return s;
  if (const rapidjson::Value* seq = Member(doc, "seq")) {
    uint64_t value = 0;
    // Relay drops sessions whose seq is u64::MAX (an overflowed clock).
    s = GetUint(seq, "seq", std::numeric_limits<uint64_t>::max() - 1, &value);
    if (!s.ok()) return s;
    u.seq = value;
  }
  if (const rapidjson::Value* init = Member(doc, "init")) {
    if (!init->IsBool()) return Status::Invalid("field init: expected a bool");
    u.init = init->GetBool();
  }
  s = ParseTime(Member(doc, "started"), "started", &u.started);
  if (!s.ok()) return s;
  bool timestamp_sent = false;
  if (const rapidjson::Value* ts = Member(doc, "timestamp")) {
    s = ParseTime(ts, "timestamp", &u.timestamp);
    if (!s.ok()) return s;
    timestamp_sent = true;
  }
  if (const rapidjson::Value* d = Member(doc, "duration")) {
    double duration = 0;
    s = GetNumber(d, "duration", &duration);
    if (!s.ok()) return s;
    if (duration >= 0) u.duration = duration;
  }
  if (const rapidjson::Value* st = Member(doc, "status")) {
    if (!st->IsString()) {
      return Status::Invalid("field status: expected a string");
    }
    std::string_view name(st->GetString(), st->GetStringLength());
    bool known = util::ParseName(kSessionStatuses, name, &u.status);
    if (!known && name == kUnhandledStatus) {
      u.status = SessionStatus::kErrored;
      known = true;
    }
    if (!known) {
      return Status::Invalid(
          "field status: unknown session status " + Quote(name) +
          " (ok, exited, crashed, abnormal, errored, unhandled)");
    }
  }
  s = GetUint(Member(doc, "errors"), "errors",
              std::numeric_limits<uint64_t>::max(), &u.errors);
  if (!s.ok()) return s;
  // The crash itself is an error (Sentry: "ingest should force errors to 1").
  if (u.status == SessionStatus::kCrashed && u.errors == 0) u.errors = 1;
  s = ParseAttributes(doc, &u.attrs);
  if (!s.ok()) return s;

  const double drift = Drift(options);
  u.started += drift;
  if (timestamp_sent) {
    u.timestamp += drift;
  } else {
    u.timestamp = options.now;
  }
  if (u.timestamp < u.started) u.timestamp = u.started;
  s = CheckTime(u.timestamp, "timestamp", options);
  if (!s.ok()) return s;
  s = CheckTime(u.started, "started", options);
  if (!s.ok()) return s;
  *out = std::move(u);
  return Status::Ok();
}

Status ParseSessionAggregates(std::string_view json,
                              const ParseOptions& options,
                              SessionAggregates* out) {
  rapidjson::Document doc;
  Status s = internal::ParseObject(json, kMaxSessionPayloadBytes,
                                   "sessions payload", &doc);
  if (!s.ok()) return s;
  SessionAggregates result;
  const rapidjson::Value* list = Member(doc, "aggregates");
  if (list == nullptr) {
    return Status::Invalid("field aggregates is required");
  }
  if (!list->IsArray()) {
    return Status::Invalid("field aggregates: expected an array");
  }
  if (list->Size() > kMaxAggregates) {
    return Status::TooLarge(
        "field aggregates has " + std::to_string(list->Size()) +
        " entries, more than " + std::to_string(kMaxAggregates));
  }
  if (list->Empty()) return Status::Invalid("field aggregates is empty");
  s = ParseAttributes(doc, &result.attrs);
  if (!s.ok()) return s;
  const double drift = Drift(options);
  result.aggregates.reserve(list->Size());
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const std::string path = "aggregates[" + std::to_string(i) + "]";
    const rapidjson::Value& item = (*list)[i];
    if (!item.IsObject()) {
      return Status::Invalid("field " + path + ": expected an object");
    }
    SessionAggregate a;
    s = ParseTime(Member(item, "started"), (path + ".started").c_str(),
                  &a.started);
    if (!s.ok()) return s;
    s = ParseDistinctId(Member(item, "did"), path + ".did", &a.distinct_id);
    if (!s.ok()) return s;
    uint64_t counts[5] = {0, 0, 0, 0, 0};
    const char* names[5] = {"exited", "errored", "abnormal", "crashed",
                            "unhandled"};
    for (int k = 0; k < 5; ++k) {
      s = GetUint(Member(item, names[k]), path + "." + names[k],
                  std::numeric_limits<uint32_t>::max(), &counts[k]);
      if (!s.ok()) return s;
    }
    a.exited = static_cast<uint32_t>(counts[0]);
    a.errored = static_cast<uint32_t>(std::min<uint64_t>(
        counts[1] + counts[4], std::numeric_limits<uint32_t>::max()));
    a.abnormal = static_cast<uint32_t>(counts[2]);
    a.crashed = static_cast<uint32_t>(counts[3]);
    a.started += drift;
    if (!CheckTime(a.started, "started", options).ok()) {
      ++result.dropped_out_of_range;
      continue;
    }
    result.aggregates.push_back(std::move(a));
  }
  if (result.aggregates.empty()) {
    return Status::Invalid(
        "every entry of aggregates started more than 5 days before, or more "
        "than 60 s after, the time received");
  }
  *out = std::move(result);
  return Status::Ok();
}

std::string HashDistinctId(std::string_view distinct_id) {
  if (distinct_id.empty()) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(distinct_id.data(), distinct_id.size(), digest, &length,
                 EVP_sha256(), nullptr) != 1 ||
      length < 16) {
    // Cannot happen with a working libcrypto; keep ids distinct anyway
    // without keeping them readable: FNV-1a, twice.
    uint64_t h1 = 1469598103934665603ull, h2 = 1099511628211ull;
    for (unsigned char c : distinct_id) {
      h1 = (h1 ^ c) * 1099511628211ull;
      h2 = (h2 ^ c) * 1469598103934665603ull;
    }
    for (int i = 0; i < 8; ++i) {
      digest[i] = static_cast<unsigned char>(h1 >> (8 * i));
      digest[8 + i] = static_cast<unsigned char>(h2 >> (8 * i));
    }
  }
  return util::HexEncode(digest, 16);
}

std::vector<SessionCount> CountAggregates(int64_t project_id,
                                          const SessionAggregates& aggregates) {
  std::vector<SessionCount> counts;
  for (const SessionAggregate& a : aggregates.aggregates) {
    const std::string did_hash = HashDistinctId(a.distinct_id);
    const std::pair<uint32_t, CountedStatus> parts[] = {
        {a.exited, CountedStatus::kExited},
        {a.errored, CountedStatus::kErrored},
        {a.abnormal, CountedStatus::kAbnormal},
        {a.crashed, CountedStatus::kCrashed},
    };
    for (const auto& [quantity, status] : parts) {
      if (quantity == 0) continue;
      SessionCount c;
      c.project_id = project_id;
      c.release = aggregates.attrs.release;
      c.environment = aggregates.attrs.environment;
      c.status = status;
      c.distinct_id_hash = did_hash;
      c.started = a.started;
      c.quantity = quantity;
      c.reason = SessionCount::Reason::kAggregate;
      counts.push_back(std::move(c));
    }
  }
  return counts;
}

ReleaseHealth ComputeReleaseHealth(const ReleaseHealthCounts& counts) {
  ReleaseHealth h;
  auto add = [](uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b
               ? std::numeric_limits<uint64_t>::max()
               : a + b;
  };
  h.sessions = add(add(counts.exited, counts.errored),
                   add(counts.crashed, counts.abnormal));
  if (h.sessions > 0) {
    const double total = static_cast<double>(h.sessions);
    const double crashed =
        static_cast<double>(std::min(counts.crashed, h.sessions));
    h.crash_free_sessions_percent = 100.0 * (1.0 - crashed / total);
    h.healthy_sessions_percent =
        100.0 * static_cast<double>(std::min(counts.exited, h.sessions)) /
        total;
  }
  if (counts.users > 0) {
    const double users = static_cast<double>(counts.users);
    const double crashed =
        static_cast<double>(std::min(counts.crashed_users, counts.users));
    h.crash_free_users_percent = 100.0 * (1.0 - crashed / users);
  }
  return h;
}

}  // namespace crashctl::releases
