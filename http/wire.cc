#include "wire.h"

#include <strings.h>

#include <cctype>
#include <cstring>

namespace crashctl {
namespace http {
namespace {

bool HasToken(const char* list, const char* token) {
  // Comma-separated, case-insensitive, surrounding blanks ignored.
  const size_t token_len = std::strlen(token);
  const char* p = list;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',') ++p;
    const char* start = p;
    while (*p != '\0' && *p != ',') ++p;
    const char* end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) --end;
    if (static_cast<size_t>(end - start) == token_len &&
        strncasecmp(start, token, token_len) == 0) {
      return true;
    }
  }
  return false;
}

bool SameHeaderName(const std::string& name, const char* wanted) {
  return strcasecmp(name.c_str(), wanted) == 0;
}

}  // namespace

// Our own table, not mg_get_response_code_text(): civetweb's spells some
// phrases differently from RFC 9110 (e.g. 413 "Request Entity Too Large",
// 414 "Request-URI Too Large", 416 "Requested Range Not Satisfiable").
const char* HttpReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

bool RequestWantsKeepAlive(const char* connection_header,
                           const char* http_version) {
  if (connection_header != nullptr) {
    return HasToken(connection_header, "keep-alive");
  }
  return http_version != nullptr && std::strcmp(http_version, "1.1") == 0;
}

std::string SerializeHttpResponse(const HttpResponse& response,
                                  const char* http_version, bool keep_alive,
                                  bool head, std::time_t now) {
  std::string out;
  out.reserve(256 + (head ? 0 : response.body.size()));
  out += "HTTP/";
  out += http_version != nullptr ? http_version : "1.1";
  out += ' ';
  out += std::to_string(response.status);
  out += ' ';
  out += HttpReasonPhrase(response.status);
  out += "\r\n";
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\n";
  bool has_date = false;
  bool has_connection = false;
  for (const auto& header : response.headers) {
    has_date = has_date || SameHeaderName(header.first, "Date");
    has_connection =
        has_connection || SameHeaderName(header.first, "Connection");
    out += header.first;
    out += ": ";
    out += header.second;
    out += "\r\n";
  }
  if (!has_date) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char date[64];
    const size_t n =
        std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    out += "Date: ";
    out.append(date, n);
    out += "\r\n";
  }
  if (!has_connection) {
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  }
  out += "\r\n";
  if (!head) out += response.body;
  return out;
}

}  // namespace http
}  // namespace crashctl
