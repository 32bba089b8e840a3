#include "projects_routes.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin_auth.h"
#include "crashctl/model/dsn.h"
#include "request_params.h"
#include "resource_json.h"
#include "rest_responses.h"

namespace crashctl {
namespace rest {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;

// The fields a key body may carry (POST and PATCH).
struct KeyBody {
  std::optional<std::string> label;
  std::optional<bool> active;
  std::optional<int64_t> rate_limit_per_minute;
};

// Parses `request.body` (a JSON object of at most 64 KiB, possibly empty
// for POST) into `*out`; unknown members and wrong types are a 400 naming
// the member.
bool ParseKeyBody(const http::HttpRequest& request, bool allow_empty,
                  bool allow_active, KeyBody* out, http::HttpResponse* error) {
  if (allow_empty && request.body.size() <= kMaxBodyBytes &&
      request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return true;
  }
  rapidjson::Document doc;
  if (!ParseJsonObjectBody(request, &doc, error)) return false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    if (name == "label") {
      if (!v.IsString()) {
        *error = http::HttpResponse::Error(400, "label: must be a string");
        return false;
      }
      out->label = std::string(v.GetString(), v.GetStringLength());
    } else if (name == "active" && allow_active) {
      if (!v.IsBool()) {
        *error =
            http::HttpResponse::Error(400, "active: must be true or false");
        return false;
      }
      out->active = v.GetBool();
    } else if (name == "rate_limit_per_minute") {
      if (!v.IsInt64() || v.GetInt64() < 0) {
        *error = http::HttpResponse::Error(
            400,
            "rate_limit_per_minute: must be an integer >= 0 (0 = no limit)");
        return false;
      }
      out->rate_limit_per_minute = v.GetInt64();
    } else {
      *error = http::HttpResponse::Error(
          400, "unknown member " + Shown(name) + ": use label, " +
                   std::string(allow_active ? "active, " : "") +
                   "rate_limit_per_minute");
      return false;
    }
  }
  if (!allow_empty && !out->label && !out->active &&
      !out->rate_limit_per_minute) {
    *error = http::HttpResponse::Error(
        400, "body needs at least one of label, active, rate_limit_per_minute");
    return false;
  }
  return true;
}

// The positive-id path parameter `name`; false with the 400 naming it.
bool PathId(http::HttpRequest& request, const char* name, const char* what,
            int64_t* id, http::HttpResponse* error) {
  const std::string raw = request.path_params[name];
  if (ParsePositiveId(raw, id)) return true;
  *error = http::HttpResponse::Error(400, std::string("invalid ") + what + " " +
                                              Shown(raw) +
                                              ": must be a positive id");
  return false;
}

class ProjectHandlers {
 public:
  ProjectHandlers(store::Store* store, const RestOptions& options)
      : store_(store), options_(options) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') {
      options_.base_url.pop_back();
    }
  }

  http::HttpResponse GetProject(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    model::Project project;
    Status status = store_->GetProject(id, &project);
    if (!status.ok()) return StoreFailure(status, ProjectName(id));
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteProject(
        &w, project,
        model::FormatDsn(options_.base_url, project.public_key, project.id),
        model::FormatShortDsn(options_.base_url, project.public_key));
    return JsonOk(200, buffer);
  }

  http::HttpResponse DeleteProject(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    // The groups that go with it, for the per-group metrics.
    std::vector<int64_t> groups;
    if (options_.on_groups_deleted) {
      Status listed = ProjectGroups(id, &groups);
      if (!listed.ok()) {
        return StoreFailure(listed, "groups of " + ProjectName(id));
      }
    }
    Status status = store_->DeleteProject(id);
    if (!status.ok()) {
      return StoreFailure(status, "deleting " + ProjectName(id));
    }
    spdlog::info("rest: deleted project {} ({} groups)", id, groups.size());
    KeysChanged();
    if (options_.on_groups_deleted && !groups.empty()) {
      options_.on_groups_deleted(groups);
    }
    return Deleted(id);
  }

  http::HttpResponse ListKeys(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    std::vector<model::ProjectKey> keys;
    Status status = store_->ListKeys(id, &keys);
    if (!status.ok()) return StoreFailure(status, "keys of " + ProjectName(id));
    model::Page<model::ProjectKey> page;
    page.items = std::move(keys);
    return PageJson(page, [this](JsonWriter* w, const model::ProjectKey& k) {
      WriteKey(w, k);
    });
  }

  http::HttpResponse CreateKey(http::HttpRequest& request) {
    int64_t id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    KeyBody body;
    if (!ParseKeyBody(request, /*allow_empty=*/true, /*allow_active=*/false,
                      &body, &error)) {
      return error;
    }
    model::ProjectKey key;
    Status status =
        store_->CreateKey(id, body.label.value_or(""),
                          body.rate_limit_per_minute.value_or(0), &key);
    if (!status.ok()) {
      return StoreFailure(status, "creating a key of " + ProjectName(id));
    }
    spdlog::info("rest: created key {} of project {}", key.id, id);
    KeysChanged();
    http::HttpResponse response = KeyResponse(201, key);
    response.headers.emplace_back("Location", KeyUrl(key));
    return response;
  }

  http::HttpResponse PatchKey(http::HttpRequest& request) {
    int64_t id = 0, key_id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    if (!PathId(request, "key_id", "key id", &key_id, &error)) return error;
    KeyBody body;
    if (!ParseKeyBody(request, /*allow_empty=*/false, /*allow_active=*/true,
                      &body, &error)) {
      return error;
    }
    store::KeyUpdate update;
    update.label = body.label;
    update.active = body.active;
    update.rate_limit_per_minute = body.rate_limit_per_minute;
    model::ProjectKey key;
    Status status = store_->UpdateKey(id, key_id, update, &key);
    if (!status.ok()) {
      return StoreFailure(
          status, "key " + std::to_string(key_id) + " of " + ProjectName(id));
    }
    spdlog::info("rest: changed key {} of project {}", key_id, id);
    KeysChanged();
    return KeyResponse(200, key);
  }

  http::HttpResponse DeleteKey(http::HttpRequest& request) {
    int64_t id = 0, key_id = 0;
    http::HttpResponse error;
    if (!ProjectId(request, &id, &error)) return error;
    if (!PathId(request, "key_id", "key id", &key_id, &error)) return error;
    Status status = store_->DeleteKey(id, key_id);
    if (!status.ok()) {
      return StoreFailure(status, "deleting key " + std::to_string(key_id) +
                                      " of " + ProjectName(id));
    }
    spdlog::info("rest: deleted key {} of project {}", key_id, id);
    KeysChanged();
    return Deleted(key_id);
  }

 private:
  static bool ProjectId(http::HttpRequest& request, int64_t* id,
                        http::HttpResponse* error) {
    return PathId(request, "id", "project id", id, error);
  }
  // The ids of the project's groups, at most kMaxPages pages of 1000.
  Status ProjectGroups(int64_t id, std::vector<int64_t>* out) {
    constexpr int kMaxPages = 10000;
    store::GroupQuery query;
    query.project = id;
    query.limit = 1000;
    for (int i = 0; i < kMaxPages; ++i) {
      model::Page<model::Group> page;
      Status status = store_->ListGroups(query, &page);
      if (!status.ok()) return status;
      for (const model::Group& g : page.items) out->push_back(g.id);
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
    }
    return Status::Ok();
  }
  static std::string ProjectName(int64_t id) {
    return "project " + std::to_string(id);
  }
  void KeysChanged() const {
    if (options_.on_keys_changed) options_.on_keys_changed();
  }
  std::string KeyUrl(const model::ProjectKey& key) const {
    return options_.base_url + "/api/v1/projects/" +
           std::to_string(key.project_id) + "/keys/" + std::to_string(key.id);
  }
  // {"id","project","label","public_key","active","rate_limit_per_minute",
  //  "dsn","short_dsn","created_at"}: the DSNs as for projects.
  void WriteKey(JsonWriter* w, const model::ProjectKey& key) const {
    w->StartObject();
    w->Key("id");
    w->Int64(key.id);
    w->Key("project");
    w->Int64(key.project_id);
    WriteField(w, "label", key.label);
    WriteField(w, "public_key", key.public_key);
    w->Key("active");
    w->Bool(key.active);
    w->Key("rate_limit_per_minute");
    w->Int64(key.rate_limit_per_minute);
    WriteField(
        w, "dsn",
        model::FormatDsn(options_.base_url, key.public_key, key.project_id));
    WriteField(w, "short_dsn",
               model::FormatShortDsn(options_.base_url, key.public_key));
    w->Key("created_at");
    WriteTimestamp(w, key.created_at);
    w->EndObject();
  }
  http::HttpResponse KeyResponse(int status, const model::ProjectKey& key) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteKey(&w, key);
    return JsonOk(status, buffer);
  }
  static http::HttpResponse Deleted(int64_t id) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("id");
    w.Int64(id);
    w.Key("deleted");
    w.Bool(true);
    w.EndObject();
    return JsonOk(200, buffer);
  }

  store::Store* const store_;
  RestOptions options_;
};

}  // namespace

void RegisterProjectRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options) {
  auto h = std::make_shared<ProjectHandlers>(store, options);
  using Method = http::HttpResponse (ProjectHandlers::*)(http::HttpRequest&);
  auto admin = [&](const char* method, const char* pattern, const char* summary,
                   Method m) {
    // The tokens (the read token for GET) and no query parameters.
    AddApiRoute(router, options, method, pattern, summary, {},
                [h, m](http::HttpRequest& r) { return ((*h).*m)(r); });
  };
  admin("GET", "/api/v1/projects/{id}", "Get one project with its DSN",
        &ProjectHandlers::GetProject);
  admin("DELETE", "/api/v1/projects/{id}",
        "Delete a project and everything of it (events, groups, keys, ...)",
        &ProjectHandlers::DeleteProject);
  admin("GET", "/api/v1/projects/{id}/keys",
        "List a project's DSN keys, oldest first", &ProjectHandlers::ListKeys);
  admin("POST", "/api/v1/projects/{id}/keys",
        "Create a DSN key (label, rate_limit_per_minute)",
        &ProjectHandlers::CreateKey);
  admin("PATCH", "/api/v1/projects/{id}/keys/{key_id}",
        "Change a key's label, active flag or rate limit",
        &ProjectHandlers::PatchKey);
  admin("DELETE", "/api/v1/projects/{id}/keys/{key_id}", "Delete a DSN key",
        &ProjectHandlers::DeleteKey);
}

}  // namespace rest
}  // namespace crashctl
