// The JSON REST API (CONTRACT.md "REST"): projects, groups, events, crashes,
// /healthz, /readyz and /api/v1/openapi.json, as transport-neutral handlers
// on a Router. Lists answer {"items":[...],"next_cursor":"..."|null}; errors
// answer {"error":"..."} with 400 (bad parameter or body), 401 (admin token),
// 404, 413 (body over 64 KiB), 503 (store unavailable), 500.
//
// Thread-safety: the registered handlers are safe to call from many threads
// at once (they share only `store`, which is thread-safe, and immutable
// options).
#ifndef CRASHCTL_REST_REST_API_H_
#define CRASHCTL_REST_REST_API_H_

#include <cstdint>
#include <functional>
#include <string>

#include "core/http.h"
#include "store/store.h"

namespace crashctl {

struct RestOptions {
  // auth.admin_token: when set, every REST route except /healthz and /readyz
  // needs `Authorization: Bearer <token>`. "" leaves the API open.
  std::string admin_token;
  // Public URL of this server, e.g. "http://127.0.0.1:9190" (a path prefix
  // is allowed; a trailing '/' is ignored). Used for DSNs and `links`.
  std::string base_url;
  // Readiness probe for /readyz: returns false and sets `*reason` when not
  // ready. Null means always ready.
  std::function<bool(std::string* reason)> ready;
  // Called after POST /api/v1/projects created `project` (e.g. to refresh an
  // ingestion key cache). May be null.
  std::function<void(const Project& project)> on_project_created;
  // Formats the Sentry-form DSN; null uses FormatProjectDsn below (pass
  // ingest's FormatDsn here to keep one implementation).
  std::function<std::string(const std::string& public_key, int64_t id)>
      format_dsn;
};

// Sentry-form DSN: base_url "http://host:9190[/prefix]" gives
// "http://KEY@host:9190[/prefix]/ID".
std::string FormatProjectDsn(const std::string& base_url,
                             const std::string& public_key, int64_t id);
// Short form: base_url + "/api/v1/events?key=" + KEY.
std::string FormatShortDsn(const std::string& base_url,
                           const std::string& public_key);

// Registers every REST route on `router`. `store` and `router` must outlive
// the router's use (the OpenAPI handler reads `router->routes()` per
// request, so routes added later by others are described too).
void RegisterRestRoutes(Router* router, Store* store,
                        const RestOptions& options);

}  // namespace crashctl

#endif  // CRASHCTL_REST_REST_API_H_
