#include "raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>

namespace crashctl {
namespace testing {

int ConnectLoopback(int port, const std::string& source) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

RawClient::RawClient(int port, const std::string& source)
    : fd_(ConnectLoopback(port, source)) {}

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawClient::Send(const std::string& data) {
  size_t sent = 0;
  while (fd_ >= 0 && sent < data.size()) {
    const ssize_t n =
        send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

namespace {

// Whether `wire` holds one whole response: headers and Content-Length bytes
// of body.
bool HasWholeResponse(const std::string& wire) {
  const size_t end = wire.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  size_t length = 0;
  std::string lower = wire.substr(0, end);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  const size_t cl = lower.find("content-length:");
  if (cl != std::string::npos) {
    length = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  }
  return wire.size() >= end + 4 + length;
}

}  // namespace

std::string RawClient::ReadUntil(
    int timeout_ms, const std::function<bool(const std::string&)>& done) {
  std::string out;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[8192];
  while (fd_ >= 0 && !closed_) {
    if (done(out)) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      closed_ = true;  // EOF, or a reset after the answer
      break;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::string RawClient::ReadUntilClosed(int timeout_ms) {
  return ReadUntil(timeout_ms, [](const std::string&) { return false; });
}

std::string RawClient::ReadResponse(int timeout_ms) {
  return ReadUntil(timeout_ms, HasWholeResponse);
}

int StatusOf(const std::string& wire) {
  if (wire.rfind("HTTP/1.", 0) != 0 || wire.size() < 12) return 0;
  return std::atoi(wire.c_str() + 9);
}

std::string BodyOf(const std::string& wire) {
  const size_t end = wire.find("\r\n\r\n");
  if (end == std::string::npos) return "";
  std::string lower = wire.substr(0, end);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  const size_t cl = lower.find("content-length:");
  size_t length = wire.size() - end - 4;
  if (cl != std::string::npos) {
    length = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  }
  return wire.substr(end + 4, length);
}

int ResponseCount(const std::string& wire) {
  int count = 0;
  for (size_t pos = wire.find("HTTP/1."); pos != std::string::npos;
       pos = wire.find("HTTP/1.", pos + 1)) {
    if (pos == 0 || wire.compare(pos - 2, 2, "\r\n") == 0 ||
        wire.compare(pos - 1, 1, "}") == 0) {
      ++count;
    }
  }
  return count;
}

double MetricValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() &&
        line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return -1;
}

}  // namespace testing
}  // namespace crashctl
