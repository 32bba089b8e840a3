// HTTP/1.x wire format of a response, built into one buffer so a server can
// send it with a single write. (civetweb's header API sends the status line
// and every header line as a separate send(): with TCP_NODELAY that is one
// packet and one system call per line.)
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_CORE_HTTP_WIRE_H_
#define CRASHCTL_CORE_HTTP_WIRE_H_

#include <ctime>
#include <string>

#include "crashctl/http/http.h"

namespace crashctl {
namespace http {

// Reason phrase of an HTTP status code ("OK", "Too Many Requests"); "" for
// codes without one.
const char* HttpReasonPhrase(int status);

// Whether the connection stays open after this request, by the rules civetweb
// applies: a `Connection` request header decides (keep-alive only if it lists
// the "keep-alive" token), else HTTP/1.1 keeps alive and HTTP/1.0 closes.
// `connection_header` is null when the request had none.
bool RequestWantsKeepAlive(const char* connection_header,
                           const char* http_version);

// The whole response: "HTTP/<version> <status> <reason>", Content-Type
// (unless empty), Content-Length, `response.headers`, Date (from `now`) and
// Connection (keep-alive or close) unless `response.headers` has them, an
// empty line, and the body unless `head` (a HEAD request: Content-Length
// still gives the body's size).
std::string SerializeHttpResponse(const HttpResponse& response,
                                  const char* http_version, bool keep_alive,
                                  bool head, std::time_t now);

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_CORE_HTTP_WIRE_H_
