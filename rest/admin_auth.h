// Token guards for REST routes: `Authorization: Bearer <token>`, with the
// admin token (auth.admin_token: everything) and the read token
// (auth.read_token: GET and HEAD only).
//
// Thread-safety: pure functions; the handlers returned by RequireAdmin and
// RequireToken are as thread-safe as the handler they wrap.
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
// itself. (RequireToken with no read token.)
http::HttpHandler RequireAdmin(const std::string& token,
                               http::HttpHandler handler);

// The REST API's tokens (RestOptions::admin_token and read_token).
struct ApiTokens {
  std::string admin;
  std::string read;  // "" = none
};

// Checks `request` against `tokens`: with no admin token, always OK. GET and
// HEAD accept the admin or the read token; every other method needs the
// admin token, and the read token answers 403 {"error": "the read token
// cannot write"}. Otherwise as CheckAdminToken (401).
http::HttpResponse CheckToken(const http::HttpRequest& request,
                              const ApiTokens& tokens, bool* ok);

// `handler` guarded by CheckToken; with no admin token, `handler` itself.
http::HttpHandler RequireToken(const ApiTokens& tokens,
                               http::HttpHandler handler);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_ADMIN_AUTH_H_
