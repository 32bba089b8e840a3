#include "crashctl/http/http.h"

#include <civetweb.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace crashctl {
namespace http {
namespace {

// Calls `fn(name, value)` for each `name=value` pair of a query string, with
// both parts URL-decoded; stops when `fn` returns false.
template <typename Fn>
void ForEachQueryParam(const std::string& query, Fn fn) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    if (end > pos) {
      const std::string pair = query.substr(pos, end - pos);
      const size_t eq = pair.find('=');
      const std::string name = UrlDecode(pair.substr(0, eq), true);
      const std::string value =
          eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1), true);
      if (!fn(name, value)) return;
    }
    pos = end + 1;
  }
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    if (end > pos) parts.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

}  // namespace

std::string UrlDecode(const std::string& s, bool plus_as_space) {
  // civetweb's decoder follows the same rules as ours did (an invalid escape
  // such as %zz passes through, %00 decodes to a NUL that callers treat as
  // data): its result, of at most the input's length, is used as is.
  std::string out(s.size() + 1, '\0');
  const int n =
      mg_url_decode(s.data(), static_cast<int>(s.size()), &out[0],
                    static_cast<int>(out.size()), plus_as_space ? 1 : 0);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::QueryParam(const std::string& name) const {
  std::string found;
  ForEachQueryParam(query, [&](const std::string& n, const std::string& v) {
    if (n != name) return true;
    found = v;
    return false;
  });
  return found;
}

bool HttpRequest::HasQueryParam(const std::string& name) const {
  bool found = false;
  ForEachQueryParam(query, [&](const std::string& n, const std::string&) {
    found = n == name;
    return !found;
  });
  return found;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::Error(int status, const std::string& message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.String(message.data(),
                static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return Json(status, std::string(buffer.GetString(), buffer.GetSize()));
}

namespace {

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// What browser SDKs may send to the ingestion endpoints (Sentry Relay's
// list) and what they may read of its answers.
constexpr char kIngestAllowHeaders[] =
    "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, "
    "accept, content-type, authentication, authorization, content-encoding, "
    "transfer-encoding, sentry-trace, baggage";
constexpr char kIngestExposeHeaders[] =
    "X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After";
constexpr char kApiAllowHeaders[] = "Authorization, Content-Type";

bool IsSafeMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

}  // namespace

std::string OriginOf(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) return "";
  const size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string origin = url.substr(0, host_end);
  if (origin.size() <= scheme_end + 3) return "";
  return LowerAscii(origin);
}

void Router::Add(std::string method, std::string pattern, std::string summary,
                 HttpHandler handler, RouteKind kind,
                 std::function<void(const std::string&)> on_refused) {
  routes_.push_back(Route{std::move(method), std::move(pattern),
                          std::move(summary), std::move(handler), kind,
                          std::move(on_refused)});
}

void Router::SetCors(CorsOptions options) {
  for (std::string& origin : options.allowed_origins) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    origin = LowerAscii(origin);
  }
  options.own_origin = LowerAscii(options.own_origin);
  cors_ = std::move(options);
}

bool Router::MatchPattern(const std::string& pattern, const std::string& path,
                          std::map<std::string, std::string>* params) {
  const std::vector<std::string> want = SplitPath(pattern);
  const std::vector<std::string> have = SplitPath(path);
  if (want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string& w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      found[w.substr(1, w.size() - 2)] = have[i];
    } else if (w != have[i]) {
      return false;
    }
  }
  *params = std::move(found);
  return true;
}

bool Router::OriginAllowed(const std::string& origin) const {
  std::string o = origin;
  while (!o.empty() && o.back() == '/') o.pop_back();
  o = LowerAscii(o);
  if (o.empty()) return false;
  if (!cors_.own_origin.empty() && o == cors_.own_origin) return true;
  for (const std::string& allowed : cors_.allowed_origins) {
    if (allowed == "*" || allowed == o) return true;
  }
  return false;
}

