// Wraps civetweb request handlers so that an exception escaping a handler is
// reported to crashctl (tags method, route, status=500) and answered with
// HTTP 500 instead of killing the server thread; and so that every request
// is one transaction (docs/sdk.md#civetweb):
// - name: the route pattern given here, source `route`; op `http.server`;
//   request.method and request.url (the path);
// - it continues the trace of incoming `sentry-trace` (else `traceparent`)
//   and `baggage` headers, and is sampled as crashctl::sdk::Options says;
// - it is the handler thread's current span (SpanScope) while the handler
//   runs, so errors captured there carry its contexts.trace, and
//   CurrentSpan().TraceHeaders() gives the headers for outgoing calls;
// - response status: 500 after an exception; else the status the handler's
//   `int* status` form returned; else one it set with
//   CurrentSpan().SetHttpStatus(code); else 200 when it handled the request
//   (civetweb does not tell a handler's status otherwise); else none
//   (span status unknown).
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

// For plain mg_set_request_handler callbacks: wraps `handler(conn, cbdata)`
// (one transaction, as above; the response status is the handler's result
// when it is 100..599). Returns the handler's result, or 500 after
// reporting an exception.
int CaptureRequest(mg_connection* conn, const std::string& route,
                   int (*handler)(mg_connection*, void*), void* cbdata);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_CIVETWEB_H_
