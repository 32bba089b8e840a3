// Sentry authentication: where the public key comes from. Thread-safe.
#ifndef CRASHCTL_INGEST_AUTH_H_
#define CRASHCTL_INGEST_AUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace crashctl {
namespace ingest {

// Parses an `X-Sentry-Auth` (or `Authorization: Sentry ...`) header value:
// "Sentry sentry_key=abc, sentry_version=7, sentry_client=x/1.0".
// Returns the sentry_key, "" if none.
std::string SentryKeyFromAuthHeader(const std::string& header);
// The value of field `field` (case-insensitive name, e.g. "sentry_client")
// of such a header, "" if none.
std::string SentryAuthField(const std::string& header, std::string_view field);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_AUTH_H_
