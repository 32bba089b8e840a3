#include "cmd/http_server.h"

#include <civetweb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <vector>

#include "core/http_wire.h"
#include "exporter/metrics.h"

namespace crashctl {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Sends the whole response with one write (see core/http_wire.h).
void WriteResponse(mg_connection* conn, const HttpResponse& response,
                   bool head) {
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string wire = SerializeHttpResponse(
      response, info->http_version,
      RequestWantsKeepAlive(mg_get_header(conn, "Connection"),
                            info->http_version),
      head, std::time(nullptr));
  mg_write(conn, wire.data(), wire.size());
}

enum class BodyRead { kOk, kTooLarge, kIncomplete };

// Reads the request body into `*body`: at most `limit` bytes (kTooLarge: the
// rest is not read, the connection will be closed), and all of it before
// `deadline` (kIncomplete, as when the client closes before Content-Length
// bytes arrived). Each read is also bounded by civetweb's request timeout.
BodyRead ReadBody(mg_connection* conn, long long content_length, size_t limit,
                  std::chrono::steady_clock::time_point deadline,
                  std::string* body) {
  if (content_length > static_cast<long long>(limit)) {
    return BodyRead::kTooLarge;
  }
  if (content_length > 0) body->reserve(static_cast<size_t>(content_length));
  char buffer[16384];
  for (;;) {
    const int n = mg_read(conn, buffer, sizeof(buffer));
    if (n <= 0) break;
    body->append(buffer, static_cast<size_t>(n));
    if (body->size() > limit) return BodyRead::kTooLarge;
    if (std::chrono::steady_clock::now() > deadline) {
      return BodyRead::kIncomplete;
    }
  }
  if (content_length > 0 &&
      body->size() < static_cast<size_t>(content_length)) {
    return BodyRead::kIncomplete;
  }
  return BodyRead::kOk;
}

}  // namespace

HttpServer::HttpServer(const Router* router, Metrics* metrics, Options options)
    : router_(router), metrics_(metrics), options_(std::move(options)) {}

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
  // civetweb's request_timeout_ms bounds the wait for the request headers
  // and every single read; the whole body is bounded in ReadBody().
  const std::string request_timeout = std::to_string(
      std::min(options_.header_timeout_ms, options_.request_timeout_ms));
  const std::string keep_alive = std::to_string(options_.keep_alive_timeout_ms);
  const char* civet_options[] = {
      "listening_ports", ports.c_str(), "num_threads", threads.c_str(),
      "request_timeout_ms", request_timeout.c_str(), "keep_alive_timeout_ms",
      keep_alive.c_str(), "enable_keep_alive", "yes",
      // Responses are one write each; without TCP_NODELAY a response
      // that does not fill a packet could still wait for the client's
      // delayed ACK of the previous one (~40 ms).
      "tcp_nodelay", "1", "listen_backlog", "1024", "connection_queue", "1024",
      nullptr};
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
  mg_init_library(0);
  context_ = mg_start(&callbacks, this, civet_options);
  if (context_ == nullptr) {
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
}

int HttpServer::HandleRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Handle(conn);
}

int HttpServer::Handle(mg_connection* conn) {
  const auto start = std::chrono::steady_clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  request.path = info->local_uri ? info->local_uri : "/";
  request.query = info->query_string ? info->query_string : "";
  request.remote_addr = info->remote_addr;
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers[Lower(info->http_headers[i].name)] =
        info->http_headers[i].value ? info->http_headers[i].value : "";
  }

  HttpResponse response;
  std::string route = "unmatched";
  const BodyRead read =
      ReadBody(conn, info->content_length, options_.max_body_bytes,
               start + std::chrono::milliseconds(options_.request_timeout_ms),
               &request.body);
  if (read == BodyRead::kTooLarge) {
    response = HttpResponse::Error(
        413, "request body exceeds " + std::to_string(options_.max_body_bytes) +
                 " bytes");
    response.headers.emplace_back("Connection", "close");
    if (metrics_) metrics_->IngestRejected("too_large");
  } else if (read == BodyRead::kIncomplete) {
    response = HttpResponse::Error(
        408, "request body incomplete within " +
                 std::to_string(options_.request_timeout_ms) + " ms");
    response.headers.emplace_back("Connection", "close");
  } else {
    try {
      response = router_->Dispatch(request, &route);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} failed: {}", request.method, request.path,
                    e.what());
      response = HttpResponse::Error(500, "internal error");
    }
  }
  WriteResponse(conn, response, request.method == "HEAD");
  if (metrics_) {
    metrics_->HttpRequest(
        route, request.method, response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  return response.status;
}

}  // namespace crashctl
