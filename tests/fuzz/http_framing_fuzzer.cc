// libFuzzer target: core/http_framing.h CheckBodyFraming, on header lists
// made of the input's lines ("Name: value"; the first line is the HTTP
// version). Checks the verdict against the rules independently of how it
// was reached: an accepted length means every Content-Length was the same
// run of digits and there was no Transfer-Encoding; chunked means exactly
// one Transfer-Encoding "chunked" and no Content-Length.
#include <strings.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/framing.h"

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool Is(std::string_view name, const char* wanted) {
  const size_t n = std::char_traits<char>::length(wanted);
  return name.size() == n && strncasecmp(name.data(), wanted, n) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= input.size() && lines.size() < 80) {
    size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    lines.emplace_back(input.data() + start, end - start);
    start = end + 1;
  }
  const std::string_view version = lines.empty() ? "" : lines[0];
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 1));
  }
  const bool capped = headers.size() >= 64;
  const crashctl::http::BodyFraming framing =
      crashctl::http::CheckBodyFraming(headers, version, capped);
  int lengths = 0, codings = 0;
  std::string_view first_length;
  for (const auto& [name, value] : headers) {
    if (Is(name, "content-length")) {
      const std::string_view v = Trim(value);
      if (framing.kind == crashctl::http::BodyFraming::kLength) {
        if (v.empty() || v.find_first_not_of("0123456789") != v.npos) abort();
        if (lengths > 0 && v != first_length) abort();
      }
      if (lengths == 0) first_length = v;
      ++lengths;
    } else if (Is(name, "transfer-encoding")) {
      ++codings;
      if (framing.kind == crashctl::http::BodyFraming::kChunked &&
          !Is(Trim(value), "chunked")) {
        abort();
      }
    }
  }
  switch (framing.kind) {
    case crashctl::http::BodyFraming::kNone:
      if (lengths != 0 || codings != 0 || capped) abort();
      break;
    case crashctl::http::BodyFraming::kLength:
      if (lengths == 0 || codings != 0 || capped || framing.length < 0) abort();
      break;
    case crashctl::http::BodyFraming::kChunked:
      if (codings != 1 || lengths != 0 || capped || version == "1.0") abort();
      break;
    case crashctl::http::BodyFraming::kInvalid:
      if (framing.error.empty() || framing.error.size() > 300) abort();
      break;
  }
  return 0;
}
