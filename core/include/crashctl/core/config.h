// Server configuration: defaults < YAML file < CRASHCTL_* environment < flags.
//
// Thread-safety: a Config is a plain value; LoadConfig is reentrant.
#ifndef CRASHCTL_CORE_CONFIG_H_
#define CRASHCTL_CORE_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace crashctl {
namespace core {

struct Config {
  // server.*
  std::string listen = ":9190";  // "[host]:port"; ":9190" = all interfaces
  std::string base_url;          // public URL; "" = http://<listen>
  int max_connections = 512;     // server.max_connections (worker threads)
  double request_timeout = 30;   // server.request_timeout, seconds: a body
  double header_timeout = 10;    // server.header_timeout, seconds
  int64_t min_body_rate = 1024;  // server.min_body_rate, bytes/s; 0 = off
  int max_connections_per_client = 128;  // 0 = no limit
  int64_t max_header_bytes = 16384;      // server.max_header_bytes
  // server.cors_origins: origins whose pages may call the REST API.
  std::vector<std::string> cors_origins;
  // storage.* — storage.path is the data directory; the database is
  // <path>/crashctl.db.
  std::string data_dir = "./data";
  // storage.driver: "sqlite" (the embedded database under data_dir) or
  // "postgres" (docs/postgres.md; needs storage.postgres.dsn).
  std::string storage_driver = "sqlite";
  // storage.postgres.dsn: a libpq connection string or URI. The password
  // may come from PGPASSWORD or PGPASSFILE (libpq reads them itself); it is
  // never logged (PostgresDsnForLog).
  std::string postgres_dsn;
  int postgres_pool_size = 8;  // storage.postgres.pool_size, >= 1
  // retention.*
  double retention_max_age = 720 * 3600.0;     // seconds ("720h")
  double retention_cleanup_interval = 3600.0;  // seconds ("1h")
  int64_t retention_max_size = 0;  // bytes of stored data; 0 = no limit
  // retention.transactions_max_age: transactions older than this are
  // deleted; 0 = keep them.
  double retention_transactions_max_age = 7 * 86400.0;  // seconds ("7d")
  // ingest.*
  int64_t max_event_bytes = 1 << 20;     // after decompression
  int64_t max_request_bytes = 20 << 20;  // on the wire and decompressed
  int queue_size = 10000;                // events waiting for the writer
  int batch_size = 512;                  // events per write transaction
  // ingest.max_attachment_bytes: one envelope attachment (413 beyond); the
  // request limit applies as well, so the smaller of the two counts.
  int64_t max_attachment_bytes = 10 << 20;
  // tracing.* (docs/tracing.md)
  bool tracing_enabled = true;  // false: transaction items are dropped
  double tracing_store_sample_rate = 1.0;  // share of traces stored, [0,1]
  int tracing_max_transactions = 100;      // transaction label values / project
  int tracing_max_series = 20000;          // histogram label sets / project
  // Upper bounds (seconds, increasing) of the duration histograms'
  // buckets; Prometheus' defaults.
  std::vector<double> tracing_duration_buckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  // sessions.* (docs/release-health.md)
  // An open session without an update for this long is closed as abnormal
  // (at most 5 days: Relay refuses older sessions' updates).
  double sessions_idle_timeout = 8 * 3600.0;  // seconds ("8h")
  int sessions_max_releases = 10;             // release label values / project
  int sessions_max_environments = 10;  // environment label values / project
  int64_t sessions_max_open = 100000;  // open sessions kept; then evicted
  // monitors.* (docs/monitors.md)
  bool monitors_enabled = true;        // false: check-ins are dropped
  int monitors_max_per_project = 100;  // more new monitors are refused
  // kubernetes.*
  bool kube_enabled = false;
  std::vector<std::string> kube_namespaces;  // empty = all
  int kube_restart_threshold = 5;
  std::string kube_kubeconfig;  // "" = in-cluster, else $KUBECONFIG
  std::string kube_api_server;  // kubernetes.api_server: override (tests)
  int kube_log_lines = 500;     // tailLines of a crashed container's logs
  int64_t kube_project = 0;     // project of crash events; 0 = lowest id
  // How long a termination waits for a Kubernetes Event explaining it.
  double kube_event_wait = 10;
  // kubernetes.leader_election.* (docs/kubernetes.md "Leader election"):
  // several replicas on one database, one of them watching pods.
  bool kube_le_enabled = false;
  std::string kube_le_lease_name = "crashctl";
  // "" = the service account's namespace file, else "crashctl" (resolved by
  // kube::LeaderElector::OptionsFromConfig).
  std::string kube_le_namespace;
  std::string kube_le_identity;        // "" = $POD_NAME, else hostname
  double kube_le_lease_duration = 15;  // seconds; > renew_deadline
  double kube_le_renew_deadline = 10;  // seconds; > retry_period * 1.2
  double kube_le_retry_period = 2;     // seconds
  // alerting.*
  std::vector<std::string> alertmanager_urls;  // alerting.alertmanager_url
  double alert_cooldown = 300;                 // seconds ("5m")
  // auth.*
  std::string admin_token;
  // auth.read_token: also accepted by the REST API's GET/HEAD routes (for
  // Grafana and scripts); never for writes. `serve` refuses it without
  // admin_token, or equal to it.
  std::string read_token;
  // privacy.*
  bool scrub_defaults = true;           // Sentry's default scrubbing rules
  std::vector<std::string> scrub_keys;  // more key names to scrub
  bool store_ip = false;                // keep user.ip_address, REMOTE_ADDR
  // metrics.*
  int metrics_max_services = 100;  // distinct `service` label values
  int metrics_top_groups = 50;
  // log.*
  std::string log_level = "info";   // trace|debug|info|warn|error
  std::string log_format = "text";  // text|json

