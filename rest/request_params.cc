#include "request_params.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "crashctl/util/time.h"
#include "resource_json.h"

namespace crashctl {
namespace rest {
namespace {

// A plain non-negative decimal: digits with an optional fraction ("12",
// "0.25", "3."), finite. No sign, exponent or spaces.
bool ParseDecimal(const std::string& text, double* out) {
  bool digits = false, dot = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (!digits) return false;
  const double value = std::strtod(text.c_str(), nullptr);
  if (!std::isfinite(value)) return false;
  *out = value;
  return true;
}

}  // namespace

bool ParsePositiveId(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  if (value <= 0) return false;
  *out = value;
  return true;
}

bool ParseLimitParam(const http::HttpRequest& request, int* limit,
                     std::string* error) {
  if (!request.HasQueryParam("limit")) return true;
  const std::string text = request.QueryParam("limit");
  int64_t value = 0;
  if (!ParsePositiveId(text, &value) || value > 1000) {
    *error = "invalid limit \"" + text.substr(0, 32) +
             "\": must be an integer from 1 to 1000";
    return false;
  }
  *limit = static_cast<int>(value);
  return true;
}

bool NormalizeEventId(const std::string& text, std::string* out) {
  std::string hex;
  if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_position != (text[i] == '-')) return false;
      if (!dash_position) hex += text[i];
    }
  } else if (text.size() == 32) {
    hex = text;
  } else {
    return false;
  }
  for (char& c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  *out = hex;
  return true;
}

bool ParseTimeParam(const std::string& name, const std::string& text,
                    double* out, std::string* error) {
  if (util::ParseRfc3339(text, out)) return true;
  if (!ParseDecimal(text, out)) {
    *error = "invalid " + name + " \"" + SanitizeUtf8(text.substr(0, 64)) +
             "\": give epoch seconds or an RFC 3339 timestamp";
    return false;
  }
  return true;
}

bool ParseSinceParam(const std::string& text, double* out, std::string* error) {
  return ParseTimeParam("since", text, out, error);
}

bool NormalizeTraceId(const std::string& text, std::string* out) {
  return text.size() == 32 && NormalizeEventId(text, out);
}

bool ParseSecondsParam(const std::string& name, const std::string& text,
                       double* out, std::string* error) {
  double value = 0;
  if (!ParseDecimal(text, &value) || value > 1e9) {
    *error = "invalid " + name + " \"" + SanitizeUtf8(text.substr(0, 64)) +
             "\": give a non-negative number of seconds (e.g. 0.25)";
    return false;
  }
  *out = value;
  return true;
}

}  // namespace rest
}  // namespace crashctl
