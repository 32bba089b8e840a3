// Transport-neutral HTTP request/response values and a small method+path
// router. Handlers written against these are unit-testable without a socket;
// cmd/http_server adapts civetweb to them.
//
// Thread-safety: Router is immutable after setup and safe to call from many
// threads; handlers must be thread-safe themselves.
#ifndef CRASHCTL_CORE_HTTP_H_
#define CRASHCTL_CORE_HTTP_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace crashctl {
namespace http {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path, no query string
  std::string query;                           // raw query string without '?'
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;  // raw body as received (still compressed, if so)
  std::string remote_addr;
  // Filled by Router: values of {name} segments of the matched pattern.
  std::map<std::string, std::string> path_params;

  // Header value by lower-case name, "" when absent.
  std::string Header(const std::string& lower_name) const;
  // First value of query parameter `name` (URL-decoded), "" when absent.
  std::string QueryParam(const std::string& name) const;
  bool HasQueryParam(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The server closes the connection after sending this response (and
  // reads nothing more from it), e.g. after a refusal whose body was not
  // read. A "Connection: close" entry in `headers` means the same.
  bool close = false;

  // A JSON response with `body` as is.
  static HttpResponse Json(int status, std::string body);
  // `{"error": message}` with proper JSON escaping.
  static HttpResponse Error(int status, const std::string& message);
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

// What a route is for; decides its cross-origin (CORS) rules:
// - kIngest: Sentry ingestion. Any origin may send (browser SDKs): preflights
//   are answered for any origin, and answers carry
//   `Access-Control-Allow-Origin: *` and expose the rate-limit headers.
// - kApi: the REST API. No CORS headers unless the request's Origin is one
//   of CorsOptions::allowed_origins; a state-changing request (any method
//   but GET, HEAD and OPTIONS) from another origin is refused with 403
//   whatever token it carries.
// - kProbe: /healthz, /readyz, /metrics: no CORS headers, never refused.
enum class RouteKind { kApi, kIngest, kProbe };

struct CorsOptions {
  // Origins ("https://grafana.example.com") whose pages may call the REST
  // API; "*" allows any. Compared case-insensitively, without a trailing
  // '/'.
  std::vector<std::string> allowed_origins;
  // This server's own origin (from server.base_url), always allowed.
  std::string own_origin;
};

// Routes by method and path pattern. Patterns are literal segments and
// `{name}` segments ("/api/v1/groups/{id}"); a trailing '/' in a pattern is
// significant only as written ("/api/{project_id}/envelope/" also matches
// without the trailing slash).
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  struct Route {
    std::string method;
    std::string pattern;
    std::string summary;  // one line, used by the OpenAPI document
    HttpHandler handler;
    RouteKind kind = RouteKind::kApi;
    // Called (may be null) when the server refuses a request for this route
    // before its handler runs, with the reason ("too_large", "timeout",
    // "framing", ...), so the component owning the route can count it.
    std::function<void(const std::string& reason)> on_refused;
  };

  // A request resolved to its route before its body is read.
  struct Match {
    const Route* route = nullptr;       // null when `answer` is set
    std::string pattern = "unmatched";  // for metrics
    std::map<std::string, std::string> params;
    // Set when the router answers without a handler: 404, 405, a CORS
    // preflight, a refused cross-origin request.
    bool answered = false;
    HttpResponse answer;
  };

  void Add(std::string method, std::string pattern, std::string summary,
           HttpHandler handler, RouteKind kind = RouteKind::kApi,
           std::function<void(const std::string&)> on_refused = nullptr);
  // Replaces the CORS configuration; call before serving.
  void SetCors(CorsOptions options);

  // Resolves `request` (method, path and headers; the body is not needed):
  // 404 when no pattern matches the path, 405 when the path matches but not
  // the method, CORS preflights (OPTIONS with Origin and
  // Access-Control-Request-Method) and cross-origin refusals per RouteKind.
  Match Resolve(const HttpRequest& request) const;
  // Runs the handler of a resolved `match` (or returns its answer) and adds
  // the CORS headers its kind calls for. Fills request.path_params.
  HttpResponse Invoke(const Match& match, HttpRequest& request) const;
  // Resolve + Invoke. Sets `*route_pattern` (for metrics) to the matched
  // pattern or "unmatched".
  HttpResponse Dispatch(HttpRequest& request, std::string* route_pattern) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool MatchPattern(const std::string& pattern, const std::string& path,
                           std::map<std::string, std::string>* params);
  bool OriginAllowed(const std::string& origin) const;
  HttpResponse Preflight(const HttpRequest& request, const Route& route,
                         const std::string& methods) const;
  void AddCorsHeaders(const HttpRequest& request, RouteKind kind,
                      HttpResponse* response) const;

  std::vector<Route> routes_;
  CorsOptions cors_;
};

// The origin ("scheme://host[:port]", lower-cased) of an absolute URL, ""
// when `url` is not one.
std::string OriginOf(const std::string& url);

// Percent-decodes `s` ('+' becomes ' ' when `plus_as_space`).
std::string UrlDecode(const std::string& s, bool plus_as_space);

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_CORE_HTTP_H_
