// Answers the REST route files share (defined in rest_api.cc).
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_REST_REST_RESPONSES_H_
#define CRASHCTL_REST_REST_RESPONSES_H_

#include <rapidjson/stringbuffer.h>

#include <string>

#include "crashctl/http/http.h"
#include "crashctl/store/store.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace rest {

// A JSON answer with the writer's text.
http::HttpResponse JsonOk(int status, const rapidjson::StringBuffer& buffer);
// Maps a failed store call to its HTTP answer (400, 404, 409, 413, 503 with
// Retry-After, 500). `what` names the operation.
http::HttpResponse StoreFailure(const Status& status, const std::string& what);

// The routes of rest/releases_routes.cc (GET /api/v1/releases).
void RegisterReleaseRoutes(http::Router* router, store::Store* store,
                           const std::string& admin_token,
                           const std::string& base_url);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_REST_RESPONSES_H_
