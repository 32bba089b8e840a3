// REST routes of one project and its DSN keys (issue 19; docs/rest-api.md,
// "Projects and keys"):
//   GET    /api/v1/projects/{id}                 the project and its DSN
//   DELETE /api/v1/projects/{id}                 the project and all its data
//   GET    /api/v1/projects/{id}/keys            its keys, oldest first
//   POST   /api/v1/projects/{id}/keys            a new key
//   PATCH  /api/v1/projects/{id}/keys/{key_id}   label, active, rate limit
//   DELETE /api/v1/projects/{id}/keys/{key_id}
// Every key is shown with its DSN and short DSN. All routes need the admin
// token (when set); after a change RestOptions::on_keys_changed is called,
// after a project delete also on_groups_deleted with the project's groups.
// Private to rest/.
//
// Thread-safety: the handlers share only the (thread-safe) store and
// immutable options; safe from any thread.
#ifndef CRASHCTL_REST_PROJECTS_ROUTES_H_
#define CRASHCTL_REST_PROJECTS_ROUTES_H_

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace rest {

// Adds the routes above. `router` and `store` must outlive the routes.
void RegisterProjectRoutes(http::Router* router, store::Store* store,
                           const RestOptions& options);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_PROJECTS_ROUTES_H_
