#include "crashctl/http/server.h"

#include <civetweb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string_view>
#include <utility>
#include <vector>

#include "crashctl/http/metrics.h"
#include "deadline_watchdog.h"
#include "framing.h"
#include "wire.h"

namespace crashctl {
namespace http {

using Clock = std::chrono::steady_clock;

// What a worker thread keeps about the connection it serves (civetweb gives
// each worker one connection at a time).
struct HttpServer::Worker {
  DeadlineWatchdog::Slot* slot = nullptr;
  std::string client;  // the connection's client address
  bool counted = false;
  Clock::time_point idle_since;  // the wait for the next headers began
  int requests = 0;              // served on this connection so far
  bool closing = false;          // inside CloseAfterResponse
};

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

HttpServer* ServerOf(const mg_connection* conn) {
  return static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
}

HttpServer::Worker* WorkerOf(const mg_connection* conn) {
  return static_cast<HttpServer::Worker*>(mg_get_thread_pointer(conn));
}

bool HasCloseHeader(const HttpResponse& response) {
  for (const auto& header : response.headers) {
    if (strcasecmp(header.first.c_str(), "Connection") == 0 &&
        strcasecmp(header.second.c_str(), "close") == 0) {
      return true;
    }
  }
  return false;
}

// Sends the whole response with one write (see core/http_wire.h).
void WriteResponse(mg_connection* conn, const HttpResponse& response, bool head,
                   bool keep_alive) {
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string wire = SerializeHttpResponse(
      response, info->http_version != nullptr ? info->http_version : "1.1",
      keep_alive, head, std::time(nullptr));
  mg_write(conn, wire.data(), wire.size());
}

// Makes civetweb close the connection once the handler returns, without
// reading (or discarding) anything more from it. A request handler has no
// direct way: writing "Connection: close" does not do it, and civetweb would
// first read and discard the rest of an unread body. mg_send_http_error()
// marks the connection to be closed; after our own mg_write() it can no
// longer send headers, and for status 204 it sends no body either, so it
// writes nothing (civetweb 1.15: mg_send_http_error_impl sets must_close,
// then mg_response_header_start fails on request_state != 0). The
// http_error callback lets this call through (Worker::closing).
void CloseAfterResponse(mg_connection* conn) {
  HttpServer::Worker* worker = WorkerOf(conn);
  if (worker != nullptr) worker->closing = true;
  mg_send_http_error(conn, 204, "%s", "");
  if (worker != nullptr) worker->closing = false;
}

enum class BodyRead { kOk, kTooLarge, kTimeout, kTooSlow, kIncomplete };

struct BodyLimits {
  size_t max_bytes = 0;
  Clock::duration total{};  // whole body, from `start`
  int64_t min_rate = 0;     // bytes/s after `grace`; 0 = none
  Clock::duration grace{};
};

// Reads the request body into `*body` as framed (Content-Length or chunked;
// civetweb decodes chunks): at most `limits.max_bytes`, all of it before
// `start + limits.total`, and after `start + limits.grace` at least
// `limits.min_rate` bytes per second on average. Each mg_read() asks for at
// most `chunk` bytes and is interrupted by the watchdog at the time by which
// a client keeping to those limits would have sent them: a read still
// waiting then proves the client is too slow.
BodyRead ReadBody(mg_connection* conn, const BodyFraming& framing,
                  const BodyLimits& limits, Clock::time_point start,
                  DeadlineWatchdog::Slot* slot, std::string* body) {
  if (framing.kind == BodyFraming::kNone) return BodyRead::kOk;
  const bool chunked = framing.kind == BodyFraming::kChunked;
  if (!chunked && static_cast<uint64_t>(framing.length) > limits.max_bytes) {
    return BodyRead::kTooLarge;
  }
  const size_t total =
      chunked ? limits.max_bytes + 1 : static_cast<size_t>(framing.length);
  // Small enough that the minimum rate is checked every few seconds, large
  // enough that a fast client's body takes few calls.
  const size_t chunk = static_cast<size_t>(
      std::clamp<int64_t>(limits.min_rate * 4, 4096, 65536));
  const Clock::time_point body_deadline = start + limits.total;
  size_t stalls = 0;
  while (body->size() < total) {
    const size_t want = std::min(chunk, total - body->size());
    Clock::time_point deadline = body_deadline;
    bool rate_bound = false;
    if (limits.min_rate > 0) {
      const auto rate_deadline =
          start + limits.grace +
          std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(
                  static_cast<double>(body->size() + want) /
                  static_cast<double>(limits.min_rate)));
      if (rate_deadline < deadline) {
        deadline = rate_deadline;
        rate_bound = true;
      }
    }
    if (Clock::now() >= deadline) {
      return rate_bound ? BodyRead::kTooSlow : BodyRead::kTimeout;
    }
    const size_t have = body->size();
    body->resize(have + want);
    DeadlineWatchdog::Arm(slot, deadline);
    const int n = mg_read(conn, &(*body)[have], want);
    DeadlineWatchdog::Disarm(slot);
    body->resize(have + static_cast<size_t>(std::max(n, 0)));
    if (n > 0) {
      stalls = 0;
      continue;
    }
    if (chunked && n == 0) return BodyRead::kOk;  // the last chunk arrived
    // Interrupted at the deadline: the check above says which limit.
    if (Clock::now() >= deadline) continue;
    // The client closed, or sent a malformed chunk.
    if (n < 0) return BodyRead::kIncomplete;
    // A whole header_timeout without a byte, before the deadline.
    if (++stalls > 1000) return BodyRead::kIncomplete;
  }
  if (chunked) return BodyRead::kTooLarge;  // more than max_bytes decoded
  return BodyRead::kOk;
}

std::string MillisText(int ms) { return std::to_string(ms) + " ms"; }

}  // namespace

