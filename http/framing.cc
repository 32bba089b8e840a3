#include "framing.h"

#include <strings.h>

#include <limits>

namespace crashctl {
namespace http {
namespace {

bool SameName(std::string_view name, const char* wanted) {
  const size_t n = std::char_traits<char>::length(wanted);
  return name.size() == n && strncasecmp(name.data(), wanted, n) == 0;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Shows a client's header value in an error message: bounded, printable.
std::string Shown(std::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < 40; ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (value.size() > 40) out += "...";
  return out + "\"";
}

BodyFraming Invalid(std::string error) {
  BodyFraming framing;
  framing.kind = BodyFraming::kInvalid;
  framing.error = std::move(error);
  return framing;
}

}  // namespace

BodyFraming CheckBodyFraming(
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string_view http_version, bool header_count_capped) {
  if (header_count_capped) {
    return Invalid("too many header fields (at most 63 are read)");
  }
  bool has_length = false;
  std::string_view length_text;
  int transfer_encodings = 0;
  std::string_view transfer_encoding;
  for (const auto& [name, raw_value] : headers) {
    if (SameName(name, "content-length")) {
      const std::string_view value = TrimBlanks(raw_value);
      if (value.empty()) return Invalid("empty Content-Length");
      for (char c : value) {
        if (c < '0' || c > '9') {
          return Invalid("Content-Length " + Shown(raw_value) +
                         " is not a decimal number");
        }
      }
      if (has_length && value != length_text) {
        return Invalid("conflicting Content-Length headers " +
                       Shown(length_text) + " and " + Shown(value));
      }
      has_length = true;
      length_text = value;
    } else if (SameName(name, "transfer-encoding")) {
      ++transfer_encodings;
      transfer_encoding = TrimBlanks(raw_value);
    }
  }
  if (transfer_encodings > 0) {
    if (has_length) {
      return Invalid("Transfer-Encoding and Content-Length in one request");
    }
    if (transfer_encodings > 1 ||
        !(transfer_encoding.size() == 7 &&
          strncasecmp(transfer_encoding.data(), "chunked", 7) == 0)) {
      return Invalid("Transfer-Encoding " + Shown(transfer_encoding) +
                     " is not supported (only one \"chunked\")");
    }
    if (http_version == "1.0") {
      return Invalid("Transfer-Encoding in an HTTP/1.0 request");
    }
    BodyFraming framing;
    framing.kind = BodyFraming::kChunked;
    return framing;
  }
  BodyFraming framing;
  if (!has_length) return framing;
  framing.kind = BodyFraming::kLength;
  // Leading zeros are allowed by the grammar; more than 18 significant
  // digits cannot be a length any limit accepts.
  size_t i = 0;
  while (i + 1 < length_text.size() && length_text[i] == '0') ++i;
  if (length_text.size() - i > 18) {
    framing.length = std::numeric_limits<int64_t>::max();
    return framing;
  }
  int64_t value = 0;
  for (; i < length_text.size(); ++i)
    value = value * 10 + (length_text[i] - '0');
  framing.length = value;
  return framing;
}

}  // namespace http
}  // namespace crashctl
