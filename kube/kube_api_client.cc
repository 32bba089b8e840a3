#include "kube_api_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

namespace crashctl {
namespace kube {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  CURL* easy = nullptr;
  bool streaming = false;
  const KubeApiClient::DataCallback* on_data = nullptr;
  size_t max_body = 0;
  KubeResponse* response = nullptr;
  bool aborted = false;
  bool too_large = false;
};

size_t WriteCallback(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  if (t->streaming && code == 200) {
    if (!(*t->on_data)(ptr, n)) {
      t->aborted = true;
      return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
    return n;
  }
  if (t->response->body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(ptr, n);
  return n;
}

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void SetBlob(CURL* easy, CURLoption option, const std::string& pem) {
  curl_blob blob;
  blob.data = const_cast<char*>(pem.data());
  blob.len = pem.size();
  blob.flags = CURL_BLOB_COPY;
  curl_easy_setopt(easy, option, &blob);
}

}  // namespace

KubeApiClient::KubeApiClient(KubeClientConfig config, Options options)
    : config_(std::move(config)), options_(options) {
  GlobalInitOnce();
}

std::string KubeApiClient::Escape(const std::string& value) {
  GlobalInitOnce();
  char* e =
      curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
  if (e == nullptr) return value;
  std::string out(e);
  curl_free(e);
  return out;
}

std::string KubeApiClient::CurrentToken() {
  if (config_.token_file.empty()) return config_.token;
  std::lock_guard<std::mutex> lock(token_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!token_loaded_ ||
      now - token_read_ >
          std::chrono::duration<double>(options_.token_reload_seconds)) {
    std::ifstream in(config_.token_file);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string t = ss.str();
      while (!t.empty() &&
             (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) {
        t.pop_back();
      }
      token_ = t;
      token_loaded_ = true;
    } else {
      spdlog::warn("kube: cannot read token file {}; keeping the last token",
                   config_.token_file);
    }
    token_read_ = now;
  }
  return token_.empty() ? config_.token : token_;
}

KubeResponse KubeApiClient::Get(const std::string& path_and_query,
                                const std::atomic<bool>* stop) {
  return Perform("GET", path_and_query, "", 0, false, nullptr, stop);
}

KubeResponse KubeApiClient::Send(const std::string& method,
                                 const std::string& path_and_query,
                                 const std::string& body,
                                 double timeout_seconds,
                                 const std::atomic<bool>* stop) {
  return Perform(method, path_and_query, body, timeout_seconds, false, nullptr,
                 stop);
}

KubeResponse KubeApiClient::Stream(const std::string& path_and_query,
                                   const DataCallback& on_data,
                                   const std::atomic<bool>* stop) {
  return Perform("GET", path_and_query, "", 0, true, &on_data, stop);
}

KubeResponse KubeApiClient::Perform(const std::string& method,
                                    const std::string& path_and_query,
                                    const std::string& body,
                                    double timeout_seconds, bool streaming,
                                    const DataCallback* on_data,
                                    const std::atomic<bool>* stop) {
  KubeResponse response;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(),
                                                           curl_easy_cleanup);
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(
      curl_multi_init(), curl_multi_cleanup);
  if (!easy || !multi) {
    response.error = "curl init failed";
    return response;
  }
  Transfer t;
  t.easy = easy.get();
  t.streaming = streaming;
  t.on_data = on_data;
  t.max_body = streaming ? (1u << 20) : options_.max_body_bytes;
  t.response = &response;

  std::string url = config_.server + path_and_query;
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  double connect_timeout = options_.connect_timeout_seconds;
  double request_timeout = options_.request_timeout_seconds;
  if (timeout_seconds > 0) {
    connect_timeout = std::min(connect_timeout, timeout_seconds);
    request_timeout = std::min(request_timeout, timeout_seconds);
  }
  // At least 1 ms: 0 would mean curl's default (no limit).
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   std::max(1L, static_cast<long>(connect_timeout * 1000)));
  if (streaming) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options_.stream_idle_seconds < 1
                                           ? 1
                                           : options_.stream_idle_seconds));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(options_.stream_max_seconds * 1000));
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     std::max(1L, static_cast<long>(request_timeout * 1000)));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  }
  curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }

  std::unique_ptr<curl_slist, CurlSlistDeleter> headers;
  curl_slist* h = curl_slist_append(nullptr, "Accept: application/json");
  if (!body.empty()) {
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");  // no 100-continue round trip
  }
  std::string token = CurrentToken();
  if (!token.empty()) {
    std::string auth = "Authorization: Bearer " + token;
    h = curl_slist_append(h, auth.c_str());
  }
  headers.reset(h);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  if (token.empty() && !config_.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, config_.password.c_str());
  }

  // TLS.
  if (!config_.ca_pem.empty()) {
    SetBlob(e, CURLOPT_CAINFO_BLOB, config_.ca_pem);
  } else if (!config_.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, config_.ca_file.c_str());
  }
  if (!config_.client_cert_pem.empty()) {
    SetBlob(e, CURLOPT_SSLCERT_BLOB, config_.client_cert_pem);
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!config_.client_cert_file.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
  }
  if (!config_.client_key_pem.empty()) {
    SetBlob(e, CURLOPT_SSLKEY_BLOB, config_.client_key_pem);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!config_.client_key_file.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  curl_multi_add_handle(multi.get(), e);
  int running = 1;
  CURLcode result = CURLE_OK;
  bool stopped = false;
  // Bounded by the curl timeouts above and by `stop`.
  while (true) {
    CURLMcode mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      response.error =
          std::string("curl_multi_perform: ") + curl_multi_strerror(mc);
      break;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg == CURLMSG_DONE) result = msg->data.result;
    }
    if (running == 0) break;
    if (stop != nullptr && stop->load()) {
      stopped = true;
      break;
    }
    curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  }
  long code = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  curl_multi_remove_handle(multi.get(), e);
  if (!response.error.empty()) return response;
  if (stopped) {
    response.error = "stopped";
  } else if (t.aborted) {
    response.error = "aborted";
  } else if (t.too_large) {
    response.error = "response body larger than the limit";
  } else if (result != CURLE_OK) {
    response.error = std::string(curl_easy_strerror(result)) + " (" + url + ")";
  }
  return response;
}

}  // namespace kube
}  // namespace crashctl
