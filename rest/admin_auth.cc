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

namespace {

// The bearer token of `request` ("" when none) and whether the header used
// the Bearer scheme.
std::string BearerToken(const http::HttpRequest& request, bool* has_scheme) {
  const std::string header = request.Header("authorization");
  static const char kScheme[] = "bearer ";
  constexpr size_t kSchemeLen = sizeof(kScheme) - 1;
  *has_scheme = header.size() > kSchemeLen;
  for (size_t i = 0; *has_scheme && i < kSchemeLen; ++i) {
    *has_scheme =
        std::tolower(static_cast<unsigned char>(header[i])) == kScheme[i];
  }
  if (!*has_scheme) return "";
  size_t start = kSchemeLen;
  while (start < header.size() && header[start] == ' ') ++start;
  size_t end = header.size();
  while (end > start && (header[end - 1] == ' ' || header[end - 1] == '\t')) {
    --end;
  }
  return header.substr(start, end - start);
}

http::HttpResponse Unauthorized(bool has_scheme) {
  http::HttpResponse response = http::HttpResponse::Error(
      401, has_scheme ? "invalid admin token"
                      : "missing admin token: send Authorization: Bearer "
                        "<auth.admin_token>");
  response.headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"crashctl\"");
  return response;
}

}  // namespace

http::HttpResponse CheckAdminToken(const http::HttpRequest& request,
                                   const std::string& token, bool* ok) {
  return CheckToken(request, ApiTokens{token, ""}, ok);
}

http::HttpResponse CheckToken(const http::HttpRequest& request,
                              const ApiTokens& tokens, bool* ok) {
  *ok = true;
  if (tokens.admin.empty()) return http::HttpResponse();
  bool has_scheme = false;
  const std::string given = BearerToken(request, &has_scheme);
  if (has_scheme) {
    // Both comparisons always run: timing tells nothing about which matched.
    const bool admin = ConstantTimeEquals(given, tokens.admin);
    const bool read =
        !tokens.read.empty() && ConstantTimeEquals(given, tokens.read);
    if (admin) return http::HttpResponse();
    if (read) {
      if (request.method == "GET" || request.method == "HEAD") {
        return http::HttpResponse();
      }
      *ok = false;
      return http::HttpResponse::Error(403, "the read token cannot write");
    }
  }
  *ok = false;
  return Unauthorized(has_scheme);
}

http::HttpHandler RequireAdmin(const std::string& token,
                               http::HttpHandler handler) {
  return RequireToken(ApiTokens{token, ""}, std::move(handler));
}

http::HttpHandler RequireToken(const ApiTokens& tokens,
                               http::HttpHandler handler) {
  if (tokens.admin.empty()) return handler;
  return [tokens, handler = std::move(handler)](http::HttpRequest& request) {
    bool ok = false;
    http::HttpResponse denied = CheckToken(request, tokens, &ok);
    if (!ok) return denied;
    return handler(request);
  };
}

}  // namespace rest
}  // namespace crashctl
