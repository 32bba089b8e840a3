// OpenAPI 3.0 description of a Router's routes.
//
// Thread-safety: BuildOpenApi only reads the router; safe to call
// concurrently once the router is set up.
#ifndef CRASHCTL_REST_OPENAPI_H_
#define CRASHCTL_REST_OPENAPI_H_

#include <string>

#include "crashctl/http/http.h"

namespace crashctl {
namespace rest {

// Returns the OpenAPI 3.0.3 JSON document describing exactly the routes of
// `router`: one path per distinct pattern, one operation per (method,
// pattern) with its summary and path parameters. Known routes (REST,
// ingestion, /metrics, health) also get their query parameters, request
// bodies and response schemas (Project, Group, Event, Crash, Error, lists);
// others get a generic description.
std::string BuildOpenApi(const http::Router& router);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_OPENAPI_H_
