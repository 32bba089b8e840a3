// HttpServer: serves a Router over civetweb on one listener.
//
// Reads each request body fully (Content-Length or chunked) up to a limit,
// answering 413 without reading further when it is exceeded, dispatches to
// the Router and writes the response. Counts every request in
// crashctl_http_requests_total{route,method,code}.
//
// civetweb serves one connection per worker thread, so connections that hold
// a worker without sending a request are bounded (docs/performance.md):
// a connection that has sent nothing is not handed to a worker at all until
// its first bytes arrive (TCP_DEFER_ACCEPT); request headers must arrive
// within header_timeout_ms; a whole body within request_timeout_ms (else
// 408); an idle keep-alive connection is closed after keep_alive_timeout_ms.
//
// Thread-safety: Start()/Stop() from one owner thread; the router is called
// from civetweb's worker threads concurrently.
#ifndef CRASHCTL_CMD_HTTP_SERVER_H_
#define CRASHCTL_CMD_HTTP_SERVER_H_

#include <string>

#include "core/http.h"

struct mg_context;
struct mg_connection;

namespace crashctl {

class Metrics;

class HttpServer {
 public:
  struct Options {
    std::string listen = ":9190";      // "[host]:port"
    int threads = 64;                  // concurrent connections served
    int request_timeout_ms = 30000;    // whole request body, at most
    int header_timeout_ms = 10000;     // request line + headers; also the
                                       // longest a single read may stall
    int keep_alive_timeout_ms = 5000;  // idle between keep-alive requests
    int defer_accept_seconds = 10;     // 0 = no TCP_DEFER_ACCEPT
    size_t max_body_bytes = 20 << 20;
  };

  HttpServer(const Router* router, Metrics* metrics, Options options);
  ~HttpServer();  // Stop()s

  // Binds and starts serving. Returns false with `*error` on failure.
  bool Start(std::string* error);
  void Stop();
  // The bound port (useful with port 0), 0 before Start().
  int port() const { return port_; }

  // Converts "[host]:port" / ":port" / "host:port" into civetweb's
  // listening_ports syntax. Returns false for a malformed value.
  static bool ToCivetwebPorts(const std::string& listen, std::string* out);

 private:
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  // Sets TCP_DEFER_ACCEPT on civetweb's listening socket(s) for port_.
  void DeferAccept();

  const Router* router_;
  Metrics* metrics_;
  Options options_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace crashctl

#endif  // CRASHCTL_CMD_HTTP_SERVER_H_
