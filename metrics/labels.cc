// Label bounds and series keys shared by every component's metric families.
#include "crashctl/metrics/labels.h"

#include <algorithm>

namespace crashctl {
namespace metrics {

std::string SafeLabelValue(const std::string& value) {
  constexpr size_t kMaxBytes = 128;
  std::string out;
  out.reserve(std::min(value.size(), kMaxBytes));
  size_t i = 0;
  while (i < value.size()) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    size_t len = 1;
    bool valid = true;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      valid = false;
    }
    if (valid && i + len > value.size()) valid = false;
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(value[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len == 3) {
      const unsigned char c1 = static_cast<unsigned char>(value[i + 1]);
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 > 0x9F);
    } else if (valid && len == 4) {
      const unsigned char c1 = static_cast<unsigned char>(value[i + 1]);
      valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 > 0x8F);
    }
    std::string_view piece;
    if (!valid) {
      piece = "\xEF\xBF\xBD";  // U+FFFD
      len = 1;
    } else if (len == 1 && (c < 0x20 || c == 0x7F)) {
      piece = "_";
    } else {
      piece = std::string_view(value.data() + i, len);
    }
    if (out.size() + piece.size() > kMaxBytes) break;
    out.append(piece.data(), piece.size());
    i += len;
  }
  return out;
}

std::string LabelLimiter::Fold(const std::string& raw) {
  const std::string value = SafeLabelValue(raw);
  if (value.empty()) return "unknown";
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.count(value)) return value;
  if (seen_.size() < max_) {
    seen_.insert(value);
    return value;
  }
  return "other";
}

std::string Bounded(std::string_view value,
                    const std::vector<std::string>& known) {
  return std::find(known.begin(), known.end(), value) != known.end()
             ? std::string(value)
             : "other";
}

std::string NonEmpty(const std::string& value) {
  return value.empty() ? "unknown" : value;
}

std::string_view SeriesKey(std::initializer_list<std::string_view> values) {
  thread_local std::string key;
  key.clear();
  for (std::string_view value : values) {
    key.append(value.data(), value.size());
    key.push_back('\x1f');
  }
  return key;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5};
  return *b;
}

}  // namespace metrics
}  // namespace crashctl
