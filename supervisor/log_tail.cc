#include "log_tail.h"

namespace crashctl {
namespace supervisor {

void LogTail::Feed(int stream, const char* data, size_t len) {
  std::string& partial = partial_[stream & 1];
  for (size_t i = 0; i < len; ++i) {
    char c = data[i];
    if (c == '\n') {
      if (!partial.empty() && partial.back() == '\r') partial.pop_back();
      Push(std::move(partial));
      partial.clear();
      truncated_[stream & 1] = false;
    } else if (partial.size() < kMaxLineBytes) {
      partial.push_back(c);
    } else {
      truncated_[stream & 1] = true;
    }
  }
}

void LogTail::Finish() {
  for (std::string& partial : partial_) {
    if (!partial.empty()) Push(std::move(partial));
    partial.clear();
  }
}

std::vector<std::string> LogTail::Lines() const {
  return std::vector<std::string>(lines_.begin(), lines_.end());
}

void LogTail::Push(std::string line) {
  lines_.push_back(std::move(line));
  while (lines_.size() > max_lines_) lines_.pop_front();
}

}  // namespace supervisor
}  // namespace crashctl