HttpServer::HttpServer(const Router* router, Metrics* metrics,
                       Options options)
    : router_(router),
      metrics_(metrics),
      options_(std::move(options)),
      watchdog_(std::make_unique<DeadlineWatchdog>()) {
  // The headers never get longer than the body would.
  options_.header_timeout_ms =
      std::min(options_.header_timeout_ms, options_.request_timeout_ms);
}

HttpServer::~HttpServer() { Stop(); }

bool HttpServer::ToCivetwebPorts(const std::string& listen, std::string* out) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) return false;
  const std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(),
                   [](unsigned char c) { return std::isdigit(c); }) ||
      port.size() > 5 || std::stoi(port) > 65535) {
    return false;
  }
  if (host.empty() || host == "0.0.0.0") {
    *out = host.empty() ? port : "0.0.0.0:" + port;
  } else if (host.front() == '[' && host.back() != ']') {
    return false;
  } else {
    *out = host + ":" + port;
  }
  return true;
}

bool HttpServer::Start(std::string* error) {
  std::string ports;
  if (!ToCivetwebPorts(options_.listen, &ports)) {
    *error = "server.listen: \"" + options_.listen + "\" is not [host]:port";
    return false;
  }
  const std::string threads = std::to_string(std::max(2, options_.threads));
  // civetweb's request_timeout_ms is the whole-header deadline and the
  // longest a single read waits for a byte; the body is bounded in
  // ReadBody().
  const std::string request_timeout =
      std::to_string(options_.header_timeout_ms);
  const std::string keep_alive = std::to_string(options_.keep_alive_timeout_ms);
  const std::string max_request_size =
      std::to_string(std::max<size_t>(1024, options_.max_header_bytes));
  const char* civet_options[] = {
      "listening_ports", ports.c_str(), "num_threads", threads.c_str(),
      "request_timeout_ms", request_timeout.c_str(), "keep_alive_timeout_ms",
      keep_alive.c_str(), "enable_keep_alive", "yes", "max_request_size",
      max_request_size.c_str(),
      // Responses are one write each; without TCP_NODELAY a response
      // that does not fill a packet could still wait for the client's
      // delayed ACK of the previous one (~40 ms).
      "tcp_nodelay", "1", "listen_backlog", "1024", "connection_queue", "1024",
      // civetweb answers every CORS preflight itself by default (any origin,
      // methods and headers echoed back); the Router decides per route.
      "access_control_allow_methods", "", "access_control_allow_origin", "",
      "access_control_allow_headers", "", nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = [](const mg_connection*, const char* message) {
    spdlog::warn("http: {}", message);
    return 1;
  };
  // The descriptor scan in DeferAccept() must run before civetweb's master
  // thread starts accepting: a concurrent accept() can hand out a
  // descriptor while it is being inspected (a ThreadSanitizer race).
  // civetweb calls init_context after creating the listening sockets and
  // before it starts any thread.
  callbacks.init_context = [](const mg_context* ctx) {
    auto* self = static_cast<HttpServer*>(mg_get_user_data(ctx));
    mg_server_port server_ports[4];
    const int n = mg_get_server_ports(ctx, 4, server_ports);
    if (n > 0) self->port_ = server_ports[0].port;
    if (self->options_.defer_accept_seconds > 0) self->DeferAccept();
  };
  callbacks.init_thread = [](const mg_context* ctx, int thread_type) -> void* {
    if (thread_type != 1) return nullptr;  // not a worker
    auto* self = static_cast<HttpServer*>(mg_get_user_data(ctx));
    auto* worker = new Worker;
    worker->slot = self->watchdog_->Register();
    return worker;
  };
  callbacks.exit_thread = [](const mg_context* ctx, int thread_type,
                             void* pointer) {
    if (thread_type != 1 || pointer == nullptr) return;
    auto* self = static_cast<HttpServer*>(mg_get_user_data(ctx));
    auto* worker = static_cast<Worker*>(pointer);
    self->watchdog_->Unregister(worker->slot);
    delete worker;
  };
  // A new connection: its client address is counted from its first request
  // on (civetweb's request info is not readable before).
  callbacks.init_connection = [](const mg_connection* conn, void**) -> int {
    if (Worker* worker = WorkerOf(conn)) {
      worker->counted = false;
      worker->requests = 0;
      worker->idle_since = Clock::now();
    }
    return 0;
  };
  callbacks.connection_close = [](const mg_connection* conn) {
    Worker* worker = WorkerOf(conn);
    if (worker == nullptr || !worker->counted) return;
    ServerOf(conn)->ClientClosed(worker->client);
    worker->counted = false;
  };
  callbacks.end_request = [](const mg_connection* conn, int) {
    if (Worker* worker = WorkerOf(conn)) {
      worker->idle_since = Clock::now();
      ++worker->requests;
    }
  };
  callbacks.http_error = [](mg_connection* conn, int status,
                            const char* message) -> int {
    return ServerOf(conn)->HandleCivetwebError(conn, status, message);
  };
  watchdog_->Start();
  mg_init_library(0);
  context_ = mg_start(&callbacks, this, civet_options);
  if (context_ == nullptr) {
    watchdog_->Stop();
    *error = "cannot listen on " + options_.listen +
             " (address in use or not permitted)";
    return false;
  }
  // Without an authorization handler civetweb looks for a digest password
  // file on every request ("/.htpasswd" when there is no document root): a
  // stat() per request, and a stray file there would demand HTTP digest
  // authentication from every client. Authentication is the routes' own
  // (DSN keys, API tokens), so every request is authorized here.
  mg_set_auth_handler(
      context_, "/", [](mg_connection*, void*) { return 1; }, nullptr);
  mg_set_request_handler(context_, "/", &HttpServer::HandleRequest, this);
  mg_server_port server_ports[4];
  const int n = mg_get_server_ports(context_, 4, server_ports);
  if (n > 0) port_ = server_ports[0].port;
  return true;
}

void HttpServer::DeferAccept() {
  // civetweb does not expose its listening sockets: find them among this
  // process's descriptors (listening TCP sockets bound to port_). Bounded by
  // the descriptor table size we scan.
  constexpr int kMaxFd = 4096;
  const int seconds = options_.defer_accept_seconds;
  int applied = 0;
  for (int fd = 0; fd < kMaxFd; ++fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
        !listening) {
      continue;
    }
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
      continue;
    }
    int port = 0;
    if (addr.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    }
    if (port != port_) continue;
    if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds,
                   sizeof(seconds)) == 0) {
      ++applied;
    }
  }
  if (applied == 0) {
    spdlog::warn(
        "http: could not set TCP_DEFER_ACCEPT on port {}: idle connections "
        "will occupy workers until server.request_timeout",
        port_);
  }
}

