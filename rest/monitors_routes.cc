#include "monitors_routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/releases/check_in.h"
#include "request_params.h"
#include "resource_json.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

constexpr size_t kMaxEnvironmentBytes = 256;
constexpr int kCheckInsInMonitor = 20;  // GET /api/v1/monitors/{id}

void WriteOptionalTime(JsonWriter* w, int64_t epoch_seconds) {
  if (epoch_seconds <= 0) {
    w->Null();
  } else {
    WriteTime(w, static_cast<double>(epoch_seconds));
  }
}

void WriteMonitor(JsonWriter* w, const model::Monitor& m,
                  const std::string& base_url,
                  const releases::MonitorState& state) {
  w->Key("id");
  w->Int64(m.id);
  w->Key("project");
  w->Int64(m.project_id);
  WriteField(w, "slug", m.slug);
  WriteField(w, "environment", m.environment);
  w->Key("schedule");
  if (!state.config) {
    w->Null();
  } else {
    const releases::ScheduleConfig& s = state.config->schedule;
    w->StartObject();
    if (s.type == releases::ScheduleConfig::Type::kCrontab) {
      WriteField(w, "type", "crontab");
      WriteField(w, "value", s.crontab);
    } else {
      WriteField(w, "type", "interval");
      w->Key("value");
      w->Int64(s.interval_value);
      WriteField(w, "unit", s.interval_unit);
    }
    w->EndObject();
  }
  const releases::MonitorConfig config =
      state.config ? *state.config : releases::MonitorConfig();
  w->Key("checkin_margin");
  w->Int64(config.margin_seconds() / 60);
  w->Key("max_runtime");
  w->Int64(config.max_runtime_seconds() / 60);
  WriteField(w, "timezone", config.timezone.empty() ? "UTC" : config.timezone);
  w->Key("failure_issue_threshold");
  w->Int64(config.failure_threshold());
  w->Key("recovery_threshold");
  w->Int64(config.recovery_threshold_or_default());
  WriteField(w, "status", m.last_status.empty() ? "unknown" : m.last_status);
  w->Key("incident_open");
  w->Bool(state.incident_open);
  w->Key("next_expected");
  WriteOptionalTime(w, state.next_expected ? *state.next_expected : 0);
  w->Key("last_checkin");
  WriteTimestamp(w, m.last_checkin);
  w->Key("created_at");
  WriteTime(w, m.created_at);
  w->Key("updated_at");
  WriteTime(w, m.updated_at);
  w->Key("checkins_total");
  w->Int64(m.checkins_total);
  w->Key("missed_total");
  w->Int64(m.missed_total);
  w->Key("timeouts_total");
  w->Int64(m.timeouts_total);
  const std::string self =
      base_url + "/api/v1/monitors/" + std::to_string(m.id);
  w->Key("links");
  w->StartObject();
  WriteField(w, "self", self);
  WriteField(w, "checkins", self + "/checkins");
  w->EndObject();
}

void WriteCheckIn(JsonWriter* w, const model::MonitorCheckIn& c) {
  w->StartObject();
  w->Key("id");
  w->Int64(c.id);
  WriteOptionalField(w, "check_in_id", c.check_in_id);
  WriteField(w, "status", c.status);
  WriteField(w, "kind", c.kind);
  w->Key("run_started");
  WriteOptionalTime(w, c.run_started);
  w->Key("duration");
  if (c.duration_seconds) {
    w->Double(*c.duration_seconds);
  } else {
    w->Null();
  }
  w->Key("received");
  WriteTime(w, static_cast<double>(c.received));
  if (c.kind == "missed") {
    w->Key("missed_count");
    w->Int64(c.missed_count);
    w->Key("last_scheduled");
    WriteOptionalTime(w, c.last_scheduled);
  }
  WriteOptionalField(w, "release", c.release);
  WriteOptionalField(w, "trace_id", c.trace_id);
  w->EndObject();
}

// The stored state; an unreadable one shows as no state (logged).
releases::MonitorState StateOf(const model::Monitor& m) {
  releases::MonitorState state;
  Status st = releases::MonitorStateFromJson(m.state_json, &state);
  if (!st.ok()) {
    spdlog::warn("rest: monitor {}: unreadable state: {}", m.id, st.message());
    state = releases::MonitorState();
  }
  return state;
}

