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

#include "admin_auth.h"
#include "crashctl/releases/sessions.h"
#include "request_params.h"
#include "resource_json.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

// Every parameter GET /api/v1/releases knows; any other is a 400.
const std::set<std::string>& KnownParams() {
  static const std::set<std::string> kKnown = {"project", "environment",
                                               "limit", "cursor"};
  return kKnown;
}

// The first parameter of the raw query string that is not known, or a
// known one given twice; "" when none.
bool CheckParams(const std::string& query, std::string* error) {
  std::set<std::string> seen;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty()) {
      if (end == query.size()) break;
      continue;
    }
    const std::string name =
        http::UrlDecode(part.substr(0, part.find('=')), /*plus_as_space=*/true);
    if (KnownParams().count(name) == 0) {
      *error = "unknown parameter " + Shown(name) +
               ": use project, environment, limit, cursor";
      return false;
    }
    if (!seen.insert(name).second) {
      *error = "parameter " + Shown(name) + " given twice";
      return false;
    }
    if (end == query.size()) break;
  }
  return true;
}

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
  if (!CheckParams(request.query, &message)) {
    return http::HttpResponse::Error(400, message);
  }
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
                           const std::string& admin_token,
                           const std::string& base_url) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  router->Add("GET", "/api/v1/releases",
              "Release health: sessions by final status, crash-free rates, "
              "users, errors and new groups per release",
              RequireAdmin(admin_token, [store, base](http::HttpRequest& r) {
                return ListReleases(store, base, r);
              }));
}

}  // namespace rest
}  // namespace crashctl
