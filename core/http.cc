#include "core/http.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace crashctl {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
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

void Router::Add(std::string method, std::string pattern, std::string summary,
                 HttpHandler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern),
                          std::move(summary), std::move(handler)});
}

bool Router::Match(const std::string& pattern, const std::string& path,
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

HttpResponse Router::Dispatch(HttpRequest& request,
                              std::string* route_pattern) const {
  bool path_matched = false;
  std::string allowed;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!Match(route.pattern, request.path, &params)) continue;
    path_matched = true;
    if (route.method != request.method &&
        !(request.method == "HEAD" && route.method == "GET")) {
      if (!allowed.empty()) allowed += ", ";
      allowed += route.method;
      if (route_pattern) *route_pattern = route.pattern;
      continue;
    }
    if (route_pattern) *route_pattern = route.pattern;
    request.path_params = std::move(params);
    return route.handler(request);
  }
  if (path_matched) {
    HttpResponse response = HttpResponse::Error(
        405, "method " + request.method + " not allowed on " + request.path);
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  if (route_pattern) *route_pattern = "unmatched";
  return HttpResponse::Error(404, "no route for " + request.path);
}

}  // namespace crashctl
