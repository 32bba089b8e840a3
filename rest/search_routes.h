// Issue 19's REST routes (docs/rest-api.md "Search and filters" ...): the
// filters GET /api/v1/groups and GET /api/v1/events share, GET
// /api/v1/events, a group's stats and tags, the bulk status change, merge
// and the deletes.
//
// Thread-safety: pure parsing functions; the registered handlers share only
// the store (thread-safe) and immutable options.
#ifndef CRASHCTL_REST_SEARCH_ROUTES_H_
#define CRASHCTL_REST_SEARCH_ROUTES_H_

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/store/store.h"
#include "request_params.h"

namespace crashctl {
namespace rest {

// Longest value of a string filter (service, release, environment, ...).
constexpr size_t kMaxFilterBytes = 256;

// A string filter parameter of at most kMaxFilterBytes ("" or absent =
// any). False with the 400 naming it in `*error`.
bool StringFilter(const http::HttpRequest& request, const char* name,
                  std::string* out, http::HttpResponse* error);

// The query parameters of GET /api/v1/groups and GET /api/v1/events.
ParamList GroupListParams();
ParamList EventListParams();

// Parses the filters both lists share into `*query`: project, status,
// level, service, release, environment, first_release, user, tag
// (repeatable `key:value`), since, until, query (search::ParseQuery),
// limit and cursor. (`sort` is the groups' own; ListGroups reads it.) False
// with the 400 naming the parameter in `*error` (503 when the query cannot
// be parsed for want of FTS5).
bool ParseListFilters(const http::HttpRequest& request,
                      store::GroupQuery* query, http::HttpResponse* error);

// The shared filters of `from` copied into an event query.
void CopyListFilters(const store::GroupQuery& from, store::EventQuery* to);

// Registers GET /api/v1/events, GET /api/v1/groups/{id}/stats and /tags,
// PATCH /api/v1/groups, POST /api/v1/groups/{id}/merge, DELETE
// /api/v1/groups/{id} and DELETE /api/v1/events.
void RegisterSearchRoutes(http::Router* router, store::Store* store,
                          const RestOptions& options);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_SEARCH_ROUTES_H_
