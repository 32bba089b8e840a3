// Admin-token guard for REST routes: `Authorization: Bearer <token>`.
//
// Thread-safety: pure functions; the handler returned by RequireAdmin is as
// thread-safe as the handler it wraps.
#ifndef CRASHCTL_REST_ADMIN_AUTH_H_
#define CRASHCTL_REST_ADMIN_AUTH_H_

#include <string>

#include "crashctl/http/http.h"

namespace crashctl {
namespace rest {

// Compares in time that depends only on `expected.size()`, never on where
// the first difference is.
bool ConstantTimeEquals(const std::string& given, const std::string& expected);

// Checks `request` against `token`. An empty `token` means the API is open:
// always OK. Sets `*ok`; when false, returns the 401 answer to send
// (`{"error":...}` with `WWW-Authenticate: Bearer realm="crashctl"`). The
// scheme name "Bearer" is matched case-insensitively.
http::HttpResponse CheckAdminToken(const http::HttpRequest& request,
                                   const std::string& token, bool* ok);

// `handler` guarded by CheckAdminToken; with an empty `token`, `handler`
// itself.
http::HttpHandler RequireAdmin(const std::string& token,
                               http::HttpHandler handler);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_ADMIN_AUTH_H_
