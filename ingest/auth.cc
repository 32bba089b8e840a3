#include "ingest/auth.h"

#include <cctype>
#include <string_view>

namespace crashctl {
namespace {

bool IsSeparator(char c) {
  return c == ',' || std::isspace(static_cast<unsigned char>(c));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Parses a positive decimal int64 without overflow.
bool ParsePositiveId(std::string_view s, int64_t* out) {
  if (!AllDigits(s) || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  if (v <= 0) return false;
  *out = v;
  return true;
}

}  // namespace

std::string SentryKeyFromAuthHeader(const std::string& header) {
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
    if (EqualsIgnoreCase(name, "sentry_key")) return std::string(value);
  }
  return "";
}

bool ParseDsn(const std::string& dsn, Dsn* out) {
  std::string_view s = Trim(dsn);
  const size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme(s.substr(0, scheme_end));
  for (char& c : scheme) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = s.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return false;

  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);  // starts with '/'

  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view userinfo = authority.substr(0, at);
  std::string_view host = authority.substr(at + 1);
  std::string_view key = userinfo.substr(0, userinfo.find(':'));
  if (key.empty() || host.empty()) return false;

  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t last = path.rfind('/');
  std::string_view id = path.substr(last + 1);
  int64_t project_id = 0;
  if (!ParsePositiveId(id, &project_id)) return false;

  out->scheme = std::move(scheme);
  out->public_key = std::string(key);
  out->host = std::string(host);
  out->path_prefix = std::string(path.substr(0, last));
  out->project_id = project_id;
  return true;
}

std::string FormatDsn(const std::string& base_url, const std::string& key,
                      int64_t project_id) {
  std::string_view s = Trim(base_url);
  std::string_view scheme = "http";
  const size_t scheme_end = s.find("://");
  if (scheme_end != std::string_view::npos) {
    scheme = s.substr(0, scheme_end);
    s.remove_prefix(scheme_end + 3);
  }
  const size_t slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view() : s.substr(slash);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);

  std::string dsn;
  dsn.reserve(base_url.size() + key.size() + 24);
  dsn.append(scheme).append("://").append(key).append("@");
  dsn.append(authority).append(path).append("/");
  dsn.append(std::to_string(project_id));
  return dsn;
}

}  // namespace crashctl