void HttpServer::Stop() {
  if (context_ != nullptr) {
    mg_stop(context_);
    context_ = nullptr;
  }
  watchdog_->Stop();
}

void HttpServer::ClientConnected(const std::string& address) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  ++clients_[address];
}

void HttpServer::ClientClosed(const std::string& address) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = clients_.find(address);
  if (it == clients_.end()) return;
  if (--it->second <= 0) clients_.erase(it);
}

int HttpServer::ClientConnections(const std::string& address) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = clients_.find(address);
  return it == clients_.end() ? 0 : it->second;
}

int HttpServer::HandleRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Handle(conn);
}

void HttpServer::Count(const std::string& route, const std::string& method,
                       int status, Clock::time_point start) {
  if (metrics_ == nullptr) return;
  metrics_->Request(
      route, method, status,
      std::chrono::duration<double>(Clock::now() - start).count());
}

int HttpServer::Refuse(mg_connection* conn, const std::string& method,
                       const Router::Match& match, const std::string& reason,
                       HttpResponse response, Clock::time_point start) {
  if (metrics_) metrics_->Refused(reason);
  if (match.route != nullptr && match.route->on_refused) {
    match.route->on_refused(reason);
  }
  WriteResponse(conn, response, method == "HEAD", /*keep_alive=*/false);
  CloseAfterResponse(conn);
  Count(match.pattern, method, response.status, start);
  return response.status;
}

