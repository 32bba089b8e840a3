// Configuration loading: a table of known keys, each with a parser that
// validates and stores one value; the three sources (YAML file, environment,
// flags) are applied in priority order over the defaults.
#include "crashctl/core/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include "crashctl/util/strings.h"

extern char** environ;

namespace crashctl {
namespace core {
namespace {

// A value from one source: a scalar, or a list (YAML sequence). Env and
// flags always give scalars; list keys split scalars on ','.
struct Value {
  bool is_list = false;
  std::string scalar;
  std::vector<std::string> list;
};

// Parses and stores one value. Returns "" on success, else the reason
// (without the key or source, which the caller adds).
using Setter = std::function<std::string(const Value&, Config*)>;

struct KeySpec {
  const char* key;
  Setter set;
};

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Trim(std::string_view s) { return std::string(util::Trim(s)); }

// Scalar text of `v`, or an error when `v` is a list.
bool ScalarOf(const Value& v, std::string* out, std::string* err) {
  if (v.is_list) {
    *err = "expected a single value, got a list";
    return false;
  }
  *out = Trim(v.scalar);
  return true;
}

// List items of `v`: the list itself, or the scalar split on ','. Empty
// items are dropped.
std::vector<std::string> ListOf(const Value& v) {
  std::vector<std::string> items;
  if (v.is_list) {
    for (const auto& item : v.list) {
      std::string t = Trim(item);
      if (!t.empty()) items.push_back(t);
    }
    return items;
  }
  std::stringstream ss(v.scalar);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::string t = Trim(item);
    if (!t.empty()) items.push_back(t);
  }
  return items;
}

std::string ParseInt(const std::string& text, int64_t min, int64_t max,
                     int64_t* out) {
  if (text.empty()) return "bad integer \"\"";
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE) {
    return "bad integer " + Quote(text);
  }
  if (v < min || v > max) {
    return "integer " + Quote(text) + " out of range [" + std::to_string(min) +
           ", " + std::to_string(max) + "]";
  }
  *out = v;
  return "";
}

// A finite decimal number ("0.25", "1e-3").
std::string ParseNumber(const std::string& text, double* out) {
  if (text.empty()) return "expected a number, got \"\"";
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE ||
      !std::isfinite(value)) {
    return "bad number " + Quote(text);
  }
  *out = value;
  return "";
}

// "1048576", "512KiB", "1MiB", "1MB", "1.5 GiB". Units are case-insensitive.
std::string ParseSize(const std::string& text, int64_t* out) {
  if (text.empty()) return "bad size \"\"";
  if (text[0] == '-') return "negative size " + Quote(text);
  size_t i = 0;
  while (
      i < text.size() &&
      (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  std::string number = text.substr(0, i);
  std::string unit = util::ToLower(Trim(text.substr(i)));
  if (number.empty() || number.front() == '.' || number.back() == '.') {
    return "bad size " + Quote(text);
  }
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},
      {"b", 1},
      {"k", 1e3},
      {"kb", 1e3},
      {"m", 1e6},
      {"mb", 1e6},
      {"g", 1e9},
      {"gb", 1e9},
      {"ki", 1024.0},
      {"kib", 1024.0},
      {"mi", 1048576.0},
      {"mib", 1048576.0},
      {"gi", 1073741824.0},
      {"gib", 1073741824.0},
  };
  double multiplier = 0;
  for (const auto& u : kUnits) {
    if (unit == u.first) multiplier = u.second;
  }
  if (multiplier == 0) {
    return "bad size " + Quote(text) +
           " (want bytes or a unit: KiB, MiB, GiB, KB, MB, GB)";
  }
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (*end != '\0') return "bad size " + Quote(text);
  double bytes = std::floor(value * multiplier);
  if (!(bytes <= 9.0e18)) return "size " + Quote(text) + " too large";
  *out = static_cast<int64_t>(bytes);
  return "";
}

std::string ParseBool(const std::string& text, bool* out) {
  std::string t = util::ToLower(text);
  if (t == "true" || t == "1" || t == "yes") {
    *out = true;
  } else if (t == "false" || t == "0" || t == "no") {
    *out = false;
  } else {
    return "bad boolean " + Quote(text) + " (want true/false/1/0/yes/no)";
  }
  return "";
}

