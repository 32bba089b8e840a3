#include "crashctl/sdk/support/http_sender.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <sstream>

namespace crashctl {
namespace sdk {
namespace {

struct Headers {
  std::string retry_after;
  std::string rate_limits;
};

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* h = static_cast<Headers*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = Trim(line.substr(colon + 1));
    if (name == "retry-after") h->retry_after = value;
    if (name == "x-sentry-rate-limits") h->rate_limits = value;
  }
  return size * n;
}

size_t OnBody(char*, size_t size, size_t n, void*) { return size * n; }

struct Progress {
  const std::atomic<bool>* abort;
};

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* p = static_cast<Progress*>(user);
  return (p->abort != nullptr && p->abort->load()) ? 1 : 0;
}

bool Gzip(const std::string& in, std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  out->resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&(*out)[0]);
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs, Z_FINISH);
  out->resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int ParseRateLimits(const std::string& header) {
  return std::max(ParseRateLimits(header, "error"),
                  ParseRateLimits(header, "default"));
}

int ParseRateLimits(const std::string& header, const std::string& category) {
  int best = 0;
  std::stringstream groups(header);
  std::string group;
  while (std::getline(groups, group, ',')) {
    group = Trim(group);
    size_t c1 = group.find(':');
    if (c1 == std::string::npos) continue;
    int secs = std::atoi(group.substr(0, c1).c_str());
    size_t c2 = group.find(':', c1 + 1);
    std::string categories = group.substr(
        c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    bool applies = categories.empty();
    std::stringstream cats(categories);
    std::string cat;
    while (std::getline(cats, cat, ';')) {
      if (cat == category) applies = true;
    }
    if (applies) best = std::max(best, secs);
  }
  return best;
}

int ParseRetryAfter(const std::string& header) {
  std::string v = Trim(header);
  if (v.empty() || !std::all_of(v.begin(), v.end(), ::isdigit)) return 60;
  return std::atoi(v.c_str());
}

SendResult PostEnvelope(const Dsn& dsn, const std::string& envelope,
                        std::chrono::milliseconds timeout,
                        const std::atomic<bool>* abort) {
  EnsureCurlInitialized();
  SendResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  std::string body;
  bool gzipped = Gzip(envelope, &body);
  if (!gzipped) body = envelope;
  std::string url = dsn.EnvelopeUrl();
  struct curl_slist* headers = nullptr;
  headers =
      curl_slist_append(headers, "Content-Type: application/x-sentry-envelope");
  headers = curl_slist_append(headers,
                              ("X-Sentry-Auth: " + dsn.AuthHeader()).c_str());
  if (gzipped) headers = curl_slist_append(headers, "Content-Encoding: gzip");
  headers = curl_slist_append(headers, "Expect:");
  Headers got;
  Progress progress{abort};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(timeout.count(), 3000)));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &got);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &progress);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "crashctl-cpp/0.1.0");
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    if (!got.rate_limits.empty()) {
      result.retry_after_seconds = ParseRateLimits(got.rate_limits);
      result.transaction_retry_after_seconds =
          ParseRateLimits(got.rate_limits, "transaction");
    }
    if (result.status == 429 && result.retry_after_seconds == 0 &&
        result.transaction_retry_after_seconds == 0) {
      result.retry_after_seconds =
          got.retry_after.empty() ? 60 : ParseRetryAfter(got.retry_after);
    }
  } else {
    result.error = "POST " + url + ": " +
                   (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace sdk
}  // namespace crashctl
