#include "tests/releases/capture_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"

namespace crashctl::testing {
namespace {

constexpr size_t kMaxBody = 8 << 20;
constexpr int kReadTimeoutMs = 5000;

// Reads more bytes into *buf; false on EOF, error or timeout.
bool ReadMore(int fd, std::string* buf) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, kReadTimeoutMs) <= 0) return false;
  char chunk[16384];
  const ssize_t n = read(fd, chunk, sizeof(chunk));
  if (n <= 0) return false;
  buf->append(chunk, static_cast<size_t>(n));
  return buf->size() <= kMaxBody + 65536;
}

bool Inflate(const std::string& in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;  // gzip or zlib
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char chunk[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(chunk, sizeof(chunk) - zs.avail_out);
    if (out->size() > kMaxBody) rc = Z_DATA_ERROR;
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

std::string HeaderValue(std::string_view head, std::string_view name) {
  size_t pos = 0;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        util::EqualsIgnoreCase(util::Trim(line.substr(0, colon)), name)) {
      return std::string(util::Trim(line.substr(colon + 1)));
    }
    pos = end + 2;
  }
  return "";
}

}  // namespace

CaptureServer::~CaptureServer() {
  stop_ = true;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

bool CaptureServer::Start(std::string* error) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *error = std::string("bind/listen: ") + strerror(errno);
    return false;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return true;
}

std::vector<CapturedRequest> CaptureServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void CaptureServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);
    close(fd);
  }
}

void CaptureServer::HandleConnection(int fd) {
  std::string buf;
  {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > 65536 || !ReadMore(fd, &buf)) return;
    }
    const std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    CapturedRequest req;
    const size_t sp1 = head.find(' ');
    const size_t sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) return;
    req.method = head.substr(0, sp1);
    req.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string body;
    if (util::EqualsIgnoreCase(HeaderValue(head, "Transfer-Encoding"),
                               "chunked")) {
      while (true) {
        size_t eol;
        while ((eol = buf.find("\r\n")) == std::string::npos) {
          if (!ReadMore(fd, &buf)) return;
        }
        const size_t size =
            std::strtoul(buf.substr(0, eol).c_str(), nullptr, 16);
        buf.erase(0, eol + 2);
        if (size > kMaxBody) return;
        while (buf.size() < size + 2) {
          if (!ReadMore(fd, &buf)) return;
        }
        body.append(buf, 0, size);
        buf.erase(0, size + 2);
        if (size == 0) break;
        if (body.size() > kMaxBody) return;
      }
    } else {
      const size_t length = std::strtoul(
          HeaderValue(head, "Content-Length").c_str(), nullptr, 10);
      if (length > kMaxBody) return;
      while (buf.size() < length) {
        if (!ReadMore(fd, &buf)) return;
      }
      body = buf.substr(0, length);
      buf.erase(0, length);
    }
    const std::string encoding = HeaderValue(head, "Content-Encoding");
    if (util::EqualsIgnoreCase(encoding, "gzip") ||
        util::EqualsIgnoreCase(encoding, "deflate")) {
      std::string decoded;
      if (!Inflate(body, &decoded)) return;
      body = std::move(decoded);
    }
    req.body = std::move(body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(std::move(req));
    }
    static const char kAnswer[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    if (write(fd, kAnswer, sizeof(kAnswer) - 1) < 0) return;
    return;  // one request a connection: no client waits behind an idle one
  }
}

bool SplitEnvelope(std::string_view body, Envelope* out) {
  Envelope env;
  size_t nl = body.find('\n');
  env.header = std::string(body.substr(0, nl));
  {
    rapidjson::Document doc;
    doc.Parse(env.header.c_str());
    if (doc.HasParseError() || !doc.IsObject()) return false;
    auto it = doc.FindMember("sent_at");
    double t = 0;
    if (it != doc.MemberEnd() && it->value.IsString() &&
        util::ParseRfc3339Lenient(it->value.GetString(), &t)) {
      env.sent_at = t;
    }
  }
  body =
      nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
  while (!body.empty()) {
    nl = body.find('\n');
    std::string item_header(body.substr(0, nl));
    body =
        nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (util::Trim(item_header).empty()) continue;
    rapidjson::Document doc;
    doc.Parse(item_header.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type") ||
        !doc["type"].IsString()) {
      return false;
    }
    EnvelopeItem item;
    item.type = doc["type"].GetString();
    if (doc.HasMember("length") && doc["length"].IsUint64()) {
      const size_t length = doc["length"].GetUint64();
      if (length > body.size()) return false;
      item.payload = std::string(body.substr(0, length));
      body.remove_prefix(length);
      if (!body.empty() && body.front() == '\n') body.remove_prefix(1);
    } else {
      nl = body.find('\n');
      item.payload = std::string(body.substr(0, nl));
      body = nl == std::string_view::npos ? std::string_view()
                                          : body.substr(nl + 1);
    }
    env.items.push_back(std::move(item));
  }
  *out = std::move(env);
  return true;
}

}  // namespace crashctl::testing