bool ValidHostname(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

// "[host]:port", host empty, IPv4, a name, or a bracketed IPv6 address.
std::string ValidateListen(const std::string& text) {
  const std::string bad = "bad listen address " + Quote(text) + ": ";
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad + "want host:port, e.g. \":9190\"";
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return bad + "unterminated '['";
    std::string v6 = host.substr(1, host.size() - 2);
    unsigned char buf[16];
    if (inet_pton(AF_INET6, v6.c_str(), buf) != 1) {
      return bad + "bad IPv6 address " + Quote(v6);
    }
  } else if (host.find(':') != std::string::npos) {
    return bad + "IPv6 addresses need brackets, e.g. \"[::1]:9190\"";
  } else if (!host.empty() && !ValidHostname(host)) {
    return bad + "bad host " + Quote(host);
  }
  int64_t p = 0;
  if (port.empty() || ParseInt(port, 0, 65535, &p) != "" ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return bad + "port must be a number in [0, 65535]";
  }
  return "";
}

// An absolute http:// or https:// URL with a host.
std::string ValidateHttpUrl(const std::string& text) {
  std::string rest;
  std::string lower = util::ToLower(text);
  if (lower.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (lower.rfind("https://", 0) == 0) {
    rest = text.substr(8);
  } else {
    return "bad URL " + Quote(text) + ": want http:// or https://";
  }
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "bad URL " + Quote(text) + ": no host";
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      return "bad URL " + Quote(text) + ": contains whitespace";
    }
  }
  return "";
}

// Kubernetes namespace: DNS-1123 label.
bool ValidNamespace(const std::string& ns) {
  if (ns.empty() || ns.size() > 63) return false;
  for (char c : ns) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return ns.front() != '-' && ns.back() != '-';
}

// Kubernetes object name: DNS-1123 subdomain (a Lease's metadata.name).
bool ValidObjectName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(name.front())) &&
         std::isalnum(static_cast<unsigned char>(name.back()));
}

// --- setters -------------------------------------------------------------

Setter StringKey(std::string Config::*field, bool allow_empty = true) {
  return [field, allow_empty](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    if (!allow_empty && s.empty()) return "must not be empty";
    c->*field = s;
    return "";
  };
}

// An integer in [min, max] into an int or int64_t field.
template <typename Int>
Setter IntKey(Int Config::*field, int64_t min,
              int64_t max = std::numeric_limits<Int>::max()) {
  return [field, min, max](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    int64_t n = 0;
    err = ParseInt(s, min, max, &n);
    if (!err.empty()) return err;
    c->*field = static_cast<Int>(n);
    return "";
  };
}

// An http(s) URL, or "" (unset); with `trim_slash`, trailing '/' removed.
Setter UrlKey(std::string Config::*field, bool trim_slash) {
  return [field, trim_slash](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    if (!s.empty()) {
      err = ValidateHttpUrl(s);
      if (!err.empty()) return err;
      while (trim_slash && s.size() > 1 && s.back() == '/') s.pop_back();
    }
    c->*field = s;
    return "";
  };
}

Setter SizeKey(int64_t Config::*field, bool allow_zero = false) {
  return [field, allow_zero](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    int64_t n = 0;
    err = ParseSize(s, &n);
    if (!err.empty()) return err;
    if (n < 0 || (n == 0 && !allow_zero)) {
      return "size must be positive, got " + Quote(s);
    }
    c->*field = n;
    return "";
  };
}

Setter DurationKey(double Config::*field, bool allow_zero) {
  return [field, allow_zero](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    double seconds = 0;
    if (!ParseDuration(s, &seconds)) {
      return "bad duration " + Quote(s) +
             " (want e.g. 250ms, 90s, 5m, 1h30m, 7d)";
    }
    if (!allow_zero && seconds <= 0) {
      return "duration must be positive, got " + Quote(s);
    }
    c->*field = seconds;
    return "";
  };
}

Setter BoolKey(bool Config::*field) {
  return [field](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    bool b = false;
    err = ParseBool(s, &b);
    if (!err.empty()) return err;
    c->*field = b;
    return "";
  };
}

