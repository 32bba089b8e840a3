// Keeps the last N lines written by a child on its stdout and stderr.
// Thread-safety: not thread-safe; owned by the supervisor's poll loop.
#ifndef CRASHCTL_SUPERVISOR_LOG_TAIL_H_
#define CRASHCTL_SUPERVISOR_LOG_TAIL_H_

#include <deque>
#include <string>
#include <vector>

namespace crashctl {
namespace supervisor {

class LogTail {
 public:
  static constexpr size_t kMaxLineBytes = 2048;  // longer lines are cut

  explicit LogTail(size_t max_lines = 100) : max_lines_(max_lines) {}
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  // Appends raw output of stream 0 (stdout) or 1 (stderr).
  void Feed(int stream, const char* data, size_t len);
  // Ends every unfinished line (call once the child is gone).
  void Finish();
  // The kept lines, oldest first.
  std::vector<std::string> Lines() const;

 private:
  void Push(std::string line);

  size_t max_lines_;
  std::string partial_[2];
  bool truncated_[2] = {false, false};
  std::deque<std::string> lines_;
};

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_LOG_TAIL_H_
