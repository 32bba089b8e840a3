// A parsed Sentry DSN:
// "<scheme>://<public_key>[:secret]@<host>[:port][/path]/<project_id>".
// Thread-safety: a value type; const methods are thread-safe.
#ifndef CRASHCTL_SDK_SRC_DSN_H_
#define CRASHCTL_SDK_SRC_DSN_H_

#include <string>

namespace crashctl {
namespace sdk {

struct Dsn {
  std::string raw;
  std::string scheme;      // http or https
  std::string public_key;  // sentry_key
  std::string host_port;   // "host:port" as written
  std::string path;        // prefix before the project id, "" or "/sub"
  std::string project_id;  // digits

  // Parses `text`; on failure returns false and sets *error.
  static bool Parse(const std::string& text, Dsn* out, std::string* error);

  // "<scheme>://<host_port><path>/api/<project_id>/envelope/"
  std::string EnvelopeUrl() const;
  // Value of the X-Sentry-Auth header.
  std::string AuthHeader() const;
};

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_DSN_H_
