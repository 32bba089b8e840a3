// HttpServer: serves a Router over civetweb on one listener.
//
// civetweb serves one connection per worker thread, so slow and idle clients
// are bounded here (docs/performance.md says exactly how):
// - a connection that has sent nothing is not handed to a worker until its
//   first bytes arrive (TCP_DEFER_ACCEPT);
// - the request line and headers must arrive within header_timeout_ms
//   (civetweb's own whole-header deadline; then 408), at most
//   max_header_bytes of them (else 431);
// - the body must arrive within request_timeout_ms of the headers, and after
//   the first body_grace_ms at min_body_rate bytes per second on average,
//   however the bytes arrive (else 408): a DeadlineWatchdog interrupts a read
//   that waits past its deadline;
// - one client address holds at most max_connections_per_client connections
//   (else 429);
// - body framing is checked strictly (core/http_framing.h) before anything is
//   read (else 400).
// Every such refusal, and every response marked `close`, closes the
// connection: nothing after it is read as a request. The responses are JSON
// ({"error": ...}) like every other answer.
//
// Counts every request in crashctl_http_requests_total{route,method,code}
// (route = the matched pattern, also for requests refused before their body
// was read) and every refusal in crashctl_http_refused_total{reason}; a
// refusal of a route's request is also reported to the route's on_refused.
//
// Thread-safety: Start()/Stop() from one owner thread; the router is called
// from civetweb's worker threads concurrently.
#ifndef CRASHCTL_CMD_HTTP_SERVER_H_
#define CRASHCTL_CMD_HTTP_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crashctl/http/http.h"

struct mg_context;
struct mg_connection;

namespace crashctl {
namespace http {

class DeadlineWatchdog;
class Metrics;

class HttpServer {
 public:
  struct Options {
    std::string listen = ":9190";      // "[host]:port"
    int threads = 512;                 // concurrent connections served
    int request_timeout_ms = 30000;    // whole body, from the headers' end
    int header_timeout_ms = 10000;     // request line + headers; also the
                                       // longest a read waits for one byte
    int keep_alive_timeout_ms = 5000;  // idle between keep-alive requests
    int defer_accept_seconds = 10;     // 0 = no TCP_DEFER_ACCEPT
    size_t max_body_bytes = 20 << 20;
    size_t max_header_bytes = 16384;  // request line + headers
    // Bytes per second a body must average once body_grace_ms have passed;
    // 0 = no minimum rate.
    int64_t min_body_rate = 1024;
    int body_grace_ms = 5000;
    // Connections one client address may hold; 0 = no limit.
    int max_connections_per_client = 128;
  };

  HttpServer(const Router* router, Metrics* metrics, Options options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. Returns false with `*error` on failure.
  bool Start(std::string* error);
  void Stop();
  // The bound port (useful with port 0), 0 before Start().
  int port() const { return port_; }

  // Converts "[host]:port" / ":port" / "host:port" into civetweb's
  // listening_ports syntax. Returns false for a malformed value.
  static bool ToCivetwebPorts(const std::string& listen, std::string* out);

  // Per worker thread; defined in http_server.cc.
  struct Worker;

 private:
  static int HandleRequest(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  // civetweb's own errors (malformed request, headers too large or too
  // slow) as JSON.
  int HandleCivetwebError(mg_connection* conn, int status, const char* message);
  // Refuses the request for `match`: counts it, answers `response` and
  // closes the connection.
  int Refuse(mg_connection* conn, const std::string& method,
             const Router::Match& match, const std::string& reason,
             HttpResponse response,
             std::chrono::steady_clock::time_point start);
  void Count(const std::string& route, const std::string& method, int status,
             std::chrono::steady_clock::time_point start);
  // Sets TCP_DEFER_ACCEPT on civetweb's listening socket(s) for port_.
  void DeferAccept();

  // Connections per client address.
  void ClientConnected(const std::string& address);
  void ClientClosed(const std::string& address);
  int ClientConnections(const std::string& address);

  const Router* router_;
  Metrics* metrics_;
  Options options_;
  mg_context* context_ = nullptr;
  int port_ = 0;
  std::unique_ptr<DeadlineWatchdog> watchdog_;
  std::mutex clients_mu_;
  std::map<std::string, int> clients_;  // at most one entry per connection
};

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_CMD_HTTP_SERVER_H_
