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

  // A JSON response with `body` as is.
  static HttpResponse Json(int status, std::string body);
  // `{"error": message}` with proper JSON escaping.
  static HttpResponse Error(int status, const std::string& message);
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

// Routes by method and path pattern. Patterns are literal segments and
// `{name}` segments ("/api/v1/groups/{id}"); a trailing '/' in a pattern is
// significant only as written ("/api/{project_id}/envelope/" also matches
// without the trailing slash).
class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::string summary;  // one line, used by the OpenAPI document
    HttpHandler handler;
  };

  void Add(std::string method, std::string pattern, std::string summary,
           HttpHandler handler);
  // Dispatches: 404 when no pattern matches the path, 405 when the path
  // matches but not the method. Sets `*route_pattern` (for metrics) to the
  // matched pattern or "unmatched".
  HttpResponse Dispatch(HttpRequest& request, std::string* route_pattern) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool Match(const std::string& pattern, const std::string& path,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

// Percent-decodes `s` ('+' becomes ' ' when `plus_as_space`).
std::string UrlDecode(const std::string& s, bool plus_as_space);

}  // namespace crashctl

#endif  // CRASHCTL_CORE_HTTP_H_
