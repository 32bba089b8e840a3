#include "crashctl/model/dsn.h"

#include <string_view>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace model {
namespace {

// Parses a positive decimal int64 without overflow.
bool ParsePositiveId(std::string_view s, int64_t* out) {
  return !s.empty() && s[0] >= '0' && s[0] <= '9' && s.size() <= 18 &&
         util::ParseInt64(s, 1, INT64_MAX, out);
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

bool ParseDsn(const std::string& dsn, Dsn* out) {
  std::string_view s = util::Trim(dsn);
  const size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme = util::ToLower(s.substr(0, scheme_end));
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
  std::string_view s = util::Trim(base_url);
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

std::string FormatShortDsn(const std::string& base_url,
                           const std::string& key) {
  return TrimSlash(base_url) + "/api/v1/events?key=" + key;
}

}  // namespace model
}  // namespace crashctl
