// bare-server: a civetweb server that answers every request 200 {"id":""}
// at once after reading the body. The ceiling crashctl is measured against:
// same HTTP library, same thread settings, no work.
//
//   bare-server PORT
#include <civetweb.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "http/wire.h"

namespace {

int Answer(mg_connection* conn, void*) {
  char buffer[16384];
  while (mg_read(conn, buffer, sizeof(buffer)) > 0) {
  }
  // The same one-write response crashctl sends (core/http_wire.h).
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string wire = crashctl::http::SerializeHttpResponse(
      crashctl::http::HttpResponse::Json(200, "{\"id\":\"\"}"),
      info->http_version,
      crashctl::http::RequestWantsKeepAlive(mg_get_header(conn, "Connection"),
                                            info->http_version),
      false, std::time(nullptr));
  mg_write(conn, wire.data(), wire.size());
  return 200;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bare-server PORT\n");
    return 2;
  }
  const std::string ports = std::string("127.0.0.1:") + argv[1];
  const char* options[] = {"listening_ports",
                           ports.c_str(),
                           "num_threads",
                           "64",
                           "enable_keep_alive",
                           "yes",
                           "keep_alive_timeout_ms",
                           "10000",
                           "tcp_nodelay",
                           "1",
                           nullptr};
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  mg_init_library(0);
  mg_context* ctx = mg_start(nullptr, nullptr, options);
  if (!ctx) {
    std::fprintf(stderr, "bare-server: cannot listen on %s\n", ports.c_str());
    return 1;
  }
  mg_set_request_handler(ctx, "/", &Answer, nullptr);
  int sig = 0;
  sigwait(&stop, &sig);
  mg_stop(ctx);
  return 0;
}
