#include "auth.h"

#include <cctype>
#include <string_view>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace ingest {
namespace {

bool IsSeparator(char c) {
  return c == ',' || std::isspace(static_cast<unsigned char>(c));
}

}  // namespace

std::string SentryAuthField(const std::string& header, std::string_view field) {
  // Tokens are `name=value` pairs separated by commas and/or whitespace; a
  // leading bare "Sentry" scheme token is skipped. The loop advances at
  // least one byte per pass.
  std::string_view s(header);
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSeparator(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSeparator(s[i]) && s[i] != '=') ++i;
    std::string_view name = s.substr(start, i - start);
    // Allow spaces around '='.
    size_t j = i;
    while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) {
      ++j;
    }
    if (j >= s.size() || s[j] != '=') continue;  // bare token ("Sentry")
    i = j + 1;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      size_t end = s.find('"', i + 1);
      if (end == std::string_view::npos) end = s.size();
      value = s.substr(i + 1, end - i - 1);
      i = end < s.size() ? end + 1 : end;
    } else {
      start = i;
      while (i < s.size() && !IsSeparator(s[i])) ++i;
      value = s.substr(start, i - start);
    }
    if (util::EqualsIgnoreCase(name, field)) return std::string(value);
  }
  return "";
}

std::string SentryKeyFromAuthHeader(const std::string& header) {
  return SentryAuthField(header, "sentry_key");
}

}  // namespace ingest
}  // namespace crashctl
