#include "tests/tracing/envelope_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace crashctl {
namespace tracing {
namespace testing {
namespace {

constexpr size_t kMaxRequest = 8 << 20;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool Gunzip(const std::string& in, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK && out->size() < kMaxRequest) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END;
}

}  // namespace

EnvelopeSink::EnvelopeSink() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd_, 16) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd_);
    fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

EnvelopeSink::~EnvelopeSink() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

std::string EnvelopeSink::Dsn(int project) const {
  return "http://0123456789abcdef0123456789abcdef@127.0.0.1:" +
         std::to_string(port_) + "/" + std::to_string(project);
}

std::vector<std::string> EnvelopeSink::Bodies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bodies_;
}

void EnvelopeSink::Loop() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept(fd_, nullptr, nullptr);
    if (client < 0) continue;
    timeval tv{5, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    Serve(client);
    close(client);
  }
}

// One request per connection ("Connection: close"): headers, then a
// Content-Length or chunked body.
void EnvelopeSink::Serve(int client) {
  std::string data;
  char buf[16384];
  size_t header_end = std::string::npos;
  auto read_more = [&]() {
    const ssize_t n = recv(client, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    return data.size() < kMaxRequest;
  };
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return;
  }
  const std::string head = Lower(data.substr(0, header_end));
  size_t pos = header_end + 4;
  std::string body;
  auto header = [&head](const std::string& name) -> std::string {
    const size_t at = head.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    const size_t start = at + name.size() + 3;
    const size_t end = head.find("\r\n", start);
    std::string v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
    return v;
  };
  if (header("transfer-encoding") == "chunked") {
    for (;;) {
      size_t eol;
      while ((eol = data.find("\r\n", pos)) == std::string::npos) {
        if (!read_more()) return;
      }
      const size_t size = std::strtoul(data.c_str() + pos, nullptr, 16);
      pos = eol + 2;
      while (data.size() < pos + size + 2) {
        if (!read_more()) return;
      }
      if (size == 0) break;
      body.append(data, pos, size);
      pos += size + 2;
    }
  } else {
    const size_t length =
        std::strtoul(header("content-length").c_str(), nullptr, 10);
    while (data.size() < pos + length) {
      if (!read_more()) return;
    }
    body = data.substr(pos, length);
  }
  if (header("content-encoding") == "gzip") {
    std::string plain;
    if (!Gunzip(body, &plain)) return;
    body = std::move(plain);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    bodies_.push_back(std::move(body));
  }
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
  send(client, response.data(), response.size(), MSG_NOSIGNAL);
}

std::vector<std::string> TransactionItems(const std::string& envelope) {
  std::vector<std::string> out;
  size_t pos = envelope.find('\n');  // after the envelope header
  while (pos != std::string::npos && pos < envelope.size()) {
    ++pos;
    const size_t eol = envelope.find('\n', pos);
    const std::string header =
        envelope.substr(pos, eol == std::string::npos ? eol : eol - pos);
    if (header.empty()) {
      pos = eol;
      continue;
    }
    rapidjson::Document doc;
    doc.Parse(header.c_str());
    if (doc.HasParseError() || !doc.IsObject()) break;
    if (eol == std::string::npos) break;
    size_t start = eol + 1;
    size_t end;
    if (doc.HasMember("length") && doc["length"].IsUint64()) {
      end = start + doc["length"].GetUint64();
      if (end > envelope.size()) break;
    } else {
      end = envelope.find('\n', start);
      if (end == std::string::npos) end = envelope.size();
    }
    if (doc.HasMember("type") && doc["type"].IsString() &&
        std::string(doc["type"].GetString()) == "transaction") {
      out.push_back(envelope.substr(start, end - start));
    }
    pos = end < envelope.size() ? end : std::string::npos;
  }
  return out;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace testing
}  // namespace tracing
}  // namespace crashctl
