// Posts one envelope to a Sentry-protocol endpoint with libcurl.
// Thread-safety: PostEnvelope is thread-safe (one curl easy handle per call);
// call EnsureCurlInitialized() once before threads start (Init does).
#ifndef CRASHCTL_SDK_SRC_HTTP_SENDER_H_
#define CRASHCTL_SDK_SRC_HTTP_SENDER_H_

#include <atomic>
#include <chrono>
#include <string>

#include "crashctl/sdk/support/dsn.h"

namespace crashctl {
namespace sdk {

struct SendResult {
  int status = 0;               // HTTP status; 0 when no response
  int retry_after_seconds = 0;  // from X-Sentry-Rate-Limits / Retry-After
  // X-Sentry-Rate-Limits' wait for the "transaction" category alone (0:
  // none, or only as part of the limit above).
  int transaction_retry_after_seconds = 0;
  std::string error;  // transport error, "" if a response came

  bool Delivered() const { return status >= 200 && status < 300; }
  bool RateLimited() const { return status == 429; }
  // Network failures and 5xx are worth retrying; other 4xx are not.
  bool Retryable() const { return status == 0 || status >= 500; }
};

void EnsureCurlInitialized();

// POSTs `envelope` (gzip-compressed) to dsn.EnvelopeUrl() with X-Sentry-Auth.
// Gives up after `timeout`, or as soon as *abort becomes true.
SendResult PostEnvelope(const Dsn& dsn, const std::string& envelope,
                        std::chrono::milliseconds timeout,
                        const std::atomic<bool>* abort = nullptr);

// Seconds to wait for the "error" category from an X-Sentry-Rate-Limits
// value ("60:error;default:organization, 10::key"), 0 if none applies.
int ParseRateLimits(const std::string& header);
// The same for another category (e.g. "transaction"): groups naming it or
// no category at all.
int ParseRateLimits(const std::string& header, const std::string& category);

// Seconds from a Retry-After value (delta-seconds); 60 if unparsable.
int ParseRetryAfter(const std::string& header);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_HTTP_SENDER_H_