Setter OneOfKey(std::string Config::*field, std::vector<std::string> allowed) {
  return [field, allowed](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    std::string joined;
    for (const auto& a : allowed) {
      if (s == a) {
        c->*field = s;
        return "";
      }
      joined += (joined.empty() ? "" : "|") + a;
    }
    return "bad value " + Quote(s) + " (want " + joined + ")";
  };
}

// A bearer token: any bytes but whitespace and control characters.
Setter TokenKey(std::string Config::*field) {
  return [field](const Value& v, Config* c) -> std::string {
    std::string s, err;
    if (!ScalarOf(v, &s, &err)) return err;
    for (char ch : s) {
      if (std::isspace(static_cast<unsigned char>(ch)) ||
          std::iscntrl(static_cast<unsigned char>(ch))) {
        return "token must not contain whitespace or control characters";
      }
    }
    c->*field = s;
    return "";
  };
}

const std::vector<KeySpec>& Specs() {
  static const std::vector<KeySpec>*
      specs =
          new std::vector<KeySpec>{
              {"server.listen",
               [](const Value& v, Config* c) -> std::string {
                 std::string s, err;
                 if (!ScalarOf(v, &s, &err)) return err;
                 err = ValidateListen(s);
                 if (err.empty()) c->listen = s;
                 return err;
               }},
              {"server.base_url",
               UrlKey(&Config::base_url, /*trim_slash=*/true)},
              {"server.max_connections", IntKey(&Config::max_connections, 1)},
              {"server.request_timeout",
               DurationKey(&Config::request_timeout, /*allow_zero=*/false)},
              {"server.header_timeout",
               DurationKey(&Config::header_timeout, /*allow_zero=*/false)},
              {"server.min_body_rate",
               SizeKey(&Config::min_body_rate, /*allow_zero=*/true)},
              {"server.max_connections_per_client",
               IntKey(&Config::max_connections_per_client, 0)},
              {"server.max_header_bytes", SizeKey(&Config::max_header_bytes)},
              {"server.cors_origins",
               [](const Value& v, Config* c) -> std::string {
                 std::vector<std::string> items = ListOf(v);
                 for (auto& origin : items) {
                   while (origin.size() > 1 && origin.back() == '/')
                     origin.pop_back();
                   if (origin == "*") continue;
                   std::string err = ValidateHttpUrl(origin);
                   if (!err.empty()) return err;
                   const size_t host = origin.find("://") + 3;
                   if (origin.find_first_of("/?#", host) != std::string::npos) {
                     return "bad origin " + Quote(origin) +
                            ": want scheme://host[:port] without a path";
                   }
                 }
                 c->cors_origins = items;
                 return "";
               }},
              {"storage.path",
               StringKey(&Config::data_dir, /*allow_empty=*/false)},
              {"storage.driver",
               OneOfKey(&Config::storage_driver, {"sqlite", "postgres"})},
              {"storage.postgres.dsn", StringKey(&Config::postgres_dsn)},
              {"storage.postgres.pool_size",
               IntKey(&Config::postgres_pool_size, 1, 1000)},
              {"retention.max_age",
               DurationKey(&Config::retention_max_age, /*allow_zero=*/false)},
              {"retention.cleanup_interval",
               DurationKey(&Config::retention_cleanup_interval,
                           /*allow_zero=*/false)},
              {"retention.max_size",
               SizeKey(&Config::retention_max_size, /*allow_zero=*/true)},
              {"retention.transactions_max_age",
               DurationKey(&Config::retention_transactions_max_age,
                           /*allow_zero=*/true)},
              {"ingest.max_event_bytes", SizeKey(&Config::max_event_bytes)},
              {"ingest.max_request_bytes", SizeKey(&Config::max_request_bytes)},
              {"ingest.queue_size", IntKey(&Config::queue_size, 1)},
              {"ingest.batch_size", IntKey(&Config::batch_size, 1)},
              {"ingest.max_attachment_bytes",
               SizeKey(&Config::max_attachment_bytes)},
              {"tracing.enabled", BoolKey(&Config::tracing_enabled)},
              {"tracing.store_sample_rate",
               [](const Value& v, Config* c) -> std::string {
                 std::string s, err;
                 if (!ScalarOf(v, &s, &err)) return err;
                 double rate = 0;
                 err = ParseNumber(s, &rate);
                 if (!err.empty()) return err;
                 if (rate < 0 || rate > 1) {
                   return "sample rate must be between 0 and 1, got " +
                          Quote(s);
                 }
                 c->tracing_store_sample_rate = rate;
                 return "";
               }},
              {"tracing.max_transactions",
               IntKey(&Config::tracing_max_transactions, 1)},
              {"tracing.max_series", IntKey(&Config::tracing_max_series, 1)},
              {"tracing.duration_buckets",
               [](const Value& v, Config* c) -> std::string {
                 std::vector<std::string> items = ListOf(v);
                 if (items.empty()) return "need at least one bucket boundary";
                 if (items.size() > 64) return "at most 64 bucket boundaries";
                 std::vector<double> bounds;
                 for (const auto& item : items) {
                   double b = 0;
                   std::string err = ParseNumber(item, &b);
                   if (!err.empty()) return err;
                   if (b <= 0)
                     return "bucket boundary must be positive, got " +
                            Quote(item);
                   if (!bounds.empty() && b <= bounds.back()) {
                     return "bucket boundaries must increase, got " +
                            Quote(item) + " after " +
                            Quote(items[bounds.size() - 1]);
                   }
                   bounds.push_back(b);
                 }
                 c->tracing_duration_buckets = bounds;
                 return "";
               }},
              {"sessions.idle_timeout",
               [](const Value& v, Config* c) -> std::string {
                 double before = c->sessions_idle_timeout;
                 std::string err = DurationKey(&Config::sessions_idle_timeout,
                                               /*allow_zero=*/false)(v, c);
                 if (err.empty() && c->sessions_idle_timeout > 5 * 86400.0) {
                   c->sessions_idle_timeout = before;
                   return "idle timeout must be at most 5d (sessions older "
                          "than 5 days are refused anyway)";
                 }
                 return err;
               }},
              {"sessions.max_releases",
               IntKey(&Config::sessions_max_releases, 1, 1000)},
              {"sessions.max_environments",
               IntKey(&Config::sessions_max_environments, 1, 1000)},
              {"sessions.max_open",
               IntKey(&Config::sessions_max_open, 1, 100000000)},
              {"monitors.enabled", BoolKey(&Config::monitors_enabled)},
              {"monitors.max_per_project",
               IntKey(&Config::monitors_max_per_project, 1, 100000)},
              {"kubernetes.enabled", BoolKey(&Config::kube_enabled)},
              {"kubernetes.namespaces",
               [](const Value& v, Config* c) -> std::string {
                 std::vector<std::string> items = ListOf(v);
                 for (const auto& ns : items) {
                   if (!ValidNamespace(ns)) {
                     return "bad namespace " + Quote(ns) +
                            " (want a DNS-1123 label: lowercase letters, "
                            "digits, '-')";
                   }
                 }
                 c->kube_namespaces = items;
                 return "";
               }},
              {"kubernetes.restart_threshold",
               IntKey(&Config::kube_restart_threshold, 1)},
              {"kubernetes.kubeconfig", StringKey(&Config::kube_kubeconfig)},
              {"kubernetes.event_wait",
               DurationKey(&Config::kube_event_wait, true)},
              // The crash-report parser looks at 10,000 lines at most.
              {"kubernetes.log_lines",
               IntKey(&Config::kube_log_lines, 1, 10000)},
              {"kubernetes.project", IntKey(&Config::kube_project, 0)},
              {"kubernetes.api_server",
               UrlKey(&Config::kube_api_server, /*trim_slash=*/false)},
              {"kubernetes.leader_election.enabled",
               BoolKey(&Config::kube_le_enabled)},
              {"kubernetes.leader_election.lease_name",
               [](const Value& v, Config* c) -> std::string {
                 std::string s, err;
                 if (!ScalarOf(v, &s, &err)) return err;
                 if (!ValidObjectName(s)) {
                   return "bad lease name " + Quote(s) +
                          " (want a DNS-1123 subdomain: lowercase letters, "
                          "digits, '-', '.')";
                 }
                 c->kube_le_lease_name = s;
                 return "";
               }},
              {"kubernetes.leader_election.namespace",
               [](const Value& v, Config* c) -> std::string {
                 std::string s, err;
                 if (!ScalarOf(v, &s, &err)) return err;
                 if (!s.empty() && !ValidNamespace(s)) {
                   return "bad namespace " + Quote(s) +
                          " (want a DNS-1123 label: lowercase letters, "
                          "digits, '-')";
                 }
                 c->kube_le_namespace = s;
                 return "";
               }},
              {"kubernetes.leader_election.identity",
               [](const Value& v, Config* c) -> std::string {
                 std::string s, err;
                 if (!ScalarOf(v, &s, &err)) return err;
                 if (s.size() > 253) return "identity longer than 253 bytes";
                 for (char ch : s) {
                   if (std::iscntrl(static_cast<unsigned char>(ch)) ||
                       ch == '"' || ch == '\\') {
                     return "identity must not contain control characters, "
                            "quotes or backslashes";
                   }
                 }
                 c->kube_le_identity = s;
                 return "";
               }},
              {"kubernetes.leader_election.lease_duration",
               DurationKey(&Config::kube_le_lease_duration,
                           /*allow_zero=*/false)},
              {"kubernetes.leader_election.renew_deadline",
               DurationKey(&Config::kube_le_renew_deadline,
                           /*allow_zero=*/false)},
              {"kubernetes.leader_election.retry_period",
               DurationKey(&Config::kube_le_retry_period,
                           /*allow_zero=*/false)},
              {"alerting.alertmanager_url",
               [](const Value& v, Config* c) -> std::string {
                 std::vector<std::string> items = ListOf(v);
                 for (auto& url : items) {
                   std::string err = ValidateHttpUrl(url);
                   if (!err.empty()) return err;
                   while (url.size() > 1 && url.back() == '/') url.pop_back();
                 }
                 c->alertmanager_urls = items;
                 return "";
               }},
              {"alerting.cooldown",
               DurationKey(&Config::alert_cooldown, /*allow_zero=*/true)},
              {"auth.admin_token", TokenKey(&Config::admin_token)},
              {"auth.read_token", TokenKey(&Config::read_token)},
              {"privacy.scrub_defaults", BoolKey(&Config::scrub_defaults)},
              {"privacy.scrub_keys",
               [](const Value& v, Config* c) -> std::string {
                 std::vector<std::string> items = ListOf(v);
                 for (auto& key : items) {
                   if (key.size() > 64)
                     return "key " + Quote(key) + " is too long";
                   key = util::ToLower(key);
                 }
                 c->scrub_keys = items;
                 return "";
               }},
              {"privacy.store_ip", BoolKey(&Config::store_ip)},
              {"metrics.max_services",
               IntKey(&Config::metrics_max_services, 1)},
              {"metrics.top_groups", IntKey(&Config::metrics_top_groups, 0)},
              {"log.level",
               OneOfKey(&Config::log_level,
                        {"trace", "debug", "info", "warn", "error"})},
              {"log.format", OneOfKey(&Config::log_format, {"text", "json"})},
          };
  return *specs;
}

