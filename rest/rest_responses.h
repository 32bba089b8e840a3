// Answers the REST route files share (defined in rest_api.cc).
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_REST_REST_RESPONSES_H_
#define CRASHCTL_REST_REST_RESPONSES_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include <cstdint>
#include <optional>
#include <string>

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/store/store.h"
#include "crashctl/util/status.h"
#include "request_params.h"
#include "resource_json.h"

namespace crashctl {
namespace rest {

// A JSON answer with the writer's text.
http::HttpResponse JsonOk(int status, const rapidjson::StringBuffer& buffer);
// Maps a failed store call to its HTTP answer (400, 404, 409, 413, 503 with
// Retry-After, 500). `what` names the operation.
http::HttpResponse StoreFailure(const Status& status, const std::string& what);

// A request value quoted for an error message: cut to 64 bytes, valid UTF-8.
std::string Shown(const std::string& value);
// The optional `project` query parameter: a positive id into `*project`
// (left unset when absent). False with the 400 in `*error`.
bool ProjectFilter(const http::HttpRequest& request,
                   std::optional<int64_t>* project, http::HttpResponse* error);
// The optional positive-id query parameter `name` (as ProjectFilter).
bool IdFilter(const http::HttpRequest& request, const std::string& name,
              std::optional<int64_t>* id, http::HttpResponse* error);
// The path parameter {id} of a group route as a positive id. False with the
// 400 in `*error`.
bool GroupIdParam(http::HttpRequest& request, int64_t* id,
                  http::HttpResponse* error);
// Parses a JSON object body of at most 64 KiB. False with the 400/413 in
// `*error`.
bool ParseJsonObjectBody(const http::HttpRequest& request,
                         rapidjson::Document* doc, http::HttpResponse* error);
// 200 with `group` as WriteGroup writes it, with its traces and feedback.
http::HttpResponse GroupAnswer(store::Store* store, const model::Group& group,
                               const std::string& base_url);

// Registers a REST route of kind kApi: `handler` behind the tokens of
// `options` (RequireToken: GET/HEAD take the read token too), then behind
// its query parameters (WithQueryParams(params)).
void AddApiRoute(http::Router* router, const RestOptions& options,
                 const char* method, const char* pattern, const char* summary,
                 ParamList params, http::HttpHandler handler);

// A list answer, 200 {"items":[...],"next_cursor":"..."|null}, each item
// written by `write(writer, item)`.
template <typename T, typename WriteFn>
http::HttpResponse PageJson(const model::Page<T>& page, WriteFn write) {
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

// The routes of rest/releases_routes.cc (GET /api/v1/releases).
void RegisterReleaseRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_REST_RESPONSES_H_