class MonitorHandlers {
 public:
  MonitorHandlers(store::Store* store, const RestOptions& options)
      : store_(store), base_url_(options.base_url) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  http::HttpResponse List(http::HttpRequest& request) {
    std::string error;
    store::MonitorQuery query;
    http::HttpResponse invalid;
    if (!ProjectFilter(request, &query.project, &invalid)) return invalid;
    query.environment = request.QueryParam("environment");
    if (query.environment.size() > kMaxEnvironmentBytes) {
      return http::HttpResponse::Error(400,
                                       "environment longer than 256 bytes");
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    model::Page<model::Monitor> page;
    Status status = store_->ListMonitors(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing monitors");
    return PageJson(page, [this](JsonWriter* w, const model::Monitor& m) {
      w->StartObject();
      WriteMonitor(w, m, base_url_, StateOf(m));
      w->EndObject();
    });
  }

  http::HttpResponse Get(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse failure;
    if (!IdParam(request, &id, &failure)) return failure;
    model::Monitor monitor;
    Status status = store_->GetMonitor(id, &monitor);
    if (!status.ok())
      return StoreFailure(status, "monitor " + std::to_string(id));
    model::Page<model::MonitorCheckIn> checkins;
    status = store_->ListMonitorCheckIns(id, kCheckInsInMonitor, "", &checkins);
    if (!status.ok()) {
      return StoreFailure(status, "check-ins of monitor " + std::to_string(id));
    }
    const releases::MonitorState state = StateOf(monitor);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    WriteMonitor(&w, monitor, base_url_, state);
    w.Key("checkins");
    w.StartArray();
    for (const model::MonitorCheckIn& c : checkins.items) WriteCheckIn(&w, c);
    w.EndArray();
    w.Key("in_progress");
    w.StartArray();
    for (const releases::OpenRun& run : state.open_runs) {
      w.StartObject();
      WriteOptionalField(&w, "check_in_id",
                         run.check_in_id == releases::kNilCheckInId
                             ? std::string()
                             : run.check_in_id);
      w.Key("started");
      WriteTime(&w, static_cast<double>(run.started));
      w.Key("timeout_at");
      WriteTime(&w, static_cast<double>(run.started + run.max_runtime_seconds));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse CheckIns(http::HttpRequest& request) {
    std::string error;
    int64_t id = 0;
    http::HttpResponse failure;
    if (!IdParam(request, &id, &failure)) return failure;
    int limit = 50;
    if (!ParseLimitParam(request, &limit, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    model::Monitor monitor;
    Status status = store_->GetMonitor(id, &monitor);
    if (!status.ok())
      return StoreFailure(status, "monitor " + std::to_string(id));
    model::Page<model::MonitorCheckIn> page;
    status = store_->ListMonitorCheckIns(id, limit,
                                         request.QueryParam("cursor"), &page);
    if (!status.ok()) {
      return StoreFailure(status, "check-ins of monitor " + std::to_string(id));
    }
    return PageJson(page, [](JsonWriter* w, const model::MonitorCheckIn& c) {
      WriteCheckIn(w, c);
    });
  }

 private:
  static bool IdParam(http::HttpRequest& request, int64_t* id,
                      http::HttpResponse* error) {
    const std::string raw = request.path_params["id"];
    if (ParsePositiveId(raw, id)) return true;
    *error = http::HttpResponse::Error(
        400, "invalid monitor id " + Shown(raw) + ": must be a positive id");
    return false;
  }

  store::Store* const store_;
  std::string base_url_;
};

}  // namespace

void RegisterMonitorRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options) {
  auto h = std::make_shared<MonitorHandlers>(store, options);
  using Method = http::HttpResponse (MonitorHandlers::*)(http::HttpRequest&);
  auto get = [&](const char* pattern, const char* summary, ParamList params,
                 Method m) {
    AddApiRoute(router, options, "GET", pattern, summary, std::move(params),
                [h, m](http::HttpRequest& r) { return ((*h).*m)(r); });
  };
  get("/api/v1/monitors", "List cron monitors (filter, paginate)",
      {{"project"}, {"environment"}, {"limit"}, {"cursor"}},
      &MonitorHandlers::List);
  get("/api/v1/monitors/{id}",
      "Get one cron monitor with its latest check-ins and runs in progress", {},
      &MonitorHandlers::Get);
  get("/api/v1/monitors/{id}/checkins",
      "List a cron monitor's check-ins, newest first", {{"limit"}, {"cursor"}},
      &MonitorHandlers::CheckIns);
}

}  // namespace rest
}  // namespace crashctl