const KeySpec* FindSpec(const std::string& key) {
  for (const auto& spec : Specs()) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

// True when `prefix` is a section ("server", "kubernetes") of some key.
bool IsSection(const std::string& prefix) {
  for (const auto& spec : Specs()) {
    std::string key = spec.key;
    if (key.size() > prefix.size() &&
        key.compare(0, prefix.size(), prefix) == 0 &&
        key[prefix.size()] == '.') {
      return true;
    }
  }
  return false;
}

const char* NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a scalar";
  }
}

// yaml-cpp 0.7 reads a quoted scalar that is never closed up to the end of
// the file as if it were closed there (`listen: "127.0.0.1:9190` followed by
// more keys becomes one multi-line value). Returns false with `*error` when
// the scalar `node` of the file text `text` opens a quote that nothing
// closes.
bool QuoteClosed(const YAML::Node& node, const std::string& text,
                 const std::string& source, std::string* error) {
  const YAML::Mark mark = node.Mark();
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text.size()) {
    return true;
  }
  const char quote = text[static_cast<size_t>(mark.pos)];
  if (quote != '"' && quote != '\'') return true;
  for (size_t i = static_cast<size_t>(mark.pos) + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '"' && c == '\\') {
      ++i;  // an escape: the next character is never the closing quote
    } else if (c == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' inside single quotes is a quote
        continue;
      }
      return true;
    }
  }
  *error = source + ": line " + std::to_string(mark.line + 1) + " column " +
           std::to_string(mark.column + 1) + ": quoted value never closed";
  return false;
}