int HttpServer::HandleCivetwebError(mg_connection* conn, int status,
                                    const char* message) {
  Worker* worker = WorkerOf(conn);
  // CloseAfterResponse(): let civetweb mark the connection (it sends
  // nothing).
  if (worker == nullptr || worker->closing) return 1;
  // Errors civetweb finds before a handler runs: the request line and
  // headers could not be read. They are answered as JSON, and civetweb then
  // closes the connection.
  const std::string text = message != nullptr ? message : "";
  std::string reason = "malformed";
  std::string error = "malformed request: " + text;
  const bool read_failed = status == 400 && text == "Malformed message";
  // civetweb waits keep_alive_timeout_ms for the headers of a connection's
  // later requests.
  const int header_wait_ms = worker->requests > 0
                                 ? options_.keep_alive_timeout_ms
                                 : options_.header_timeout_ms;
  if (read_failed &&
      Clock::now() - worker->idle_since >=
          std::chrono::milliseconds(std::max(0, header_wait_ms - 50))) {
    // The header deadline passed with part of a request read.
    status = 408;
    reason = "header_timeout";
    error = "request headers not complete within " + MillisText(header_wait_ms);
  } else if (read_failed || status == 413) {
    // civetweb 1.15 reports a request line + headers that fill its
    // max_request_size buffer as "Malformed message" (and would as 413);
    // the only other causes, a client that closed or reset mid-headers,
    // leave nobody to read the answer.
    status = 431;
    reason = "headers_too_large";
    error = "request line and headers exceed " +
            std::to_string(options_.max_header_bytes) + " bytes";
  } else if (status == 411) {
    status = 400;
    reason = "framing";
    error = "bad request framing: Content-Length is not a decimal number";
  } else if (status == 400 && text == "Bad request" &&
             mg_get_request_info(conn) != nullptr &&
             mg_get_header(conn, "Transfer-Encoding") != nullptr) {
    // civetweb refuses every transfer coding but chunked (and identity).
    reason = "framing";
    error =
        "bad request framing: Transfer-Encoding is not supported (only "
        "one \"chunked\")";
  } else if (status == 505) {
    reason = "bad_version";
    error = text;
  }
  if (metrics_) metrics_->Refused(reason);
  HttpResponse response = HttpResponse::Error(status, error);
  const std::string wire =
      SerializeHttpResponse(response, "1.1", false, false, std::time(nullptr));
  mg_write(conn, wire.data(), wire.size());
  return 0;
}

