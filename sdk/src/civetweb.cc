#include "crashctl/civetweb.h"

#include <exception>
#include <stdexcept>

#include "crashctl/sdk.h"
#include "tracing.h"

namespace crashctl {
namespace sdk {
namespace {

const char* Header(mg_connection* conn, const char* name) {
  const char* v = mg_get_header(conn, name);
  return v != nullptr ? v : "";
}

Transaction StartRequest(mg_connection* conn, const std::string& route,
                         const char* method) {
  const mg_request_info* info = mg_get_request_info(conn);
  std::string uri =
      info != nullptr && info->local_uri != nullptr ? info->local_uri : "";
  TransactionContext context;
  context.name = route;
  context.op = "http.server";
  context.source = "route";
  context.sentry_trace = Header(conn, "sentry-trace");
  context.traceparent = Header(conn, "traceparent");
  context.baggage = Header(conn, "baggage");
  context.attributes["http.method"] = method;
  context.attributes["url"] = uri;
  Transaction tx = StartTransaction(context);
  tx.SetRequest(method, uri);
  return tx;
}

// One request's transaction, the current span of the handler's thread
// while it runs.
class RequestTrace {
 public:
  RequestTrace(mg_connection* conn, const std::string& route,
               const char* method)
      : tx_(StartRequest(conn, route, method)), scope_(tx_) {}
  RequestTrace(const RequestTrace&) = delete;
  RequestTrace& operator=(const RequestTrace&) = delete;

  // `status`: the response status when known (> 0); else one the handler
  // set with SetHttpStatus, else 200 when it handled the request, else
  // none (span status unknown).
  void Finish(bool handled, int status) {
    if (status <= 0) status = detail::HttpStatusOf(tx_);
    if (status <= 0 && handled) status = 200;
    if (status > 0) {
      tx_.SetHttpStatus(status);
    } else {
      tx_.SetStatus("unknown");
    }
    tx_.Finish();
  }
  void Discard() { detail::Discard(tx_); }

 private:
  Transaction tx_;
  SpanScope scope_;
};

void Report(const std::exception& e, const char* method,
            const std::string& route) {
  EventOptions opts;
  opts.tags["method"] = method;
  opts.tags["route"] = route;
  opts.tags["status"] = "500";
  CaptureException(e, opts);
}

void Answer500(mg_connection* conn) {
  mg_send_http_error(conn, 500, "%s", "Internal Server Error");
}

}  // namespace

template <typename Call>
bool CapturingHandler::Guard(const char* method, mg_connection* conn,
                             int* status, Call call) {
  RequestTrace trace(conn, route_, method);
  try {
    bool handled = call();
    if (status != nullptr && *status < 0) {
      // The inner handler lacks this form: civetweb calls the other one
      // next, which records the request.
      trace.Discard();
      return handled;
    }
    trace.Finish(handled, status != nullptr ? *status : 0);
    return handled;
  } catch (const std::exception& e) {
    Report(e, method, route_);
  } catch (...) {
    Report(std::runtime_error("non-std::exception thrown"), method, route_);
  }
  Answer500(conn);
  if (status != nullptr) *status = 500;
  trace.Finish(true, 500);
  return true;
}

#define CRASHCTL_WRAP(Name, METHOD)                                       \
  bool CapturingHandler::Name(CivetServer* server, mg_connection* conn) { \
    return Guard(METHOD, conn, nullptr,                                   \
                 [&] { return inner_->Name(server, conn); });             \
  }                                                                       \
  bool CapturingHandler::Name(CivetServer* server, mg_connection* conn,   \
                              int* status) {                              \
    return Guard(METHOD, conn, status,                                    \
                 [&] { return inner_->Name(server, conn, status); });     \
  }
CRASHCTL_WRAP(handleGet, "GET")
CRASHCTL_WRAP(handlePost, "POST")
CRASHCTL_WRAP(handleHead, "HEAD")
CRASHCTL_WRAP(handlePut, "PUT")
CRASHCTL_WRAP(handleDelete, "DELETE")
CRASHCTL_WRAP(handleOptions, "OPTIONS")
CRASHCTL_WRAP(handlePatch, "PATCH")
#undef CRASHCTL_WRAP

int CaptureRequest(mg_connection* conn, const std::string& route,
                   int (*handler)(mg_connection*, void*), void* cbdata) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* method =
      info != nullptr && info->request_method ? info->request_method : "";
  RequestTrace trace(conn, route, method);
  try {
    int rc = handler(conn, cbdata);
    // 1..999: handled, and a status code when it is one.
    trace.Finish(rc > 0, rc >= 100 && rc <= 599 ? rc : 0);
    return rc;
  } catch (const std::exception& e) {
    Report(e, method, route);
  } catch (...) {
    Report(std::runtime_error("non-std::exception thrown"), method, route);
  }
  Answer500(conn);
  trace.Finish(true, 500);
  return 500;
}

}  // namespace sdk
}  // namespace crashctl
