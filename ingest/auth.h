// Sentry authentication: where the public key comes from. Thread-safe.
#ifndef CRASHCTL_INGEST_AUTH_H_
#define CRASHCTL_INGEST_AUTH_H_

#include <cstdint>
#include <string>

namespace crashctl {

// Parses an `X-Sentry-Auth` (or `Authorization: Sentry ...`) header value:
// "Sentry sentry_key=abc, sentry_version=7, sentry_client=x/1.0".
// Returns the sentry_key, "" if none.
std::string SentryKeyFromAuthHeader(const std::string& header);

// A parsed DSN "http://KEY@host:port/PROJECT_ID" (an optional path prefix
// before the project id is allowed).
struct Dsn {
  std::string scheme;
  std::string public_key;
  std::string host;  // host[:port]
  std::string path_prefix;
  int64_t project_id = 0;
};

// Returns false when `dsn` is not of that form.
bool ParseDsn(const std::string& dsn, Dsn* out);

// Formats the Sentry-form DSN for a project.
std::string FormatDsn(const std::string& base_url, const std::string& key,
                      int64_t project_id);

}  // namespace crashctl

#endif  // CRASHCTL_INGEST_AUTH_H_