int HttpServer::Handle(mg_connection* conn) {
  const auto start = Clock::now();
  Worker* worker = WorkerOf(conn);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  request.path = info->local_uri ? info->local_uri : "/";
  request.query = info->query_string ? info->query_string : "";
  request.remote_addr = info->remote_addr;
  std::vector<std::pair<std::string_view, std::string_view>> raw_headers;
  raw_headers.reserve(static_cast<size_t>(info->num_headers));
  for (int i = 0; i < info->num_headers; ++i) {
    const char* name = info->http_headers[i].name;
    const char* value = info->http_headers[i].value;
    if (name == nullptr) continue;
    raw_headers.emplace_back(name, value != nullptr ? value : "");
    request.headers[Lower(name)] = value != nullptr ? value : "";
  }
  const Router::Match match = router_->Resolve(request);

  if (worker != nullptr && !worker->counted) {
    worker->client = request.remote_addr;
    ClientConnected(worker->client);
    worker->counted = true;
  }
  if (options_.max_connections_per_client > 0 && worker != nullptr &&
      ClientConnections(worker->client) > options_.max_connections_per_client) {
    HttpResponse response = HttpResponse::Error(
        429, "too many connections from " + worker->client + " (at most " +
                 std::to_string(options_.max_connections_per_client) +
                 ", server.max_connections_per_client)");
    response.headers.emplace_back("Retry-After", "1");
    return Refuse(conn, request.method, match, "connection_limit",
                  std::move(response), start);
  }
  const BodyFraming framing = CheckBodyFraming(
      raw_headers, info->http_version != nullptr ? info->http_version : "",
      info->num_headers >= 64);
  if (framing.kind == BodyFraming::kInvalid) {
    return Refuse(
        conn, request.method, match, "framing",
        HttpResponse::Error(400, "bad request framing: " + framing.error),
        start);
  }
  const bool has_body =
      framing.kind == BodyFraming::kChunked ||
      (framing.kind == BodyFraming::kLength && framing.length > 0);
  HttpResponse response;
  if (match.answered) {
    // 404, 405, a preflight or a refused cross-origin request: the body is
    // not read, so the connection cannot be reused.
    response = match.answer;
    response.close = response.close || has_body;
  } else {
    BodyLimits limits;
    limits.max_bytes = options_.max_body_bytes;
    limits.total = std::chrono::milliseconds(options_.request_timeout_ms);
    limits.min_rate = options_.min_body_rate;
    limits.grace = std::chrono::milliseconds(options_.body_grace_ms);
    switch (ReadBody(conn, framing, limits, start,
                     worker != nullptr ? worker->slot : nullptr,
                     &request.body)) {
      case BodyRead::kOk:
        break;
      case BodyRead::kTooLarge:
        return Refuse(
            conn, request.method, match, "too_large",
            HttpResponse::Error(
                413, "request body exceeds " +
                         std::to_string(options_.max_body_bytes) + " bytes"),
            start);
      case BodyRead::kTimeout:
        return Refuse(conn, request.method, match, "timeout",
                      HttpResponse::Error(
                          408, "request body not complete within " +
                                   MillisText(options_.request_timeout_ms)),
                      start);
      case BodyRead::kTooSlow:
        return Refuse(conn, request.method, match, "too_slow",
                      HttpResponse::Error(
                          408, "request body arrives slower than " +
                                   std::to_string(options_.min_body_rate) +
                                   " bytes/s (server.min_body_rate)"),
                      start);
      case BodyRead::kIncomplete:
        return Refuse(
            conn, request.method, match, "incomplete",
            HttpResponse::Error(408,
                                "request body incomplete: the client stopped "
                                "sending or closed the connection"),
            start);
    }
    try {
      response = router_->Invoke(match, request);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} failed: {}", request.method, request.path,
                    e.what());
      response = HttpResponse::Error(500, "internal error");
    }
  }
  const bool close = response.close || HasCloseHeader(response);
  WriteResponse(
      conn, response, request.method == "HEAD",
      !close && RequestWantsKeepAlive(mg_get_header(conn, "Connection"),
                                      info->http_version));
  if (close) CloseAfterResponse(conn);
  Count(match.pattern, request.method, response.status, start);
  return response.status;
}

}  // namespace http
}  // namespace crashctl