// Walks one YAML mapping; `prefix` is the dotted path of `node`; `text` is
// the whole file.
bool ApplyYamlMap(const YAML::Node& node, const std::string& prefix,
                  const std::string& text, const std::string& source,
                  Config* out, std::string* error) {
  std::set<std::string> seen;  // yaml-cpp keeps duplicate keys silently
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      *error = source + ": key under " + Quote(prefix) + " is not a string";
      return false;
    }
    if (!QuoteClosed(entry.first, text, source, error)) return false;
    std::string name = entry.first.Scalar();
    std::string path = prefix.empty() ? name : prefix + "." + name;
    if (!seen.insert(name).second) {
      *error = source + ": line " +
               std::to_string(entry.first.Mark().line + 1) +
               ": duplicate key " + Quote(path);
      return false;
    }
    const YAML::Node& value = entry.second;
    if (value.IsScalar() && !QuoteClosed(value, text, source, error)) {
      return false;
    }
    if (const KeySpec* spec = FindSpec(path)) {
      if (value.IsNull()) continue;  // "key:" with no value keeps the default
      Value v;
      if (value.IsScalar()) {
        v.scalar = value.Scalar();
      } else if (value.IsSequence()) {
        v.is_list = true;
        for (const auto& item : value) {
          if (!item.IsScalar()) {
            *error = source + ": key " + Quote(path) +
                     ": list items must be scalars, got " + NodeKind(item);
            return false;
          }
          if (!QuoteClosed(item, text, source, error)) return false;
          v.list.push_back(item.Scalar());
        }
      } else {
        *error = source + ": key " + Quote(path) + ": expected a value, got " +
                 NodeKind(value);
        return false;
      }
      std::string err = spec->set(v, out);
      if (!err.empty()) {
        *error = source + ": key " + Quote(path) + ": " + err;
        return false;
      }
    } else if (IsSection(path)) {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        *error = source + ": key " + Quote(path) +
                 ": expected a mapping, got " + NodeKind(value);
        return false;
      }
      if (!ApplyYamlMap(value, path, text, source, out, error)) return false;
    } else {
      *error = source + ": unknown key " + Quote(path);
      return false;
    }
  }
  return true;
}

