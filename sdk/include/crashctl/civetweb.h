// Wraps civetweb request handlers so that an exception escaping a handler is
// reported to crashctl (tags method, route, status=500) and answered with
// HTTP 500 instead of killing the server thread.
//
//   MyHandler handler;
//   crashctl::sdk::CapturingHandler safe(&handler, "/api/orders");
//   server.addHandler("/api/orders", safe);
//
// Thread-safety: as thread-safe as the wrapped handler (civetweb calls
// handlers from many threads); the wrapper adds no state of its own.
#ifndef CRASHCTL_CIVETWEB_H_
#define CRASHCTL_CIVETWEB_H_

#include <CivetServer.h>

#include <string>

namespace crashctl {
namespace sdk {

class CapturingHandler : public CivetHandler {
 public:
  // `inner` must outlive this wrapper. `route` is the pattern it serves.
  CapturingHandler(CivetHandler* inner, std::string route)
      : inner_(inner), route_(std::move(route)) {}

  // civetweb calls one of the two forms depending on its version.
  bool handleGet(CivetServer* server, mg_connection* conn) override;
  bool handleGet(CivetServer* server, mg_connection* conn,
                 int* status) override;
  bool handlePost(CivetServer* server, mg_connection* conn) override;
  bool handlePost(CivetServer* server, mg_connection* conn,
                  int* status) override;
  bool handleHead(CivetServer* server, mg_connection* conn) override;
  bool handleHead(CivetServer* server, mg_connection* conn,
                  int* status) override;
  bool handlePut(CivetServer* server, mg_connection* conn) override;
  bool handlePut(CivetServer* server, mg_connection* conn,
                 int* status) override;
  bool handleDelete(CivetServer* server, mg_connection* conn) override;
  bool handleDelete(CivetServer* server, mg_connection* conn,
                    int* status) override;
  bool handleOptions(CivetServer* server, mg_connection* conn) override;
  bool handleOptions(CivetServer* server, mg_connection* conn,
                     int* status) override;
  bool handlePatch(CivetServer* server, mg_connection* conn) override;
  bool handlePatch(CivetServer* server, mg_connection* conn,
                   int* status) override;

 private:
  template <typename Call>
  bool Guard(const char* method, mg_connection* conn, int* status, Call call);

  CivetHandler* inner_;
  std::string route_;
};

// For plain mg_set_request_handler callbacks: wraps `handler(conn, cbdata)`.
// Returns the handler's result, or 500 after reporting an exception.
int CaptureRequest(mg_connection* conn, const std::string& route,
                   int (*handler)(mg_connection*, void*), void* cbdata);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_CIVETWEB_H_
