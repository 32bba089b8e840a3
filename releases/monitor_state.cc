// The monitor state machine (ApplyCheckIn, TickMonitor) on top of
// crashctl::monitors, and the state's JSON form.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <limits>
#include <string>

#include "check_in_private.h"
#include "crashctl/releases/check_in.h"
#include "crashctl/util/strings.h"
#include "json_util.h"
#include "crashctl/monitors/missed_runs.h"
#include "crashctl/monitors/schedule.h"

namespace crashctl::releases {
namespace {

using internal::Member;

int64_t TruncateToMinute(int64_t t) {
  int64_t m = t / 60;
  if (t < 0 && t % 60 != 0) --m;
  return m * 60;
}

// The schedule the state runs on; false when there is none (no config, an
// interval without anchor yet, or a config that no longer builds).
bool ScheduleOf(const MonitorState& st, monitors::Schedule* out) {
  if (!st.config) return false;
  if (st.config->schedule.type == ScheduleConfig::Type::kInterval &&
      st.schedule_anchor == 0) {
    return false;
  }
  std::string error;
  return internal::BuildSchedule(*st.config, st.schedule_anchor, out, &error);
}

void Failure(MonitorState* st, const char* reason, int64_t count, int64_t at,
             MonitorTransition* out) {
  st->consecutive_successes = 0;
  st->consecutive_failures =
      std::min<int64_t>(st->consecutive_failures + count, 1 << 30);
  const int64_t threshold = st->config ? st->config->failure_threshold() : 1;
  if (!st->incident_open && st->consecutive_failures >= threshold) {
    st->incident_open = true;
    st->incident_started = at;
    out->alerts.push_back(MonitorAlert{MonitorAlert::Kind::kRaise, reason, at,
                                       st->consecutive_failures});
  }
}

void Success(MonitorState* st, int64_t at, MonitorTransition* out) {
  st->consecutive_failures = 0;
  st->consecutive_successes =
      std::min<int64_t>(st->consecutive_successes + 1, 1 << 30);
  const int64_t threshold =
      st->config ? st->config->recovery_threshold_or_default() : 1;
  if (st->incident_open && st->consecutive_successes >= threshold) {
    st->incident_open = false;
    st->incident_started = 0;
    out->alerts.push_back(MonitorAlert{MonitorAlert::Kind::kResolve, "ok", at,
                                       st->consecutive_successes});
  }
}

void RememberFinished(MonitorState* st, const std::string& id) {
  if (id == kNilCheckInId) return;
  st->finished_ids.push_back(id);
  if (st->finished_ids.size() > kMaxFinishedIds) {
    st->finished_ids.erase(st->finished_ids.begin(),
                           st->finished_ids.end() - kMaxFinishedIds);
  }
}

bool Finished(const MonitorState& st, const std::string& id) {
  return id != kNilCheckInId &&
         std::find(st.finished_ids.begin(), st.finished_ids.end(), id) !=
             st.finished_ids.end();
}

void TimeOut(MonitorState* st, size_t index, int64_t now,
             MonitorTransition* out) {
  const OpenRun run = st->open_runs[index];
  st->open_runs.erase(st->open_runs.begin() + index);
  CheckInRecord r;
  r.kind = CheckInRecord::Kind::kTimeout;
  r.status = "timeout";
  r.check_in_id = run.check_in_id;
  r.run_started = run.started;
  r.received = now;
  out->records.push_back(std::move(r));
  RememberFinished(st, run.check_in_id);
  const monitors::InProgressRun ipr{run.started, run.max_runtime_seconds,
                                    false};
  Failure(st, "timeout", 1, std::min(now, monitors::TimeoutDeadline(ipr) + 1),
          out);
}

void Timeouts(MonitorState* st, int64_t now, MonitorTransition* out) {
  for (size_t i = 0; i < st->open_runs.size();) {
    const OpenRun& run = st->open_runs[i];
    if (monitors::ShouldReportTimeout(
            monitors::InProgressRun{run.started, run.max_runtime_seconds,
                                    false},
            now)) {
      TimeOut(st, i, now, out);
    } else {
      ++i;
    }
  }
}

void Missed(MonitorState* st, int64_t now, MonitorTransition* out) {
  if (!st->next_expected) return;
  monitors::Schedule schedule;
  if (!ScheduleOf(*st, &schedule)) return;
  const monitors::MissedRunsResult r = monitors::FindMissedRuns(
      schedule, st->config->margin_seconds(), *st->next_expected, now);
  for (const monitors::MissedRun& m : r.missed) {
    CheckInRecord rec;
    rec.kind = CheckInRecord::Kind::kMissed;
    rec.status = "missed";
    rec.run_started = m.scheduled;
    rec.last_scheduled = m.last_scheduled;
    rec.missed_count = m.count;
    rec.missed_count_is_lower_bound = m.count_is_lower_bound;
    rec.received = now;
    out->records.push_back(rec);
    Failure(st, "missed", m.count,
            std::min(now, monitors::MissedDeadline(
                              m.last_scheduled, st->config->margin_seconds()) +
                              1),
            out);
  }
  out->missed_total += r.missed_total;
  st->next_expected = r.next_expected;
}

// A run started at run_start: move next_expected as Sentry does.
void RunStarted(MonitorState* st, int64_t run_start) {
  if (!st->config) return;
  if (st->config->schedule.type == ScheduleConfig::Type::kInterval) {
    // Intervals count from the latest run, truncated to the minute.
    const int64_t anchor = TruncateToMinute(run_start);
    if (st->schedule_anchor != 0 && anchor <= st->schedule_anchor) return;
    monitors::Schedule schedule;
    std::string error;
    if (!internal::BuildSchedule(*st->config, anchor, &schedule, &error)) {
      return;
    }
    st->schedule_anchor = anchor;
    const std::optional<int64_t> next = schedule.NextAfter(anchor);
    if (!next) {
      st->next_expected.reset();
    } else if (!st->next_expected || *next > *st->next_expected) {
      st->next_expected = next;
    }
    return;
  }
  monitors::Schedule schedule;
  if (!ScheduleOf(*st, &schedule)) return;
  st->next_expected = monitors::NextExpectedAfterCheckIn(
      schedule, st->next_expected, run_start);
}

void Upsert(MonitorState* st, const MonitorConfig& config, int64_t now) {
  const bool schedule_changed = !st->config ||
                                st->config->schedule != config.schedule ||
                                st->config->timezone != config.timezone;
  const bool had_schedule = st->config.has_value();
  st->config = config;
  if (!schedule_changed || !had_schedule) return;
  // docs/monitors.md: on a schedule change, start again from now.
  st->schedule_anchor = 0;
  st->next_expected.reset();
  if (config.schedule.type == ScheduleConfig::Type::kInterval) {
    RunStarted(st, now);
  } else {
    monitors::Schedule schedule;
    if (ScheduleOf(*st, &schedule)) st->next_expected = schedule.NextAfter(now);
  }
}

}  // namespace

MonitorTransition TickMonitor(const MonitorState& state, int64_t now) {
  MonitorTransition out;
  out.state = state;
  Timeouts(&out.state, now, &out);
  Missed(&out.state, now, &out);
  return out;
}

MonitorTransition ApplyCheckIn(const MonitorState& state,
                               const CheckIn& check_in, int64_t now) {
  MonitorTransition out;
  out.state = state;
  MonitorState* st = &out.state;
  if (check_in.monitor_config) Upsert(st, *check_in.monitor_config, now);
  Timeouts(st, now, &out);
  Missed(st, now, &out);

  const std::string& id = check_in.check_in_id;
  const bool nil = id == kNilCheckInId;
  CheckInRecord rec;
  rec.status = CheckInStatusName(check_in.status);
  rec.check_in_id = id;
  rec.received = now;
  if (check_in.status == CheckInStatus::kInProgress) {
    const bool open =
        !nil &&
        std::any_of(st->open_runs.begin(), st->open_runs.end(),
                    [&](const OpenRun& r) { return r.check_in_id == id; });
    if (open || Finished(*st, id)) {
      out.ignored = true;
      out.ignored_reason = open ? "duplicate in_progress check-in"
                                : "the run of this check_in_id already ended";
      return out;
    }
    // Too many runs in progress: the oldest has been running longest.
    if (st->open_runs.size() >= kMaxOpenRuns) TimeOut(st, 0, now, &out);
    const int64_t max_runtime =
        st->config ? st->config->max_runtime_seconds() : 30 * 60;
    st->open_runs.push_back(OpenRun{id, now, max_runtime});
    rec.kind = CheckInRecord::Kind::kCheckIn;
    rec.run_started = now;
    RunStarted(st, now);
  } else {
    auto run = st->open_runs.end();
    if (nil) {
      if (!st->open_runs.empty()) run = st->open_runs.end() - 1;
    } else {
      run = std::find_if(st->open_runs.begin(), st->open_runs.end(),
                         [&](const OpenRun& r) { return r.check_in_id == id; });
    }
    if (run == st->open_runs.end() && Finished(*st, id)) {
      out.ignored = true;
      out.ignored_reason =
          "the run of this check_in_id already ended (timed out or finished)";
      return out;
    }
    if (run != st->open_runs.end()) {
      rec.kind = CheckInRecord::Kind::kRunFinished;
      rec.check_in_id = run->check_in_id;
      rec.run_started = run->started;
      rec.duration_seconds = check_in.duration_seconds.value_or(
          static_cast<double>(std::max<int64_t>(now - run->started, 0)));
      RememberFinished(st, run->check_in_id);
      st->open_runs.erase(run);
    } else {
      rec.kind = CheckInRecord::Kind::kCheckIn;
      rec.duration_seconds = check_in.duration_seconds;
      const int64_t duration =
          static_cast<int64_t>(check_in.duration_seconds.value_or(0));
      rec.run_started = now - std::min<int64_t>(duration, now);
      RememberFinished(st, id);
      RunStarted(st, rec.run_started);
    }
    if (check_in.status == CheckInStatus::kOk) {
      Success(st, now, &out);
    } else {
      Failure(st, "error", 1, now, &out);
    }
  }
  out.records.push_back(std::move(rec));
  st->last_checkin = now;
  st->last_status = check_in.status;
  out.last_checkin_timestamp = now;
  return out;
}

std::optional<int64_t> NextMonitorDeadline(const MonitorState& state) {
  std::optional<int64_t> best;
  auto consider = [&](int64_t t) {
    if (!best || t < *best) best = t;
  };
  monitors::Schedule schedule;
  if (state.next_expected && ScheduleOf(state, &schedule)) {
    consider(monitors::MissedDeadline(*state.next_expected,
                                      state.config->margin_seconds()) +
             1);
  }
  for (const OpenRun& run : state.open_runs) {
    consider(monitors::TimeoutDeadline(monitors::InProgressRun{
                 run.started, run.max_runtime_seconds, false}) +
             1);
  }
  return best;
}

// ---------------------------------------------------------------------------
// JSON

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(Writer* w, const std::string& s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteConfig(Writer* w, const MonitorConfig& c) {
  w->StartObject();
  w->Key("schedule");
  w->StartObject();
  if (c.schedule.type == ScheduleConfig::Type::kCrontab) {
    w->Key("type");
    w->String("crontab");
    w->Key("value");
    WriteString(w, c.schedule.crontab);
  } else {
    w->Key("type");
    w->String("interval");
    w->Key("value");
    w->Int64(c.schedule.interval_value);
    w->Key("unit");
    WriteString(w, c.schedule.interval_unit);
  }
  w->EndObject();
  auto opt = [w](const char* key, const std::optional<int64_t>& v) {
    if (!v) return;
    w->Key(key);
    w->Int64(*v);
  };
  opt("checkin_margin", c.checkin_margin_minutes);
  opt("max_runtime", c.max_runtime_minutes);
  opt("failure_issue_threshold", c.failure_issue_threshold);
  opt("recovery_threshold", c.recovery_threshold);
  if (!c.timezone.empty()) {
    w->Key("timezone");
    WriteString(w, c.timezone);
  }
  w->EndObject();
}

Status GetTime(const rapidjson::Value& doc, const char* name, int64_t* out) {
  const rapidjson::Value* v = Member(doc, name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsInt64() || v->GetInt64() < 0 ||
      v->GetInt64() > monitors::kMaxTime) {
    return Status::Invalid(std::string("monitor state field ") + name +
                           ": expected epoch seconds");
  }
  *out = v->GetInt64();
  return Status::Ok();
}

Status GetCount(const rapidjson::Value& doc, const char* name, int64_t* out) {
  const rapidjson::Value* v = Member(doc, name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsInt64() || v->GetInt64() < 0 || v->GetInt64() > (1 << 30)) {
    return Status::Invalid(std::string("monitor state field ") + name +
                           ": expected a count");
  }
  *out = v->GetInt64();
  return Status::Ok();
}

}  // namespace

std::string MonitorStateToJson(const MonitorState& s) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  if (s.config) {
    w.Key("config");
    WriteConfig(&w, *s.config);
  }
  w.Key("schedule_anchor");
  w.Int64(s.schedule_anchor);
  w.Key("next_expected");
  if (s.next_expected) {
    w.Int64(*s.next_expected);
  } else {
    w.Null();
  }
  w.Key("last_checkin");
  w.Int64(s.last_checkin);
  w.Key("last_status");
  if (s.last_status) {
    w.String(CheckInStatusName(*s.last_status));
  } else {
    w.Null();
  }
  w.Key("consecutive_failures");
  w.Int64(s.consecutive_failures);
  w.Key("consecutive_successes");
  w.Int64(s.consecutive_successes);
  w.Key("incident_open");
  w.Bool(s.incident_open);
  w.Key("incident_started");
  w.Int64(s.incident_started);
  w.Key("open_runs");
  w.StartArray();
  for (const OpenRun& r : s.open_runs) {
    w.StartObject();
    w.Key("check_in_id");
    WriteString(&w, r.check_in_id);
    w.Key("started");
    w.Int64(r.started);
    w.Key("max_runtime_seconds");
    w.Int64(r.max_runtime_seconds);
    w.EndObject();
  }
  w.EndArray();
  w.Key("finished_ids");
  w.StartArray();
  for (const std::string& id : s.finished_ids) WriteString(&w, id);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status MonitorStateFromJson(std::string_view json, MonitorState* out) {
  rapidjson::Document doc;
  Status s = internal::ParseObject(json, 64 * 1024, "monitor state", &doc);
  if (!s.ok()) return s;
  MonitorState st;
  if (const rapidjson::Value* c = Member(doc, "config")) {
    MonitorConfig config;
    s = internal::ParseMonitorConfig(*c, "config", &config);
    if (!s.ok()) return s.Annotate("monitor state");
    st.config = std::move(config);
  }
  s = GetTime(doc, "schedule_anchor", &st.schedule_anchor);
  if (!s.ok()) return s;
  if (Member(doc, "next_expected") != nullptr) {
    int64_t t = 0;
    s = GetTime(doc, "next_expected", &t);
    if (!s.ok()) return s;
    st.next_expected = t;
  }
  s = GetTime(doc, "last_checkin", &st.last_checkin);
  if (!s.ok()) return s;
  if (const rapidjson::Value* v = Member(doc, "last_status")) {
    const std::string name = v->IsString() ? v->GetString() : "";
    if (name == "in_progress") {
      st.last_status = CheckInStatus::kInProgress;
    } else if (name == "ok") {
      st.last_status = CheckInStatus::kOk;
    } else if (name == "error") {
      st.last_status = CheckInStatus::kError;
    } else {
      return Status::Invalid("monitor state field last_status: bad value");
    }
  }
  s = GetCount(doc, "consecutive_failures", &st.consecutive_failures);
  if (!s.ok()) return s;
  s = GetCount(doc, "consecutive_successes", &st.consecutive_successes);
  if (!s.ok()) return s;
  if (const rapidjson::Value* v = Member(doc, "incident_open")) {
    if (!v->IsBool()) {
      return Status::Invalid("monitor state field incident_open: not a bool");
    }
    st.incident_open = v->GetBool();
  }
  s = GetTime(doc, "incident_started", &st.incident_started);
  if (!s.ok()) return s;
  if (const rapidjson::Value* runs = Member(doc, "open_runs")) {
    if (!runs->IsArray() || runs->Size() > kMaxOpenRuns) {
      return Status::Invalid(
          "monitor state field open_runs: expected at most " +
          std::to_string(kMaxOpenRuns) + " runs");
    }
    for (const rapidjson::Value& r : runs->GetArray()) {
      OpenRun run;
      const rapidjson::Value* id = Member(r, "check_in_id");
      if (id == nullptr || !id->IsString() ||
          !util::IsLowerHex(id->GetString(), 32)) {
        return Status::Invalid("monitor state field open_runs: bad id");
      }
      run.check_in_id = id->GetString();
      s = GetTime(r, "started", &run.started);
      if (!s.ok()) return s;
      int64_t max_runtime = run.max_runtime_seconds;
      s = GetTime(r, "max_runtime_seconds", &max_runtime);
      if (!s.ok()) return s;
      run.max_runtime_seconds =
          std::clamp<int64_t>(max_runtime, 60, kMaxMaxRuntimeMinutes * 60);
      st.open_runs.push_back(std::move(run));
    }
  }
  if (const rapidjson::Value* ids = Member(doc, "finished_ids")) {
    if (!ids->IsArray() || ids->Size() > kMaxFinishedIds) {
      return Status::Invalid(
          "monitor state field finished_ids: expected at most " +
          std::to_string(kMaxFinishedIds) + " ids");
    }
    for (const rapidjson::Value& id : ids->GetArray()) {
      if (!id.IsString() || !util::IsLowerHex(id.GetString(), 32)) {
        return Status::Invalid("monitor state field finished_ids: bad id");
      }
      st.finished_ids.emplace_back(id.GetString());
    }
  }
  *out = std::move(st);
  return Status::Ok();
}

}  // namespace crashctl::releases