bool ApplyFile(const std::string& path, Config* out, std::string* error) {
  const std::string source = "config file " + path;
  std::ifstream in(path);
  if (!in) {
    *error = source + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string text = contents.str();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    *error = source + ": line " + std::to_string(e.mark.line + 1) + " column " +
             std::to_string(e.mark.column + 1) + ": " + e.msg;
    return false;
  }
  if (root.IsNull()) return true;  // empty file
  if (!root.IsMap()) {
    *error = source + ": top level must be a mapping, got " + NodeKind(root);
    return false;
  }
  try {
    return ApplyYamlMap(root, "", text, source, out, error);
  } catch (const YAML::Exception& e) {
    *error = source + ": " + e.what();
    return false;
  }
}

// Name a flag is reported under: the CLI's own flag names where they exist.
std::string FlagName(const std::string& key) {
  if (key == "server.listen") return "--listen";
  if (key == "storage.path") return "--data";
  return "--" + key;
}

}  // namespace

bool ParseDuration(const std::string& text, double* seconds) {
  std::string s = Trim(text);
  if (s.empty()) return false;
  if (s == "0") {
    *seconds = 0;
    return true;
  }
  static const std::pair<const char*, double> kUnits[] = {
      // Longest first so "ms" is not read as "m".
      {"ns", 1e-9}, {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"ms", 1e-3},  {"s", 1},
      {"m", 60},    {"h", 3600},  {"d", 86400},        {"w", 604800},
  };
  double total = 0;
  size_t i = 0;
  const size_t kMaxParts = 16;  // bounded: "1h2m3s..." never needs more
  for (size_t parts = 0; i < s.size(); ++parts) {
    if (parts >= kMaxParts) return false;
    size_t start = i;
    while (i < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
      ++i;
    }
    std::string number = s.substr(start, i - start);
    if (number.empty() || number == "." ||
        number.find('.') != number.rfind('.')) {
      return false;
    }
    double multiplier = 0;
    for (const auto& u : kUnits) {
      size_t len = std::strlen(u.first);
      if (s.compare(i, len, u.first) == 0) {
        multiplier = u.second;
        i += len;
        break;
      }
    }
    if (multiplier == 0) return false;  // missing or unknown unit
    total += std::strtod(number.c_str(), nullptr) * multiplier;
  }
  if (!std::isfinite(total)) return false;
  *seconds = total;
  return true;
}

