#include "admin_auth.h"

#include <cctype>
#include <utility>

namespace crashctl {
namespace rest {

bool ConstantTimeEquals(const std::string& given, const std::string& expected) {
  // Walk `expected` fully whatever `given` is, so timing reveals at most the
  // length of the expected token.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g =
        i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |=
        static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

http::HttpResponse CheckAdminToken(const http::HttpRequest& request,
                                   const std::string& token, bool* ok) {
  *ok = true;
  if (token.empty()) return http::HttpResponse();
  const std::string header = request.Header("authorization");
  static const char kScheme[] = "bearer ";
  constexpr size_t kSchemeLen = sizeof(kScheme) - 1;
  bool has_scheme = header.size() > kSchemeLen;
  for (size_t i = 0; has_scheme && i < kSchemeLen; ++i) {
    has_scheme =
        std::tolower(static_cast<unsigned char>(header[i])) == kScheme[i];
  }
  if (has_scheme) {
    size_t start = kSchemeLen;
    while (start < header.size() && header[start] == ' ') ++start;
    size_t end = header.size();
    while (end > start && (header[end - 1] == ' ' || header[end - 1] == '\t')) {
      --end;
    }
    if (ConstantTimeEquals(header.substr(start, end - start), token)) {
      return http::HttpResponse();
    }
  }
  *ok = false;
  http::HttpResponse response = http::HttpResponse::Error(
      401, has_scheme ? "invalid admin token"
                      : "missing admin token: send Authorization: Bearer "
                        "<auth.admin_token>");
  response.headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"crashctl\"");
  return response;
}

http::HttpHandler RequireAdmin(const std::string& token,
                               http::HttpHandler handler) {
  if (token.empty()) return handler;
  return [token, handler = std::move(handler)](http::HttpRequest& request) {
    bool ok = false;
    http::HttpResponse denied = CheckAdminToken(request, token, &ok);
    if (!ok) return denied;
    return handler(request);
  };
}

}  // namespace rest
}  // namespace crashctl
