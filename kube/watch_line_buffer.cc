#include "watch_line_buffer.h"

#include <cstring>

namespace crashctl {
namespace kube {

void WatchLineBuffer::Emit(std::string* line, std::vector<std::string>* lines) {
  if (!line->empty() && line->back() == '\r') line->pop_back();
  if (!line->empty()) lines->push_back(std::move(*line));
  line->clear();
}

void WatchLineBuffer::Feed(const char* data, size_t size,
                           std::vector<std::string>* lines) {
  const char* p = data;
  const char* end = data + size;
  while (p < end) {
    const char* nl = static_cast<const char*>(
        std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = nl ? nl : end;
    size_t n = static_cast<size_t>(stop - p);
    if (!skipping_) {
      if (partial_.size() + n > max_line_) {
        // Too long: drop what we have and everything up to the next '\n'.
        partial_.clear();
        partial_.shrink_to_fit();
        skipping_ = true;
        ++overflows_;
      } else {
        partial_.append(p, n);
      }
    }
    if (nl == nullptr) break;
    if (skipping_) {
      skipping_ = false;
    } else {
      Emit(&partial_, lines);
    }
    p = nl + 1;
  }
}

}  // namespace kube
}  // namespace crashctl
