// HttpPoster: POSTs JSON bodies to one URL over one reused libcurl handle.
//
// Thread-safety: not thread-safe; each sender thread owns its own poster.
#ifndef CRASHCTL_ALERTMANAGER_HTTP_POSTER_H_
#define CRASHCTL_ALERTMANAGER_HTTP_POSTER_H_

#include <string>

namespace crashctl {
namespace alertmanager {

class HttpPoster {
 public:
  // `timeout` bounds the whole request (connect + send + answer), seconds.
  HttpPoster(std::string url, double timeout);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  struct Result {
    int status = 0;     // HTTP status, 0 when no answer (connect, timeout)
    std::string error;  // transport error or "HTTP <status>: <body start>"
    bool ok() const { return status >= 200 && status < 300; }
    // Worth another attempt: no answer, 408, 429 or 5xx.
    bool retryable() const {
      return status == 0 || status == 408 || status == 429 || status >= 500;
    }
  };
  Result PostJson(const std::string& body);
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  double timeout_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_ALERTMANAGER_HTTP_POSTER_H_
