// REST routes of cron monitors (docs/rest-api.md, "Cron monitors"):
// GET /api/v1/monitors, /api/v1/monitors/{id}, /api/v1/monitors/{id}/checkins.
// Private to rest/.
//
// Thread-safety: the handlers only read the store; safe from any thread.
#ifndef CRASHCTL_REST_MONITORS_ROUTES_H_
#define CRASHCTL_REST_MONITORS_ROUTES_H_

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace rest {

// Adds the monitor routes (behind the admin token like the other REST
// routes). `router` and `store` must outlive the routes.
void RegisterMonitorRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_MONITORS_ROUTES_H_