  // Path of the SQLite database inside data_dir.
  std::string DatabasePath() const { return data_dir + "/crashctl.db"; }
};

// `dsn` (a libpq keyword/value string or a postgres:// URI) with any
// password replaced by "***", for log lines and error messages.
std::string PostgresDsnForLog(const std::string& dsn);

// Parses a Go/Prometheus-style duration ("90s", "5m", "720h", "1h30m",
// "7d", "250ms") into seconds. Returns false on a malformed value.
bool ParseDuration(const std::string& text, double* seconds);

// Builds the configuration. `yaml_path` may be "" (then $CRASHCTL_CONFIG
// from `env` names the file, if set; else no file). `env` is the process
// environment (name -> value); only CRASHCTL_* names are looked at: unknown
// ones are errors unless IsNonConfigEnv(), empty values count as unset.
// `flags` maps dotted keys ("server.listen", "storage.path") to values given
// on the command line. On error returns false and sets `*error` to a
// one-line message that names the offending key (and the source: file, env
// variable or flag); `*out` is left untouched. Reference:
// docs/configuration.md.
bool LoadConfig(const std::string& yaml_path,
                const std::map<std::string, std::string>& env,
                const std::map<std::string, std::string>& flags, Config* out,
                std::string* error);

// The current process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

// Every configuration key, dotted ("server.listen"), in documentation order.
const std::vector<std::string>& ConfigKeys();

// The environment variable for a key: "CRASHCTL_" + upper-cased key with
// '.' -> '_' ("server.listen" -> "CRASHCTL_SERVER_LISTEN").
std::string ConfigEnvName(const std::string& key);

// True for CRASHCTL_* variables that are not configuration keys but are read
// by other crashctl parts (CRASHCTL_CONFIG, CRASHCTL_DSN, CRASHCTL_SDK_*, ...);
// LoadConfig ignores them instead of rejecting them as unknown.
bool IsNonConfigEnv(const std::string& name);

// The one place the public base URL is made: server.base_url, else
// "http://<listen>" with a wildcard host shown as localhost. No trailing '/'.
// DSNs (model/dsn.h), REST links and alert links are built on it.
std::string PublicBaseUrl(const Config& config);

}  // namespace core
}  // namespace crashctl

#endif  // CRASHCTL_CORE_CONFIG_H_
