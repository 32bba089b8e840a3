// WatchLineBuffer: splits a byte stream (a Kubernetes watch response body,
// delivered in arbitrary chunks) into complete newline-terminated lines.
//
// Feed() may split a line anywhere, even inside a UTF-8 sequence; a line is
// returned only once its '\n' has arrived. A line longer than `max_line`
// bytes is dropped (counted in overflows()) up to its terminating '\n', so
// memory stays bounded whatever the server sends. Empty lines and a trailing
// '\r' are dropped.
//
// Thread-safety: none; one buffer per stream, used by one thread.
#ifndef CRASHCTL_KUBE_WATCH_LINE_BUFFER_H_
#define CRASHCTL_KUBE_WATCH_LINE_BUFFER_H_

#include <cstddef>
#include <string>
#include <vector>

namespace crashctl {
namespace kube {

class WatchLineBuffer {
 public:
  static constexpr size_t kDefaultMaxLine = 16 << 20;  // 16 MiB

  explicit WatchLineBuffer(size_t max_line = kDefaultMaxLine)
      : max_line_(max_line) {}
  WatchLineBuffer(const WatchLineBuffer&) = delete;
  WatchLineBuffer& operator=(const WatchLineBuffer&) = delete;

  // Appends `size` bytes; appends every line completed by them to `*lines`.
  void Feed(const char* data, size_t size, std::vector<std::string>* lines);
  void Feed(const std::string& data, std::vector<std::string>* lines) {
    Feed(data.data(), data.size(), lines);
  }

  // Bytes of the incomplete last line held (0 after a line ends).
  size_t pending() const { return partial_.size(); }
  // Number of lines dropped for exceeding max_line.
  size_t overflows() const { return overflows_; }
  // Forgets any incomplete line (the stream ended or was cut).
  void Reset() {
    partial_.clear();
    skipping_ = false;
  }

 private:
  void Emit(std::string* line, std::vector<std::string>* lines);

  size_t max_line_;
  std::string partial_;
  bool skipping_ = false;  // inside an oversized line: drop until '\n'
  size_t overflows_ = 0;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_WATCH_LINE_BUFFER_H_
