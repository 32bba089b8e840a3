#include "rest/rest_api.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rest/admin_auth.h"
#include "rest/openapi.h"
#include "rest/request_params.h"
#include "rest/resource_json.h"
#include "spdlog/spdlog.h"

namespace crashctl {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxFilterBytes = 256;

const char* const kGroupStatuses[] = {"unresolved", "resolved", "ignored"};
const char* const kLevels[] = {"fatal", "error", "warning", "info", "debug"};
const char* const kSorts[] = {"last_seen", "count", "first_seen"};
const char* const kCrashTypes[] = {"oom_killed",        "crash_loop",
                                   "init_failed",       "evicted",
                                   "restart_threshold", "error_exit"};

template <size_t N>
bool OneOf(const std::string& value, const char* const (&allowed)[N]) {
  for (const char* a : allowed) {
    if (value == a) return true;
  }
  return false;
}

template <size_t N>
std::string Joined(const char* const (&allowed)[N]) {
  std::string out;
  for (const char* a : allowed) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  return out;
}

// Echoes user input in error messages: bounded and valid UTF-8.
std::string Shown(const std::string& value) {
  return "\"" + SanitizeUtf8(value.substr(0, 64)) + "\"";
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

HttpResponse JsonOk(int status, const rapidjson::StringBuffer& buffer) {
  return HttpResponse::Json(status,
                            std::string(buffer.GetString(), buffer.GetSize()));
}

// Maps a failed store call to its HTTP answer. `what` names the operation.
HttpResponse StoreFailure(const StoreStatus& status, const std::string& what) {
  const std::string detail =
      what + (status.message.empty() ? "" : ": " + status.message);
  switch (status.code) {
    case StoreStatus::kNotFound:
      // The store's message already names the row ("group 9 not found").
      return HttpResponse::Error(
          404, status.message.empty() ? what + " not found" : status.message);
    case StoreStatus::kInvalid:
      return HttpResponse::Error(400, detail);
    case StoreStatus::kConflict:
      return HttpResponse::Error(409, detail);
    case StoreStatus::kUnavailable: {
      spdlog::warn("rest: store unavailable: {}", detail);
      HttpResponse response =
          HttpResponse::Error(503, "storage unavailable: " + detail);
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    case StoreStatus::kOk:
    case StoreStatus::kInternal:
      break;
  }
  spdlog::error("rest: store error: {}", detail);
  return HttpResponse::Error(500, "internal error: " + detail);
}

// Parses a small JSON object body. On failure returns false with the answer
// in `*error`.
bool ParseJsonObjectBody(const HttpRequest& request, rapidjson::Document* doc,
                         HttpResponse* error) {
  if (request.body.size() > kMaxBodyBytes) {
    *error = HttpResponse::Error(413, "request body larger than 64 KiB");
    return false;
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag |
             rapidjson::kParseIterativeFlag>(request.body.data(),
                                             request.body.size());
  if (doc->HasParseError()) {
    *error = HttpResponse::Error(
        400, std::string("malformed JSON body: ") +
                 rapidjson::GetParseError_En(doc->GetParseError()) +
                 " at offset " + std::to_string(doc->GetErrorOffset()));
    return false;
  }
  if (!doc->IsObject()) {
    *error = HttpResponse::Error(400, "JSON body must be an object");
    return false;
  }
  return true;
}

// Handlers share one immutable context.
class RestHandlers {
 public:
  RestHandlers(Router* router, Store* store, const RestOptions& options)
      : router_(router), store_(store), options_(options) {
    options_.base_url = TrimSlash(options_.base_url);
  }

  HttpResponse Healthz(HttpRequest&) {
    return HttpResponse::Json(200, "{\"status\":\"ok\"}");
  }

  HttpResponse Readyz(HttpRequest&) {
    std::string reason;
    if (!options_.ready || options_.ready(&reason)) {
      return HttpResponse::Json(200, "{\"status\":\"ok\"}");
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("status");
    w.String("unavailable");
    w.Key("error");
    WriteJsonString(&w, reason.empty() ? "not ready" : reason);
    w.EndObject();
    return JsonOk(503, buffer);
  }

  HttpResponse OpenApi(HttpRequest&) {
    return HttpResponse::Json(200, BuildOpenApi(*router_));
  }

  HttpResponse ListProjects(HttpRequest&) {
    std::vector<Project> projects;
    StoreStatus status = store_->ListProjects(&projects);
    if (!status.ok()) return StoreFailure(status, "listing projects");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const Project& p : projects) WriteProjectWithDsn(&w, p);
    w.EndArray();
    w.Key("next_cursor");
    w.Null();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  HttpResponse CreateProject(HttpRequest& request) {
    rapidjson::Document doc;
    HttpResponse error;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto name_it = doc.FindMember("name");
    if (name_it == doc.MemberEnd() || !name_it->value.IsString()) {
      return HttpResponse::Error(400, "body needs \"name\": a string");
    }
    const std::string name(name_it->value.GetString(),
                           name_it->value.GetStringLength());
    const std::string invalid = ProjectNameError(name);
    if (!invalid.empty()) return HttpResponse::Error(400, invalid);
    Project project;
    StoreStatus status = store_->CreateProject(name, &project);
    if (!status.ok()) {
      return StoreFailure(status, "creating project " + Shown(name));
    }
    spdlog::info("rest: created project {} ({})", project.id, project.name);
    if (options_.on_project_created) options_.on_project_created(project);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteProjectWithDsn(&w, project);
    HttpResponse response = JsonOk(201, buffer);
    response.headers.emplace_back(
        "Location",
        options_.base_url + "/api/v1/projects/" + std::to_string(project.id));
    return response;
  }

  HttpResponse ListGroups(HttpRequest& request) {
    GroupQuery query;
    std::string error;
    if (request.HasQueryParam("project")) {
      int64_t project = 0;
      const std::string text = request.QueryParam("project");
      if (!ParsePositiveId(text, &project)) {
        return HttpResponse::Error(
            400, "invalid project " + Shown(text) + ": must be a positive id");
      }
      query.project = project;
    }
    query.status = request.QueryParam("status");
    if (!query.status.empty() && !OneOf(query.status, kGroupStatuses)) {
      return HttpResponse::Error(400, "unknown status " + Shown(query.status) +
                                          ": use one of " +
                                          Joined(kGroupStatuses));
    }
    query.level = request.QueryParam("level");
    if (!query.level.empty() && !OneOf(query.level, kLevels)) {
      return HttpResponse::Error(400, "unknown level " + Shown(query.level) +
                                          ": use one of " + Joined(kLevels));
    }
    query.service = request.QueryParam("service");
    if (query.service.size() > kMaxFilterBytes) {
      return HttpResponse::Error(400, "service filter longer than 256 bytes");
    }
    if (request.HasQueryParam("sort")) {
      query.sort = request.QueryParam("sort");
      if (!OneOf(query.sort, kSorts)) {
        return HttpResponse::Error(400, "unknown sort " + Shown(query.sort) +
                                            ": use one of " + Joined(kSorts));
      }
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    Page<Group> page;
    StoreStatus status = store_->ListGroups(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing groups");
    return PageResponse(page, [this](JsonWriter* w, const Group& g) {
      WriteGroup(w, g, options_.base_url);
    });
  }

  HttpResponse GetGroup(HttpRequest& request) {
    int64_t id = 0;
    HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    Group group;
    StoreStatus status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    return GroupResponse(group);
  }

  HttpResponse PatchGroup(HttpRequest& request) {
    int64_t id = 0;
    HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    rapidjson::Document doc;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto it = doc.FindMember("status");
    if (it == doc.MemberEnd() || !it->value.IsString()) {
      return HttpResponse::Error(
          400, "body needs \"status\": one of " + Joined(kGroupStatuses));
    }
    const std::string new_status(it->value.GetString(),
                                 it->value.GetStringLength());
    if (!OneOf(new_status, kGroupStatuses)) {
      return HttpResponse::Error(400, "unknown status " + Shown(new_status) +
                                          ": use one of " +
                                          Joined(kGroupStatuses));
    }
    Group group;
    StoreStatus status = store_->SetGroupStatus(id, new_status, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    spdlog::info("rest: group {} set to {}", id, new_status);
    return GroupResponse(group);
  }

  HttpResponse ListGroupEvents(HttpRequest& request) {
    int64_t id = 0;
    HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    int limit = 50;
    std::string message;
    if (!ParseLimitParam(request, &limit, &message)) {
      return HttpResponse::Error(400, message);
    }
    Group group;
    StoreStatus status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    Page<StoredEvent> page;
    status =
        store_->ListGroupEvents(id, limit, request.QueryParam("cursor"), &page);
    if (!status.ok()) {
      return StoreFailure(status,
                          "listing events of group " + std::to_string(id));
    }
    return PageResponse(page, [this](JsonWriter* w, const StoredEvent& e) {
      WriteEvent(w, e, options_.base_url, /*with_payload=*/false);
    });
  }

  HttpResponse GetEvent(HttpRequest& request) {
    const std::string raw = request.path_params["event_id"];
    std::string event_id;
    if (!NormalizeEventId(raw, &event_id)) {
      return HttpResponse::Error(
          400, "invalid event id " + Shown(raw) + ": must be 32 hex digits");
    }
    StoredEvent event;
    StoreStatus status = store_->GetEvent(event_id, &event);
    if (!status.ok()) return StoreFailure(status, "event " + event_id);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteEvent(&w, event, options_.base_url, /*with_payload=*/true);
    return JsonOk(200, buffer);
  }

  HttpResponse ListCrashes(HttpRequest& request) {
    CrashQuery query;
    std::string error;
    query.namespace_ = request.QueryParam("namespace");
    query.pod = request.QueryParam("pod");
    if (query.namespace_.size() > kMaxFilterBytes ||
        query.pod.size() > kMaxFilterBytes) {
      return HttpResponse::Error(400, "filter longer than 256 bytes");
    }
    query.crash_type = request.QueryParam("type");
    if (!query.crash_type.empty() && !OneOf(query.crash_type, kCrashTypes)) {
      return HttpResponse::Error(
          400, "unknown type " + Shown(query.crash_type) + ": use one of " +
                   Joined(kCrashTypes));
    }
    if (request.HasQueryParam("since") &&
        !ParseSinceParam(request.QueryParam("since"), &query.since, &error)) {
      return HttpResponse::Error(400, error);
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    Page<Crash> page;
    StoreStatus status = store_->ListCrashes(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing crashes");
    return PageResponse(page, [this](JsonWriter* w, const Crash& c) {
      WriteCrash(w, c, options_.base_url);
    });
  }

  HttpResponse GetCrash(HttpRequest& request) {
    const std::string raw = request.path_params["id"];
    int64_t id = 0;
    if (!ParsePositiveId(raw, &id)) {
      return HttpResponse::Error(
          400, "invalid crash id " + Shown(raw) + ": must be a positive id");
    }
    Crash crash;
    StoreStatus status = store_->GetCrash(id, &crash);
    if (!status.ok()) {
      return StoreFailure(status, "crash " + std::to_string(id));
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteCrash(&w, crash, options_.base_url);
    return JsonOk(200, buffer);
  }

 private:
  // A list answer: {"items":[...],"next_cursor":"..."|null}, each item
  // written by `write(writer, item)`.
  template <typename T, typename WriteFn>
  static HttpResponse PageResponse(const Page<T>& page, WriteFn write) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const T& item : page.items) write(&w, item);
    w.EndArray();
    w.Key("next_cursor");
    if (page.next_cursor.empty()) {
      w.Null();
    } else {
      WriteJsonString(&w, page.next_cursor);
    }
    w.EndObject();
    return JsonOk(200, buffer);
  }

  static bool GroupIdParam(HttpRequest& request, int64_t* id,
                           HttpResponse* error) {
    const std::string raw = request.path_params["id"];
    if (ParsePositiveId(raw, id)) return true;
    *error = HttpResponse::Error(
        400, "invalid group id " + Shown(raw) + ": must be a positive id");
    return false;
  }

  HttpResponse GroupResponse(const Group& group) const {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteGroup(&w, group, options_.base_url);
    return JsonOk(200, buffer);
  }

  void WriteProjectWithDsn(JsonWriter* w, const Project& p) const {
    const std::string dsn =
        options_.format_dsn
            ? options_.format_dsn(p.public_key, p.id)
            : FormatProjectDsn(options_.base_url, p.public_key, p.id);
    WriteProject(w, p, dsn, FormatShortDsn(options_.base_url, p.public_key));
  }

  Router* const router_;
  Store* const store_;
  RestOptions options_;
};

}  // namespace

std::string FormatProjectDsn(const std::string& base_url,
                             const std::string& public_key, int64_t id) {
  const std::string base = TrimSlash(base_url);
  const size_t scheme_end = base.find("://");
  if (scheme_end == std::string::npos) {
    return "http://" + public_key + "@" + base + "/" + std::to_string(id);
  }
  return base.substr(0, scheme_end + 3) + public_key + "@" +
         base.substr(scheme_end + 3) + "/" + std::to_string(id);
}

std::string FormatShortDsn(const std::string& base_url,
                           const std::string& public_key) {
  return TrimSlash(base_url) + "/api/v1/events?key=" + public_key;
}

void RegisterRestRoutes(Router* router, Store* store,
                        const RestOptions& options) {
  auto h = std::make_shared<RestHandlers>(router, store, options);
  const std::string& token = options.admin_token;
  using Method = HttpResponse (RestHandlers::*)(HttpRequest&);
  // Open routes: probes never need the admin token.
  auto open = [&](const char* method, const char* pattern, const char* summary,
                  Method m) {
    router->Add(
        method, pattern, summary,
        [h, m](HttpRequest& r) { return ((*h).*m)(r); }, RouteKind::kProbe);
  };
  auto admin = [&](const char* method, const char* pattern, const char* summary,
                   Method m) {
    router->Add(
        method, pattern, summary,
        RequireAdmin(token, [h, m](HttpRequest& r) { return ((*h).*m)(r); }));
  };
  open("GET", "/healthz", "Liveness probe: always 200 while serving",
       &RestHandlers::Healthz);
  open("GET", "/readyz", "Readiness probe: 503 with a reason when not ready",
       &RestHandlers::Readyz);
  admin("GET", "/api/v1/openapi.json", "This OpenAPI document",
        &RestHandlers::OpenApi);
  admin("GET", "/api/v1/projects", "List projects with their DSNs",
        &RestHandlers::ListProjects);
  admin("POST", "/api/v1/projects", "Create a project and its DSN key",
        &RestHandlers::CreateProject);
  admin("GET", "/api/v1/groups", "List error groups (filter, sort, paginate)",
        &RestHandlers::ListGroups);
  admin("GET", "/api/v1/groups/{id}", "Get one error group",
        &RestHandlers::GetGroup);
  admin("PATCH", "/api/v1/groups/{id}",
        "Set a group's status (resolved, ignored, unresolved)",
        &RestHandlers::PatchGroup);
  admin("GET", "/api/v1/groups/{id}/events",
        "List a group's events, newest first", &RestHandlers::ListGroupEvents);
  admin("GET", "/api/v1/events/{event_id}",
        "Get one event with its original payload", &RestHandlers::GetEvent);
  admin("GET", "/api/v1/crashes", "List Kubernetes pod crashes",
        &RestHandlers::ListCrashes);
  admin("GET", "/api/v1/crashes/{id}", "Get one pod crash with its logs",
        &RestHandlers::GetCrash);
}

}  // namespace crashctl
