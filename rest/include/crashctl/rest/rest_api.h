// The JSON REST API (CONTRACT.md "REST"): projects, groups, events, crashes,
// transactions and traces, /healthz, /readyz and /api/v1/openapi.json, as
// transport-neutral handlers on a Router. Lists answer
// {"items":[...],"next_cursor":"..."|null}; errors answer {"error":"..."} with
// 400 (bad parameter or body), 401 (admin token), 404, 413 (body over 64 KiB),
// 503 (store unavailable), 500.
//
// Thread-safety: the registered handlers are safe to call from many threads
// at once (they share only `store`, which is thread-safe, and immutable
// options).
#ifndef CRASHCTL_REST_REST_API_H_
#define CRASHCTL_REST_REST_API_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "crashctl/http/http.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace rest {

struct RestOptions {
  // auth.admin_token: when set, every REST route except /healthz and /readyz
  // needs `Authorization: Bearer <token>`. "" leaves the API open.
  std::string admin_token;
  // Public URL of this server, e.g. "http://127.0.0.1:9190" (a path prefix
  // is allowed; a trailing '/' is ignored). Used for DSNs (model/dsn.h) and
  // `links`.
  std::string base_url;
  // Readiness probe for /readyz: returns false and sets `*reason` when not
  // ready. Null means always ready.
  std::function<bool(std::string* reason)> ready;
  // Called after POST /api/v1/projects created `project` (e.g. to refresh an
  // ingestion key cache). May be null.
  std::function<void(const model::Project& project)> on_project_created;
  // auth.read_token (issue 19): when set, GET routes also accept
  // `Authorization: Bearer <read_token>`; every other method needs the
  // admin token. Needs admin_token (the config refuses it alone).
  std::string read_token;
  // Called after a change the REST API made (issue 19), so that in-memory
  // state follows: the ingest key cache (keys created, changed or deleted;
  // a project deleted) and the per-group metrics (groups merged into
  // `into`, a group deleted). May be null.
  std::function<void()> on_keys_changed;
  std::function<void(int64_t into, const std::vector<int64_t>& from)>
      on_groups_merged;
  std::function<void(const std::vector<int64_t>& deleted)> on_groups_deleted;
};

// Registers every REST route on `router`. `store` and `router` must outlive
// the router's use (the OpenAPI handler reads `router->routes()` per
// request, so routes added later by others are described too).
void RegisterRestRoutes(http::Router* router, store::Store* store,
                        const RestOptions& options);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_REST_API_H_
