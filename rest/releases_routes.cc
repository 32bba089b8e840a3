// GET /api/v1/releases (docs/rest-api.md "Releases"): per release its
// sessions by final status, crash-free rates (releases::
// ComputeReleaseHealth), users, error events, new groups, first/last seen
// and environments.
//
// Thread-safety: the handler shares only the store (thread-safe) and
// immutable strings.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <set>
#include <string>
#include <utility>

#include "crashctl/releases/sessions.h"
#include "request_params.h"
#include "resource_json.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

void WritePercent(JsonWriter* w, const std::optional<double>& percent) {
  if (percent.has_value()) {
    w->Double(*percent);
  } else {
    w->Null();
  }
}

void WriteRelease(JsonWriter* w, const model::ReleaseSummary& r,
                  const std::string& base_url) {
  releases::ReleaseHealthCounts counts;
  counts.exited = r.exited;
  counts.errored = r.errored;
  counts.crashed = r.crashed;
  counts.abnormal = r.abnormal;
  counts.users = r.users;
  counts.crashed_users = r.crashed_users;
  const releases::ReleaseHealth health = releases::ComputeReleaseHealth(counts);
  w->StartObject();
  w->Key("project");
  w->Int64(r.project_id);
  WriteField(w, "release", r.release);
  w->Key("sessions");
  w->StartObject();
  w->Key("total");
  w->Uint64(health.sessions);
  w->Key("exited");
  w->Uint64(r.exited);
  w->Key("errored");
  w->Uint64(r.errored);
  w->Key("crashed");
  w->Uint64(r.crashed);
  w->Key("abnormal");
  w->Uint64(r.abnormal);
  w->EndObject();
  w->Key("crash_free_sessions");
  WritePercent(w, health.crash_free_sessions_percent);
  w->Key("crash_free_users");
  WritePercent(w, health.crash_free_users_percent);
  w->Key("healthy_sessions");
  WritePercent(w, health.healthy_sessions_percent);
  w->Key("users");
  w->Uint64(r.users);
  w->Key("crashed_users");
  w->Uint64(std::min(r.crashed_users, r.users));
  w->Key("errors");
  w->Uint64(r.errors);
  w->Key("new_groups");
  w->Int64(r.new_groups);
  w->Key("first_seen");
  WriteTime(w, r.first_seen);
  w->Key("last_seen");
  WriteTime(w, r.last_seen);
  w->Key("environments");
  w->StartArray();
  for (const std::string& env : r.environments) WriteJsonString(w, env);
  w->EndArray();
  w->Key("links");
  w->StartObject();
  WriteField(w, "groups",
             base_url + "/api/v1/groups?project=" +
                 std::to_string(r.project_id) + "&sort=first_seen");
  w->EndObject();
  w->EndObject();
}

http::HttpResponse ListReleases(store::Store* store,
                                const std::string& base_url,
                                const http::HttpRequest& request) {
  std::string message;
  store::ReleaseQuery query;
  http::HttpResponse invalid;
  if (!ProjectFilter(request, &query.project, &invalid)) return invalid;
  query.environment = request.QueryParam("environment");
  if (query.environment.size() > releases::kMaxEnvironmentBytes) {
    return http::HttpResponse::Error(
        400, "environment longer than 64 bytes (no release has one)");
  }
  if (!ParseLimitParam(request, &query.limit, &message)) {
    return http::HttpResponse::Error(400, message);
  }
  query.cursor = request.QueryParam("cursor");
  model::Page<model::ReleaseSummary> page;
  const Status status = store->ListReleases(query, &page);
  if (!status.ok()) return StoreFailure(status, "listing releases");
  return PageJson(page,
                  [&base_url](JsonWriter* w, const model::ReleaseSummary& r) {
                    WriteRelease(w, r, base_url);
                  });
}

}  // namespace

void RegisterReleaseRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options) {
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  AddApiRoute(router, options, "GET", "/api/v1/releases",
              "Release health: sessions by final status, crash-free rates, "
              "users, errors and new groups per release",
              {{"project"}, {"environment"}, {"limit"}, {"cursor"}},
              [store, base](http::HttpRequest& r) {
                return ListReleases(store, base, r);
              });
}

}  // namespace rest
}  // namespace crashctl
