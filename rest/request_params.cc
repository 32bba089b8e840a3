#include "request_params.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

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

std::string Quoted(const std::string& value) {
  return "\"" + SanitizeUtf8(value.substr(0, 64)) + "\"";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SplitQuery(
    const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  // Each turn consumes one '&'-separated part: at most query.size() + 1.
  while (start <= query.size() && out.size() <= kMaxQueryParams) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    out.emplace_back(
        http::UrlDecode(part.substr(0, eq), /*plus_as_space=*/true),
        eq == std::string::npos
            ? std::string()
            : http::UrlDecode(part.substr(eq + 1), /*plus_as_space=*/true));
  }
  return out;
}

std::vector<std::string> QueryParamValues(const http::HttpRequest& request,
                                          const std::string& name) {
  std::vector<std::string> values;
  for (auto& pair : SplitQuery(request.query)) {
    if (pair.first == name) values.push_back(std::move(pair.second));
  }
  return values;
}

std::string InvalidParam(const std::string& name, const std::string& value,
                         const std::string& why) {
  return "invalid \"" + name + "\": " + why + ", not " + Quoted(value);
}

bool CheckQueryParams(const http::HttpRequest& request,
                      const ParamList& allowed, std::string* error) {
  const auto pairs = SplitQuery(request.query);
  if (pairs.size() > kMaxQueryParams) {
    *error =
        "more than " + std::to_string(kMaxQueryParams) + " query parameters";
    return false;
  }
  std::set<std::string> seen;
  for (const auto& pair : pairs) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& a : allowed) {
      if (pair.first == a.name) spec = &a;
    }
    if (spec == nullptr) {
      std::string names;
      for (const ParamSpec& a : allowed) {
        names += names.empty() ? a.name : std::string(", ") + a.name;
      }
      *error = "unknown parameter " + Quoted(pair.first) +
               (names.empty() ? ": this route takes none" : ": use " + names);
      return false;
    }
    if (!seen.insert(pair.first).second && !spec->repeatable) {
      *error = "parameter " + Quoted(pair.first) + " given twice";
      return false;
    }
  }
  return true;
}

http::HttpHandler WithQueryParams(ParamList allowed,
                                  http::HttpHandler handler) {
  return [allowed = std::move(allowed),
          handler = std::move(handler)](http::HttpRequest& request) {
    std::string error;
    if (!CheckQueryParams(request, allowed, &error)) {
      return http::HttpResponse::Error(400, error);
    }
    return handler(request);
  };
}

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
    *error = InvalidParam("limit", text, "must be an integer from 1 to 1000");
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
    *error =
        InvalidParam(name, text, "give epoch seconds or an RFC 3339 timestamp");
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
    *error = InvalidParam(name, text,
                          "give a non-negative number of seconds (e.g. 0.25)");
    return false;
  }
  *out = value;
  return true;
}

}  // namespace rest
}  // namespace crashctl
