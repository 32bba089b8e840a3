#include "crashctl/sdk/support/dsn.h"

#include <cctype>

namespace crashctl {
namespace sdk {

bool Dsn::Parse(const std::string& text, Dsn* out, std::string* error) {
  Dsn dsn;
  dsn.raw = text;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    *error = "DSN has no scheme: " + text;
    return false;
  }
  dsn.scheme = text.substr(0, scheme_end);
  if (dsn.scheme != "http" && dsn.scheme != "https") {
    *error = "DSN scheme must be http or https: " + text;
    return false;
  }
  std::string rest = text.substr(scheme_end + 3);
  size_t at = rest.find('@');
  if (at == std::string::npos || at == 0) {
    *error = "DSN has no public key: " + text;
    return false;
  }
  std::string userinfo = rest.substr(0, at);
  dsn.public_key = userinfo.substr(0, userinfo.find(':'));
  rest = rest.substr(at + 1);
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0) {
    *error = "DSN has no host or project id: " + text;
    return false;
  }
  dsn.host_port = rest.substr(0, slash);
  std::string path = rest.substr(slash);  // "/.../<project>"
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t last = path.rfind('/');
  dsn.project_id = path.substr(last + 1);
  dsn.path = path.substr(0, last);
  if (dsn.project_id.empty()) {
    *error = "DSN has no project id: " + text;
    return false;
  }
  for (char c : dsn.project_id) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      *error = "DSN project id is not a number: " + text;
      return false;
    }
  }
  *out = dsn;
  return true;
}

std::string Dsn::EnvelopeUrl() const {
  return scheme + "://" + host_port + path + "/api/" + project_id +
         "/envelope/";
}

std::string Dsn::AuthHeader() const {
  return "Sentry sentry_version=7, sentry_client=crashctl-cpp/0.1.0, "
         "sentry_key=" +
         public_key;
}

}  // namespace sdk
}  // namespace crashctl
