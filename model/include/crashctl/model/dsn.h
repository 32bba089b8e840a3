// DSNs: the one module that parses and formats them on the server side
// (the C++ SDK keeps its own parser, sdk/support/dsn.h, because it must not
// depend on server libraries). A DSN names a project's ingestion endpoint
// and key: "http://KEY@host:port[/prefix]/PROJECT_ID"; the short form is
// base_url + "/api/v1/events?key=KEY".
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_MODEL_DSN_H_
#define CRASHCTL_MODEL_DSN_H_

#include <cstdint>
#include <string>

namespace crashctl {
namespace model {

// A parsed DSN (an optional path prefix before the project id is allowed).
struct Dsn {
  std::string scheme;
  std::string public_key;
  std::string host;  // host[:port]
  std::string path_prefix;
  int64_t project_id = 0;
};

// Returns false when `dsn` is not of that form.
bool ParseDsn(const std::string& dsn, Dsn* out);

// The Sentry-form DSN of a project: base_url "http://host:9190[/prefix]"
// (a trailing '/' is ignored; no scheme means http) gives
// "http://KEY@host:9190[/prefix]/ID".
std::string FormatDsn(const std::string& base_url, const std::string& key,
                      int64_t project_id);

// The short form: base_url + "/api/v1/events?key=" + KEY.
std::string FormatShortDsn(const std::string& base_url, const std::string& key);

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_DSN_H_
