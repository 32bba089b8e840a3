#include "crashctl/rest/rest_api.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "admin_auth.h"
#include "crashctl/model/dsn.h"
#include "crashctl/model/vocabulary.h"
#include "openapi.h"
#include "request_params.h"
#include "resource_json.h"

namespace crashctl {
namespace rest {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxFilterBytes = 256;

const char* const kSorts[] = {"last_seen", "count", "first_seen"};

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

http::HttpResponse JsonOk(int status, const rapidjson::StringBuffer& buffer) {
  return http::HttpResponse::Json(
      status, std::string(buffer.GetString(), buffer.GetSize()));
}

// Maps a failed store call to its HTTP answer. `what` names the operation.
http::HttpResponse StoreFailure(const Status& status, const std::string& what) {
  const std::string detail =
      what + (status.message().empty() ? "" : ": " + status.message());
  switch (status.code()) {
    case Status::Code::kNotFound:
      // The store's message already names the row ("group 9 not found").
      return http::HttpResponse::Error(404, status.message().empty()
                                                ? what + " not found"
                                                : status.message());
    case Status::Code::kInvalid:
      return http::HttpResponse::Error(400, detail);
    case Status::Code::kConflict:
      return http::HttpResponse::Error(409, detail);
    case Status::Code::kTooLarge:
      return http::HttpResponse::Error(413, detail);
    case Status::Code::kUnavailable: {
      spdlog::warn("rest: store unavailable: {}", detail);
      http::HttpResponse response =
          http::HttpResponse::Error(503, "storage unavailable: " + detail);
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    case Status::Code::kOk:
    case Status::Code::kInternal:
      break;
  }
  spdlog::error("rest: store error: {}", detail);
  return http::HttpResponse::Error(500, "internal error: " + detail);
}

// Parses a small JSON object body. On failure returns false with the answer
// in `*error`.
bool ParseJsonObjectBody(const http::HttpRequest& request,
                         rapidjson::Document* doc, http::HttpResponse* error) {
  if (request.body.size() > kMaxBodyBytes) {
    *error = http::HttpResponse::Error(413, "request body larger than 64 KiB");
    return false;
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag |
             rapidjson::kParseIterativeFlag>(request.body.data(),
                                             request.body.size());
  if (doc->HasParseError()) {
    *error = http::HttpResponse::Error(
        400, std::string("malformed JSON body: ") +
                 rapidjson::GetParseError_En(doc->GetParseError()) +
                 " at offset " + std::to_string(doc->GetErrorOffset()));
    return false;
  }
  if (!doc->IsObject()) {
    *error = http::HttpResponse::Error(400, "JSON body must be an object");
    return false;
  }
  return true;
}

// Handlers share one immutable context.
class RestHandlers {
 public:
  RestHandlers(http::Router* router, store::Store* store,
               const RestOptions& options)
      : router_(router), store_(store), options_(options) {
    options_.base_url = TrimSlash(options_.base_url);
  }

  http::HttpResponse Healthz(http::HttpRequest&) {
    return http::HttpResponse::Json(200, "{\"status\":\"ok\"}");
  }

  http::HttpResponse Readyz(http::HttpRequest&) {
    std::string reason;
    if (!options_.ready || options_.ready(&reason)) {
      return http::HttpResponse::Json(200, "{\"status\":\"ok\"}");
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

  http::HttpResponse OpenApi(http::HttpRequest&) {
    return http::HttpResponse::Json(200, BuildOpenApi(*router_));
  }

  http::HttpResponse ListProjects(http::HttpRequest&) {
    std::vector<model::Project> projects;
    Status status = store_->ListProjects(&projects);
    if (!status.ok()) return StoreFailure(status, "listing projects");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const model::Project& p : projects) WriteProjectWithDsn(&w, p);
    w.EndArray();
    w.Key("next_cursor");
    w.Null();
    w.EndObject();
    return JsonOk(200, buffer);
  }

  http::HttpResponse CreateProject(http::HttpRequest& request) {
    rapidjson::Document doc;
    http::HttpResponse error;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto name_it = doc.FindMember("name");
    if (name_it == doc.MemberEnd() || !name_it->value.IsString()) {
      return http::HttpResponse::Error(400, "body needs \"name\": a string");
    }
    const std::string name(name_it->value.GetString(),
                           name_it->value.GetStringLength());
    const std::string invalid = model::ProjectNameError(name);
    if (!invalid.empty()) return http::HttpResponse::Error(400, invalid);
    model::Project project;
    Status status = store_->CreateProject(name, &project);
    if (!status.ok()) {
      return StoreFailure(status, "creating project " + Shown(name));
    }
    spdlog::info("rest: created project {} ({})", project.id, project.name);
    if (options_.on_project_created) options_.on_project_created(project);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteProjectWithDsn(&w, project);
    http::HttpResponse response = JsonOk(201, buffer);
    response.headers.emplace_back(
        "Location",
        options_.base_url + "/api/v1/projects/" + std::to_string(project.id));
    return response;
  }

  http::HttpResponse ListGroups(http::HttpRequest& request) {
    store::GroupQuery query;
    std::string error;
    if (request.HasQueryParam("project")) {
      int64_t project = 0;
      const std::string text = request.QueryParam("project");
      if (!ParsePositiveId(text, &project)) {
        return http::HttpResponse::Error(
            400, "invalid project " + Shown(text) + ": must be a positive id");
      }
      query.project = project;
    }
    const std::string status_text = request.QueryParam("status");
    if (!status_text.empty()) {
      model::GroupStatus status;
      if (!model::ParseGroupStatus(status_text, &status)) {
        return http::HttpResponse::Error(
            400, "unknown status " + Shown(status_text) + ": use one of " +
                     model::JoinedSpellings(model::AllGroupStatuses()));
      }
      query.status = status;
    }
    const std::string level_text = request.QueryParam("level");
    if (!level_text.empty()) {
      model::Level level;
      if (!model::ParseLevel(level_text, &level)) {
        return http::HttpResponse::Error(
            400, "unknown level " + Shown(level_text) + ": use one of " +
                     model::JoinedSpellings(model::AllLevels()));
      }
      query.level = level;
    }
    query.service = request.QueryParam("service");
    if (query.service.size() > kMaxFilterBytes) {
      return http::HttpResponse::Error(400,
                                       "service filter longer than 256 bytes");
    }
    if (request.HasQueryParam("sort")) {
      query.sort = request.QueryParam("sort");
      if (!OneOf(query.sort, kSorts)) {
        return http::HttpResponse::Error(
            400, "unknown sort " + Shown(query.sort) + ": use one of " +
                     Joined(kSorts));
      }
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    model::Page<model::Group> page;
    Status status = store_->ListGroups(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing groups");
    return PageResponse(page, [this](JsonWriter* w, const model::Group& g) {
      WriteGroup(w, g, options_.base_url);
    });
  }

  http::HttpResponse GetGroup(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    model::Group group;
    Status status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    return GroupResponse(group);
  }

  http::HttpResponse PatchGroup(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    rapidjson::Document doc;
    if (!ParseJsonObjectBody(request, &doc, &error)) return error;
    auto it = doc.FindMember("status");
    if (it == doc.MemberEnd() || !it->value.IsString()) {
      return http::HttpResponse::Error(
          400, "body needs \"status\": one of " +
                   model::JoinedSpellings(model::AllGroupStatuses()));
    }
    const std::string status_text(it->value.GetString(),
                                  it->value.GetStringLength());
    model::GroupStatus new_status;
    if (!model::ParseGroupStatus(status_text, &new_status)) {
      return http::HttpResponse::Error(
          400, "unknown status " + Shown(status_text) + ": use one of " +
                   model::JoinedSpellings(model::AllGroupStatuses()));
    }
    model::Group group;
    Status status = store_->SetGroupStatus(id, new_status, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    spdlog::info("rest: group {} set to {}", id, model::ToString(new_status));
    return GroupResponse(group);
  }

  http::HttpResponse ListGroupEvents(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!GroupIdParam(request, &id, &error)) return error;
    int limit = 50;
    std::string message;
    if (!ParseLimitParam(request, &limit, &message)) {
      return http::HttpResponse::Error(400, message);
    }
    model::Group group;
    Status status = store_->GetGroup(id, &group);
    if (!status.ok()) {
      return StoreFailure(status, "group " + std::to_string(id));
    }
    model::Page<model::StoredEvent> page;
    status =
        store_->ListGroupEvents(id, limit, request.QueryParam("cursor"), &page);
    if (!status.ok()) {
      return StoreFailure(status,
                          "listing events of group " + std::to_string(id));
    }
    return PageResponse(
        page, [this](JsonWriter* w, const model::StoredEvent& e) {
          WriteEvent(w, e, options_.base_url, /*with_payload=*/false);
        });
  }

  http::HttpResponse GetEvent(http::HttpRequest& request) {
    const std::string raw = request.path_params["event_id"];
    std::string event_id;
    if (!NormalizeEventId(raw, &event_id)) {
      return http::HttpResponse::Error(
          400, "invalid event id " + Shown(raw) + ": must be 32 hex digits");
    }
    model::StoredEvent event;
    Status status = store_->GetEvent(event_id, &event);
    if (!status.ok()) return StoreFailure(status, "event " + event_id);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteEvent(&w, event, options_.base_url, /*with_payload=*/true);
    return JsonOk(200, buffer);
  }

  http::HttpResponse ListCrashes(http::HttpRequest& request) {
    store::CrashQuery query;
    std::string error;
    query.namespace_ = request.QueryParam("namespace");
    query.pod = request.QueryParam("pod");
    if (query.namespace_.size() > kMaxFilterBytes ||
        query.pod.size() > kMaxFilterBytes) {
      return http::HttpResponse::Error(400, "filter longer than 256 bytes");
    }
    const std::string type_text = request.QueryParam("type");
    model::CrashType crash_type;
    if (!type_text.empty() && !model::ParseCrashType(type_text, &crash_type)) {
      return http::HttpResponse::Error(
          400, "unknown type " + Shown(type_text) + ": use one of " +
                   model::JoinedSpellings(model::AllCrashTypes()));
    }
    if (!type_text.empty()) query.crash_type = crash_type;
    if (request.HasQueryParam("since") &&
        !ParseSinceParam(request.QueryParam("since"), &query.since, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    if (!ParseLimitParam(request, &query.limit, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    query.cursor = request.QueryParam("cursor");
    model::Page<model::Crash> page;
    Status status = store_->ListCrashes(query, &page);
    if (!status.ok()) return StoreFailure(status, "listing crashes");
    return PageResponse(page, [this](JsonWriter* w, const model::Crash& c) {
      WriteCrash(w, c, options_.base_url);
    });
  }

  http::HttpResponse GetCrash(http::HttpRequest& request) {
    const std::string raw = request.path_params["id"];
    int64_t id = 0;
    if (!ParsePositiveId(raw, &id)) {
      return http::HttpResponse::Error(
          400, "invalid crash id " + Shown(raw) + ": must be a positive id");
    }
    model::Crash crash;
    Status status = store_->GetCrash(id, &crash);
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
  static http::HttpResponse PageResponse(const model::Page<T>& page,
                                         WriteFn write) {
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

  static bool GroupIdParam(http::HttpRequest& request, int64_t* id,
                           http::HttpResponse* error) {
    const std::string raw = request.path_params["id"];
    if (ParsePositiveId(raw, id)) return true;
    *error = http::HttpResponse::Error(
        400, "invalid group id " + Shown(raw) + ": must be a positive id");
    return false;
  }

  http::HttpResponse GroupResponse(const model::Group& group) const {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteGroup(&w, group, options_.base_url);
    return JsonOk(200, buffer);
  }

  void WriteProjectWithDsn(JsonWriter* w, const model::Project& p) const {
    const std::string dsn =
        model::FormatDsn(options_.base_url, p.public_key, p.id);
    WriteProject(w, p, dsn,
                 model::FormatShortDsn(options_.base_url, p.public_key));
  }

  http::Router* const router_;
  store::Store* const store_;
  RestOptions options_;
};

}  // namespace

void RegisterRestRoutes(http::Router* router, store::Store* store,
                        const RestOptions& options) {
  auto h = std::make_shared<RestHandlers>(router, store, options);
  const std::string& token = options.admin_token;
  using Method = http::HttpResponse (RestHandlers::*)(http::HttpRequest&);
  // Open routes: probes never need the admin token.
  auto open = [&](const char* method, const char* pattern, const char* summary,
                  Method m) {
    router->Add(
        method, pattern, summary,
        [h, m](http::HttpRequest& r) { return ((*h).*m)(r); },
        http::RouteKind::kProbe);
  };
  auto admin = [&](const char* method, const char* pattern, const char* summary,
                   Method m) {
    router->Add(method, pattern, summary,
                RequireAdmin(token, [h, m](http::HttpRequest& r) {
                  return ((*h).*m)(r);
                }));
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

}  // namespace rest
}  // namespace crashctl