const std::vector<std::string>& ConfigKeys() {
  static const std::vector<std::string>* keys = [] {
    auto* k = new std::vector<std::string>;
    for (const auto& spec : Specs()) k->push_back(spec.key);
    return k;
  }();
  return *keys;
}

std::string ConfigEnvName(const std::string& key) {
  std::string name = "CRASHCTL_";
  for (char c : key) {
    name +=
        c == '.'
            ? '_'
            : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

bool IsNonConfigEnv(const std::string& name) {
  static const char* const kNames[] = {
      "CRASHCTL_CONFIG",
      "CRASHCTL_DSN",
      "CRASHCTL_SERVICE",
      "CRASHCTL_CRASH_FD",
      "CRASHCTL_SPOOL_DIR",
      "CRASHCTL_BINARY",
      "CRASHCTL_SOURCE_DIR",
      // `crashctl run`'s (docs/supervisor.md): a server started under it
      // inherits them.
      "CRASHCTL_DELIVERY_TIMEOUT_MS",
      "CRASHCTL_NO_TRACE",
  };
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  // Kubernetes' service links for a Service named "crashctl":
  // CRASHCTL_SERVICE_HOST, CRASHCTL_SERVICE_PORT[_NAME], CRASHCTL_PORT and
  // CRASHCTL_PORT_9190_TCP[_PROTO|_PORT|_ADDR]. No configuration key starts
  // with "service" or "port".
  if (name == "CRASHCTL_PORT" || name.rfind("CRASHCTL_PORT_", 0) == 0 ||
      name.rfind("CRASHCTL_SERVICE_HOST", 0) == 0 ||
      name.rfind("CRASHCTL_SERVICE_PORT", 0) == 0) {
    return true;
  }
  return name.rfind("CRASHCTL_SDK_", 0) == 0 ||
         name.rfind("CRASHCTL_TEST_", 0) == 0 ||
         name.rfind("CRASHCTL_TRACE_", 0) == 0;
}

bool LoadConfig(const std::string& yaml_path,
                const std::map<std::string, std::string>& env,
                const std::map<std::string, std::string>& flags, Config* out,
                std::string* error) {
  Config config;

  // File: the explicit path, else $CRASHCTL_CONFIG, else none.
  std::string path = yaml_path;
  if (path.empty()) {
    auto it = env.find("CRASHCTL_CONFIG");
    if (it != env.end()) path = it->second;
  }
  if (!path.empty() && !ApplyFile(path, &config, error)) return false;

  // Environment: map known key names to variables, then reject the rest.
  std::map<std::string, const KeySpec*> by_env;
  for (const auto& spec : Specs()) by_env[ConfigEnvName(spec.key)] = &spec;
  for (const auto& [name, value] : env) {
    if (name.rfind("CRASHCTL_", 0) != 0) continue;
    auto it = by_env.find(name);
    if (it == by_env.end()) {
      if (IsNonConfigEnv(name)) continue;
      *error = "environment " + name +
               ": unknown variable (no such configuration key)";
      return false;
    }
    if (value.empty()) continue;  // empty means unset
    Value v;
    v.scalar = value;
    std::string err = it->second->set(v, &config);
    if (!err.empty()) {
      *error = "environment " + name + ": " + err;
      return false;
    }
  }

  // Flags.
  for (const auto& [key, value] : flags) {
    const KeySpec* spec = FindSpec(key);
    if (spec == nullptr) {
      *error = "flag " + FlagName(key) + ": unknown key " + Quote(key);
      return false;
    }
    Value v;
    v.scalar = value;
    std::string err = spec->set(v, &config);
    if (!err.empty()) {
      *error = "flag " + FlagName(key) + ": " + err;
      return false;
    }
  }

  // Cross-key checks on the merged result.
  if (config.max_header_bytes < 1024 || config.max_header_bytes > (1 << 20)) {
    *error = "configuration: server.max_header_bytes (" +
             std::to_string(config.max_header_bytes) +
             ") must be between 1KiB and 1MiB";
    return false;
  }
  if (config.max_event_bytes > config.max_request_bytes) {
    *error = "configuration: ingest.max_event_bytes (" +
             std::to_string(config.max_event_bytes) +
             ") exceeds ingest.max_request_bytes (" +
             std::to_string(config.max_request_bytes) + ")";
    return false;
  }
  // As client-go's NewLeaderElector.
  if (config.kube_le_lease_duration <= config.kube_le_renew_deadline) {
    *error =
        "configuration: kubernetes.leader_election.lease_duration must be "
        "greater than kubernetes.leader_election.renew_deadline";
    return false;
  }
  if (config.kube_le_renew_deadline <= config.kube_le_retry_period * 1.2) {
    *error =
        "configuration: kubernetes.leader_election.renew_deadline must be "
        "greater than kubernetes.leader_election.retry_period * 1.2";
    return false;
  }
  if (config.storage_driver == "postgres" && config.postgres_dsn.empty()) {
    *error =
        "configuration: storage.postgres.dsn must be set when "
        "storage.driver is postgres";
    return false;
  }
  *out = config;
  return true;
}

std::string PostgresDsnForLog(const std::string& dsn) {
  std::string out = dsn;
  if (out.rfind("postgres://", 0) == 0 || out.rfind("postgresql://", 0) == 0) {
    // scheme://[user[:password]@]host...: hide what follows the first ':'
    // of the userinfo, and a password=... query parameter.
    const size_t start = out.find("://") + 3;
    const size_t at = out.find('@', start);
    const size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
    for (const char* name : {"?password=", "&password="}) {
      size_t pos = out.find(name);
      if (pos == std::string::npos) continue;
      pos += std::strlen(name);
      const size_t end = out.find('&', pos);
      out.replace(pos, end == std::string::npos ? std::string::npos : end - pos,
                  "***");
    }
    return out;
  }
  // keyword = value pairs; a value may be 'quoted' with \' and \\ escapes.
  std::string result;
  size_t i = 0;
  for (int guard = 0; i < out.size() && guard < 10000; ++guard) {
    size_t eq = out.find('=', i);
    if (eq == std::string::npos) {
      result += out.substr(i);
      break;
    }
    std::string key = out.substr(i, eq - i);
    size_t v = eq + 1;
    while (v < out.size() && out[v] == ' ') ++v;
    size_t end = v;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') {
        if (out[end] == '\\') ++end;
        ++end;
      }
      if (end < out.size()) ++end;
    } else {
      while (end < out.size() && out[end] != ' ') ++end;
    }
    std::string trimmed = key;
    while (!trimmed.empty() && trimmed.front() == ' ') trimmed.erase(0, 1);
    while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
    result += out.substr(i, v - i);
    result += trimmed == "password" ? "***" : out.substr(v, end - v);
    i = end;
  }
  return result;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::string PublicBaseUrl(const Config& config) {
  std::string base = config.base_url;
  if (base.empty()) {
    // "http://<listen>", with an empty or wildcard host replaced by
    // localhost.
    const size_t colon = config.listen.rfind(':');
    std::string host =
        colon == std::string::npos ? "" : config.listen.substr(0, colon);
    const std::string port = colon == std::string::npos
                                 ? config.listen
                                 : config.listen.substr(colon + 1);
    if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") {
      host = "localhost";
    }
    base = "http://" + host + ":" + port;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace core
}  // namespace crashctl
