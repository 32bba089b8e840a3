#include "crashctl/civetweb.h"

#include <exception>
#include <stdexcept>

#include "crashctl/sdk.h"

namespace crashctl {
namespace sdk {
namespace {

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
  try {
    return call();
  } catch (const std::exception& e) {
    Report(e, method, route_);
  } catch (...) {
    Report(std::runtime_error("non-std::exception thrown"), method, route_);
  }
  Answer500(conn);
  if (status != nullptr) *status = 500;
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
  try {
    return handler(conn, cbdata);
  } catch (const std::exception& e) {
    Report(e, method, route);
  } catch (...) {
    Report(std::runtime_error("non-std::exception thrown"), method, route);
  }
  Answer500(conn);
  return 500;
}

}  // namespace sdk
}  // namespace crashctl
