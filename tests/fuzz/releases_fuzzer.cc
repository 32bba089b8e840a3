// libFuzzer target: the three envelope item parsers of crashctl_releases
// (releases/include/crashctl/releases/) and what consumes their output.
// The first input byte chooses the parser (mod 5), the rest is the payload:
//   0 `session`       ParseSessionUpdate -> SessionTracker (small bounds),
//                     Expire, Export/Import
//   1 `sessions`      ParseSessionAggregates -> CountAggregates
//   2 `client_report` ParseClientReport
//   3 `check_in`      ParseCheckIn -> ApplyCheckIn, TickMonitor, state JSON
//   4 the HTTP form   ParseCronRequest; the payload's lines are path, query,
//                     content type, body
// `now` is 2026-12-01T23:58:40Z (the seeds' time: tests/releases/testdata).
// Checks: a failure has a message; parsed values keep their documented
// bounds (32-hex ids, slug alphabet and length, label values from the closed
// sets); the tracker never exceeds its bounds and counts each session at
// most once; a monitor state survives its JSON round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/releases/check_in.h"
#include "crashctl/releases/client_report.h"
#include "crashctl/releases/sessions.h"

namespace {

using namespace crashctl::releases;  // NOLINT

constexpr double kNow = 1796169520.0;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsLowerHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void CheckFailure(const crashctl::Status& s) {
  Check(!s.message().empty());
  Check(s.IsInvalid() || s.code() == crashctl::Status::Code::kTooLarge);
}

void CheckCheckIn(const CheckIn& c) {
  Check(IsLowerHex32(c.check_in_id));
  Check(!c.monitor_slug.empty() &&
        c.monitor_slug.size() <= kMaxMonitorSlugBytes);
  for (char ch : c.monitor_slug) {
    Check((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '_');
  }
  Check(!c.environment.empty() &&
        c.environment.size() <= kMaxCheckInEnvironmentBytes);
  if (c.duration_seconds) {
    Check(*c.duration_seconds >= 0 &&
          *c.duration_seconds <= kMaxCheckInDurationSeconds);
  }
}

void CheckTransition(const MonitorTransition& t) {
  Check(t.state.open_runs.size() <= kMaxOpenRuns);
  Check(t.state.finished_ids.size() <= kMaxFinishedIds);
  for (const auto& r : t.records) {
    Check(r.status == "in_progress" || r.status == "ok" ||
          r.status == "error" || r.status == "missed" || r.status == "timeout");
    if (r.kind == CheckInRecord::Kind::kMissed) Check(r.missed_count >= 1);
  }
  const std::string json = MonitorStateToJson(t.state);
  MonitorState back;
  Check(MonitorStateFromJson(json, &back).ok());
  Check(MonitorStateToJson(back) == json);
}

void FuzzCheckIn(const CheckIn& c) {
  CheckCheckIn(c);
  MonitorState st;
  for (int64_t now : {int64_t{1796169520}, int64_t{1796169520} + 7200}) {
    MonitorTransition t = ApplyCheckIn(st, c, now);
    CheckTransition(t);
    st = t.state;
  }
  MonitorTransition tick = TickMonitor(st, 1796169520 + 400 * 86400);
  CheckTransition(tick);
  // Replaying the same tick reports nothing new.
  MonitorTransition again = TickMonitor(tick.state, 1796169520 + 400 * 86400);
  Check(again.records.empty());
  (void)NextMonitorDeadline(tick.state);
}

std::vector<std::string_view> Lines(std::string_view text, size_t n) {
  std::vector<std::string_view> lines;
  while (lines.size() + 1 < n) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  lines.push_back(text);
  while (lines.size() < n) lines.emplace_back();
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 5;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  ParseOptions options;
  options.now = kNow;
  switch (which) {
    case 0: {
      SessionUpdate u;
      crashctl::Status s = ParseSessionUpdate(payload, options, &u);
      if (!s.ok()) {
        CheckFailure(s);
        break;
      }
      Check(u.sid.empty() || IsLowerHex32(u.sid));
      Check(!u.attrs.release.empty() && u.attrs.release.size() <= 200);
      Check(u.distinct_id.size() <= kMaxDistinctIdBytes);
      Check(u.timestamp >= u.started);
      TrackerOptions to;
      to.max_open = 2;
      to.max_closed = 2;
      SessionTracker tracker(to);
      std::vector<SessionCount> counts;
      // The update, the same again, and an end: one sid counts at most once
      // (a sid-less update counts each time).
      tracker.Apply(1, u, kNow, &counts);
      tracker.Apply(1, u, kNow + 1, &counts);
      SessionUpdate end = u;
      end.status = SessionStatus::kExited;
      tracker.Apply(1, end, kNow + 2, &counts);
      Check(u.sid.empty() ? counts.size() == 3 : counts.size() == 1);
      tracker.Apply(2, u, kNow + 3, &counts);
      tracker.Expire(kNow + 10 * 86400, &counts);
      Check(tracker.open_count() <= 2 && tracker.closed_count() <= 2);
      for (const auto& c : counts) {
        const std::string name = CountedStatusName(c.status);
        Check(name == "exited" || name == "errored" || name == "crashed" ||
              name == "abnormal");
        Check(c.distinct_id_hash.empty() || IsLowerHex32(c.distinct_id_hash));
      }
      SessionTracker copy(to);
      SessionTracker::ImportResult r = copy.Import(tracker.Export(), kNow);
      Check(r.skipped_invalid == 0);
      break;
    }
    case 1: {
      SessionAggregates a;
      crashctl::Status s = ParseSessionAggregates(payload, options, &a);
      if (!s.ok()) {
        CheckFailure(s);
        break;
      }
      Check(!a.aggregates.empty() && a.aggregates.size() <= kMaxAggregates);
      for (const auto& c : CountAggregates(1, a)) Check(c.quantity > 0);
      break;
    }
    case 2: {
      ClientReport r;
      crashctl::Status s = ParseClientReport(payload, &r);
      if (!s.ok()) {
        CheckFailure(s);
        break;
      }
      for (const auto& row : r.rows) {
        Check(row.quantity > 0);
        Check(FoldDataCategory(row.category) == row.category);
        Check(FoldDiscardReason(row.reason) == row.reason ||
              row.reason == "rate_limited" || row.reason == "filtered" ||
              row.reason == "filtered_sampling");
      }
      break;
    }
    case 3: {
      CheckIn c;
      crashctl::Status s = ParseCheckIn(payload, &c);
      if (!s.ok()) {
        CheckFailure(s);
        break;
      }
      FuzzCheckIn(c);
      break;
    }
    case 4: {
      const std::vector<std::string_view> l = Lines(payload, 4);
      CronRequest r;
      crashctl::Status s = ParseCronRequest(l[0], l[1], l[2], l[3], &r);
      if (!s.ok()) {
        CheckFailure(s);
        break;
      }
      Check(r.project_id > 0);
      FuzzCheckIn(r.check_in);
      break;
    }
  }
  return 0;
}
