#include "fake_sentry.h"

#include <civetweb.h>
#include <zlib.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace crashctl {
namespace testing {
namespace {

bool Gunzip(const std::string& in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace

FakeSentry::FakeSentry(int port) {
  std::string listen = "127.0.0.1:" + std::to_string(port);
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads",
                           "4", nullptr};
  mg_callbacks callbacks{};
  ctx_ = mg_start(&callbacks, nullptr, options);
  if (ctx_ == nullptr) throw std::runtime_error("FakeSentry: cannot listen");
  mg_server_port ports[4];
  int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : 0;
  mg_set_request_handler(ctx_, "/api/", &FakeSentry::Handle, this);
}

FakeSentry::~FakeSentry() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

std::string FakeSentry::Dsn() const {
  return "http://0123456789abcdef0123456789abcdef@127.0.0.1:" +
         std::to_string(port_) + "/1";
}

void FakeSentry::FailNext(int count, int status,
                          std::map<std::string, std::string> headers) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_count_ = count;
  fail_status_ = status;
  fail_headers_ = std::move(headers);
}

std::vector<ReceivedEnvelope> FakeSentry::Received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

size_t FakeSentry::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool FakeSentry::WaitFor(size_t count,
                         std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

int FakeSentry::Handle(mg_connection* conn, void* self) {
  return static_cast<FakeSentry*>(self)->OnRequest(conn);
}

int FakeSentry::OnRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  std::string body;
  char buf[8192];
  for (int i = 0; i < 100000; ++i) {
    int n = mg_read(conn, buf, sizeof(buf));
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_;
    if (fail_count_ > 0) {
      --fail_count_;
      std::string extra;
      for (const auto& kv : fail_headers_) {
        extra += kv.first + ": " + kv.second + "\r\n";
      }
      mg_printf(conn,
                "HTTP/1.1 %d Failed\r\nContent-Length: 2\r\n%s"
                "Connection: close\r\n\r\n{}",
                fail_status_, extra.c_str());
      return fail_status_;
    }
  }
  const char* encoding = mg_get_header(conn, "Content-Encoding");
  if (encoding != nullptr && std::string(encoding) == "gzip") {
    std::string plain;
    if (!Gunzip(body, &plain)) {
      mg_send_http_error(conn, 400, "bad gzip");
      return 400;
    }
    body = plain;
  }
  ReceivedEnvelope env;
  env.path = info->local_uri != nullptr ? info->local_uri : "";
  const char* auth = mg_get_header(conn, "X-Sentry-Auth");
  env.auth = auth != nullptr ? auth : "";
  size_t nl1 = body.find('\n');
  size_t nl2 = nl1 == std::string::npos ? nl1 : body.find('\n', nl1 + 1);
  if (nl2 == std::string::npos) {
    mg_send_http_error(conn, 400, "bad envelope");
    return 400;
  }
  env.envelope_header = body.substr(0, nl1);
  env.item_header = body.substr(nl1 + 1, nl2 - nl1 - 1);
  env.event_json = body.substr(nl2 + 1);
  while (!env.event_json.empty() && env.event_json.back() == '\n') {
    env.event_json.pop_back();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    received_.push_back(env);
  }
  cv_.notify_all();
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: 9\r\nConnection: close\r\n\r\n{\"id\":\"\"}");
  return 200;
}

}  // namespace testing
}  // namespace crashctl