HttpResponse Router::Preflight(const HttpRequest& request, const Route& route,
                               const std::string& methods) const {
  const std::string origin = request.Header("origin");
  HttpResponse response;
  response.content_type.clear();
  if (route.kind == RouteKind::kIngest) {
    response.status = 200;
    response.headers.emplace_back("Access-Control-Allow-Origin", "*");
    response.headers.emplace_back("Access-Control-Allow-Methods",
                                  methods + ", OPTIONS");
    response.headers.emplace_back("Access-Control-Allow-Headers",
                                  kIngestAllowHeaders);
    response.headers.emplace_back("Access-Control-Max-Age", "3600");
    return response;
  }
  if (route.kind == RouteKind::kApi && OriginAllowed(origin)) {
    response.status = 204;
    response.headers.emplace_back("Access-Control-Allow-Origin", origin);
    response.headers.emplace_back("Vary", "Origin");
    response.headers.emplace_back("Access-Control-Allow-Methods",
                                  methods + ", OPTIONS");
    response.headers.emplace_back("Access-Control-Allow-Headers",
                                  kApiAllowHeaders);
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    return response;
  }
  return HttpResponse::Error(
      403,
      "cross-origin requests from this origin are not allowed here "
      "(server.cors_origins lists the origins that may call the REST "
      "API)");
}

void Router::AddCorsHeaders(const HttpRequest& request, RouteKind kind,
                            HttpResponse* response) const {
  const std::string origin = request.Header("origin");
  if (origin.empty()) return;
  if (kind == RouteKind::kIngest) {
    response->headers.emplace_back("Access-Control-Allow-Origin", "*");
    response->headers.emplace_back("Access-Control-Expose-Headers",
                                   kIngestExposeHeaders);
  } else if (kind == RouteKind::kApi && OriginAllowed(origin)) {
    response->headers.emplace_back("Access-Control-Allow-Origin", origin);
    response->headers.emplace_back("Vary", "Origin");
  }
}

Router::Match Router::Resolve(const HttpRequest& request) const {
  Match match;
  const Route* path_route = nullptr;  // the first route of the path
  const Route* preflight_route = nullptr;
  const std::string preflight_method =
      request.method == "OPTIONS"
          ? request.Header("access-control-request-method")
          : std::string();
  std::string allowed;  // the path's methods
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchPattern(route.pattern, request.path, &params)) continue;
    match.pattern = route.pattern;
    if (path_route == nullptr) path_route = &route;
    if (preflight_route == nullptr && route.method == preflight_method) {
      preflight_route = &route;
    }
    if (route.method == request.method ||
        (request.method == "HEAD" && route.method == "GET")) {
      if (match.route == nullptr) {
        match.route = &route;
        match.params = std::move(params);
      }
    }
    if (allowed.find(route.method) == std::string::npos) {
      if (!allowed.empty()) allowed += ", ";
      allowed += route.method;
    }
  }
  if (path_route == nullptr) {
    match.answered = true;
    match.answer = HttpResponse::Error(404, "no route for " + request.path);
    return match;
  }
  if (request.method == "OPTIONS" && match.route == nullptr) {
    match.answered = true;
    if (!request.Header("origin").empty() && !preflight_method.empty()) {
      match.answer = Preflight(
          request, preflight_route != nullptr ? *preflight_route : *path_route,
          allowed);
    } else {
      match.answer.status = 204;
      match.answer.content_type.clear();
      match.answer.headers.emplace_back("Allow", allowed + ", OPTIONS");
    }
    return match;
  }
  if (match.route == nullptr) {
    match.answered = true;
    match.answer = HttpResponse::Error(
        405, "method " + request.method + " not allowed on " + request.path);
    match.answer.headers.emplace_back("Allow", allowed);
    return match;
  }
  if (match.route->kind == RouteKind::kApi && !IsSafeMethod(request.method)) {
    const std::string origin = request.Header("origin");
    if (!origin.empty() && !OriginAllowed(origin)) {
      match.answered = true;
      match.answer = HttpResponse::Error(
          403, "cross-origin " + request.method +
                   " refused: the request's Origin is not in "
                   "server.cors_origins");
      match.route = nullptr;
    }
  }
  return match;
}

HttpResponse Router::Invoke(const Match& match, HttpRequest& request) const {
  if (match.answered || match.route == nullptr) return match.answer;
  request.path_params = match.params;
  HttpResponse response = match.route->handler(request);
  AddCorsHeaders(request, match.route->kind, &response);
  return response;
}

HttpResponse Router::Dispatch(HttpRequest& request,
                              std::string* route_pattern) const {
  const Match match = Resolve(request);
  if (route_pattern) *route_pattern = match.pattern;
  return Invoke(match, request);
}

}  // namespace http
}  // namespace crashctl
