#include "crashctl/core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace core {
namespace {

using ::testing::HasSubstr;

using Map = std::map<std::string, std::string>;

// Writes `text` to `name` in this process' config directory, which is removed
// at exit.
std::string WriteFile(const std::string& name, const std::string& text) {
  static const testing::TempDir dir("config-test");
  std::string path = dir.File(name);
  std::ofstream(path) << text;
  return path;
}

// "a.b" + "v" -> "a:\n  b: v\n".
std::string NestedYaml(const std::string& key, const std::string& value) {
  size_t dot = key.find('.');
  return key.substr(0, dot) + ":\n  " + key.substr(dot + 1) + ": " + value +
         "\n";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string Num(double d) {
  std::ostringstream os;
  os.precision(12);
  os << d;
  return os.str();
}

// --- ParseDuration ------------------------------------------------------

TEST(ParseDurationTest, Table) {
  struct Case {
    const char* text;
    bool ok;
    double seconds;
  };
  const Case cases[] = {
      {"250ms", true, 0.25},  {"90s", true, 90},
      {"5m", true, 300},      {"720h", true, 720 * 3600.0},
      {"1h30m", true, 5400},  {"7d", true, 7 * 86400.0},
      {"1w", true, 604800},   {"1.5h", true, 5400},
      {"1h2m3s", true, 3723}, {"0", true, 0},
      {"0s", true, 0},        {"100us", true, 1e-4},
      {"10ns", true, 1e-8},   {" 5m ", true, 300},
      {"", false, 0},         {"abc", false, 0},
      {"5", false, 0},        {"-5m", false, 0},
      {"5x", false, 0},       {"m", false, 0},
      {"1.2.3s", false, 0},   {"5m30", false, 0},
      {"1h 30m", false, 0},   {".s", false, 0},
  };
  for (const auto& c : cases) {
    double seconds = -1;
    EXPECT_EQ(ParseDuration(c.text, &seconds), c.ok) << c.text;
    if (c.ok) {
      EXPECT_DOUBLE_EQ(seconds, c.seconds) << c.text;
    }
  }
}

// --- precedence -----------------------------------------------------------

struct KeyCase {
  std::string key;
  std::string file_value;  // as written in YAML
  std::string env_value;
  std::string flag_value;
  std::string expect_default, expect_file, expect_env, expect_flag;
  std::function<std::string(const Config&)> get;
};

std::vector<KeyCase> KeyCases() {
  return {
      {"server.listen", "\"127.0.0.1:8000\"", "[::1]:8001", "0.0.0.0:8002",
       ":9190", "127.0.0.1:8000", "[::1]:8001", "0.0.0.0:8002",
       [](const Config& c) { return c.listen; }},
      {"server.base_url", "http://file.example", "https://env.example/",
       "http://flag.example:9190", "", "http://file.example",
       "https://env.example", "http://flag.example:9190",
       [](const Config& c) { return c.base_url; }},
      {"server.max_connections", "10", "20", "30", "512", "10", "20", "30",
       [](const Config& c) { return std::to_string(c.max_connections); }},
      {"server.request_timeout", "10s", "1m", "250ms", "30", "10", "60", "0.25",
       [](const Config& c) { return Num(c.request_timeout); }},
      {"server.header_timeout", "5s", "2s", "500ms", "10", "5", "2", "0.5",
       [](const Config& c) { return Num(c.header_timeout); }},
      {"server.min_body_rate", "0", "2KiB", "100", "1024", "0", "2048", "100",
       [](const Config& c) { return std::to_string(c.min_body_rate); }},
      {"server.max_connections_per_client", "0", "8", "16", "128", "0", "8",
       "16",
       [](const Config& c) {
         return std::to_string(c.max_connections_per_client);
       }},
      {"server.max_header_bytes", "8KiB", "32768", "4KiB", "16384", "8192",
       "32768", "4096",
       [](const Config& c) { return std::to_string(c.max_header_bytes); }},
      {"server.cors_origins", "[\"https://a.example\", \"*\"]",
       "https://b.example/", "http://c.example:3000,https://d.example", "",
       "https://a.example,*", "https://b.example",
       "http://c.example:3000,https://d.example",
       [](const Config& c) { return Join(c.cors_origins); }},
      {"storage.path", "/var/lib/file", "/env", "/flag", "./data",
       "/var/lib/file", "/env", "/flag",
       [](const Config& c) { return c.data_dir; }},
      // "postgres" needs a DSN (a cross-key check): PostgresConfigTest.
      {"storage.driver", "sqlite", "sqlite", "sqlite", "sqlite", "sqlite",
       "sqlite", "sqlite", [](const Config& c) { return c.storage_driver; }},
      {"storage.postgres.dsn", "host=f", "postgresql://e@h/db", "dbname=x", "",
       "host=f", "postgresql://e@h/db", "dbname=x",
       [](const Config& c) { return c.postgres_dsn; }},
      {"storage.postgres.pool_size", "2", "3", "4", "8", "2", "3", "4",
       [](const Config& c) { return std::to_string(c.postgres_pool_size); }},
      {"retention.max_age", "7d", "48h", "1h30m", "2592000", "604800", "172800",
       "5400", [](const Config& c) { return Num(c.retention_max_age); }},
      {"retention.cleanup_interval", "10m", "90s", "2h", "3600", "600", "90",
       "7200",
       [](const Config& c) { return Num(c.retention_cleanup_interval); }},
      {"retention.max_size", "500MB", "2GiB", "0", "0", "500000000",
       "2147483648", "0",
       [](const Config& c) { return std::to_string(c.retention_max_size); }},
      {"retention.transactions_max_age", "1d", "0", "36h", "604800", "86400",
       "0", "129600",
       [](const Config& c) { return Num(c.retention_transactions_max_age); }},
      {"ingest.max_event_bytes", "512KiB", "1MB", "1000", "1048576", "524288",
       "1000000", "1000",
       [](const Config& c) { return std::to_string(c.max_event_bytes); }},
      {"ingest.max_request_bytes", "2MiB", "30MiB", "1GiB", "20971520",
       "2097152", "31457280", "1073741824",
       [](const Config& c) { return std::to_string(c.max_request_bytes); }},
      {"ingest.queue_size", "100", "200", "300", "10000", "100", "200", "300",
       [](const Config& c) { return std::to_string(c.queue_size); }},
      {"ingest.batch_size", "1", "2", "3", "512", "1", "2", "3",
       [](const Config& c) { return std::to_string(c.batch_size); }},
      {"ingest.max_attachment_bytes", "512KiB", "1MB", "1000", "10485760",
       "524288", "1000000", "1000",
       [](const Config& c) { return std::to_string(c.max_attachment_bytes); }},
      {"tracing.enabled", "no", "1", "false", "1", "0", "1", "0",
       [](const Config& c) { return std::to_string(c.tracing_enabled); }},
      {"tracing.store_sample_rate", "0.5", "0", "0.125", "1", "0.5", "0",
       "0.125",
       [](const Config& c) { return Num(c.tracing_store_sample_rate); }},
      {"tracing.max_transactions", "10", "20", "30", "100", "10", "20", "30",
       [](const Config& c) {
         return std::to_string(c.tracing_max_transactions);
       }},
      {"tracing.max_series", "1000", "2000", "3000", "20000", "1000", "2000",
       "3000",
       [](const Config& c) { return std::to_string(c.tracing_max_series); }},
      {"tracing.duration_buckets", "[0.1, 1, 10]", "0.5,2", "0.25",
       "0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10", "0.1,1,10", "0.5,2",
       "0.25",
       [](const Config& c) {
         std::vector<std::string> parts;
         for (double b : c.tracing_duration_buckets) parts.push_back(Num(b));
         return Join(parts);
       }},
      {"sessions.idle_timeout", "1h", "30m", "2d", "28800", "3600", "1800",
       "172800", [](const Config& c) { return Num(c.sessions_idle_timeout); }},
      {"sessions.max_releases", "5", "6", "7", "10", "5", "6", "7",
       [](const Config& c) { return std::to_string(c.sessions_max_releases); }},
      {"sessions.max_environments", "2", "3", "4", "10", "2", "3", "4",
       [](const Config& c) {
         return std::to_string(c.sessions_max_environments);
       }},
      {"sessions.max_open", "1000", "2000", "3000", "100000", "1000", "2000",
       "3000",
       [](const Config& c) { return std::to_string(c.sessions_max_open); }},
      {"monitors.enabled", "no", "1", "false", "1", "0", "1", "0",
       [](const Config& c) { return std::to_string(c.monitors_enabled); }},
      {"monitors.max_per_project", "10", "20", "30", "100", "10", "20", "30",
       [](const Config& c) {
         return std::to_string(c.monitors_max_per_project);
       }},
      {"kubernetes.enabled", "yes", "0", "true", "0", "1", "0", "1",
       [](const Config& c) { return std::to_string(c.kube_enabled); }},
      {"kubernetes.namespaces", "[a, b]", "c,d", " e , f ,", "", "a,b", "c,d",
       "e,f", [](const Config& c) { return Join(c.kube_namespaces); }},
      {"kubernetes.restart_threshold", "3", "4", "6", "5", "3", "4", "6",
       [](const Config& c) {
         return std::to_string(c.kube_restart_threshold);
       }},
      {"kubernetes.kubeconfig", "/f/kc", "/e/kc", "/x/kc", "", "/f/kc", "/e/kc",
       "/x/kc", [](const Config& c) { return c.kube_kubeconfig; }},
      {"kubernetes.api_server", "http://127.0.0.1:1", "http://127.0.0.1:2",
       "https://127.0.0.1:3", "", "http://127.0.0.1:1", "http://127.0.0.1:2",
       "https://127.0.0.1:3",
       [](const Config& c) { return c.kube_api_server; }},
      {"kubernetes.log_lines", "100", "200", "10000", "500", "100", "200",
       "10000",
       [](const Config& c) { return std::to_string(c.kube_log_lines); }},
      {"kubernetes.project", "2", "3", "0", "0", "2", "3", "0",
       [](const Config& c) { return std::to_string(c.kube_project); }},
      {"kubernetes.event_wait", "2s", "0", "1m", "10", "2", "0", "60",
       [](const Config& c) { return Num(c.kube_event_wait); }},
      {"kubernetes.leader_election.enabled", "yes", "0", "true", "0", "1", "0",
       "1", [](const Config& c) { return std::to_string(c.kube_le_enabled); }},
      {"kubernetes.leader_election.lease_name", "f", "e.x", "x-1", "crashctl",
       "f", "e.x", "x-1", [](const Config& c) { return c.kube_le_lease_name; }},
      {"kubernetes.leader_election.namespace", "f", "e", "x", "", "f", "e", "x",
       [](const Config& c) { return c.kube_le_namespace; }},
      {"kubernetes.leader_election.identity", "pod-f", "pod-e", "pod-x", "",
       "pod-f", "pod-e", "pod-x",
       [](const Config& c) { return c.kube_le_identity; }},
      {"kubernetes.leader_election.lease_duration", "20s", "30s", "1m", "15",
       "20", "30", "60",
       [](const Config& c) { return Num(c.kube_le_lease_duration); }},
      {"kubernetes.leader_election.renew_deadline", "5s", "6s", "12s", "10",
       "5", "6", "12",
       [](const Config& c) { return Num(c.kube_le_renew_deadline); }},
      {"kubernetes.leader_election.retry_period", "1s", "3s", "4s", "2", "1",
       "3", "4", [](const Config& c) { return Num(c.kube_le_retry_period); }},
      {"alerting.alertmanager_url", "[\"http://a:9093\", \"http://b:9093/\"]",
       "http://c:9093", "http://d:9093,https://e:9093", "",
       "http://a:9093,http://b:9093", "http://c:9093",
       "http://d:9093,https://e:9093",
       [](const Config& c) { return Join(c.alertmanager_urls); }},
      {"alerting.cooldown", "1m", "0", "30s", "300", "60", "0", "30",
       [](const Config& c) { return Num(c.alert_cooldown); }},
      {"auth.admin_token", "filetoken", "envtoken", "flagtoken", "",
       "filetoken", "envtoken", "flagtoken",
       [](const Config& c) { return c.admin_token; }},
      {"auth.read_token", "fileread", "envread", "flagread", "", "fileread",
       "envread", "flagread", [](const Config& c) { return c.read_token; }},
      {"privacy.scrub_defaults", "false", "no", "1", "1", "0", "0", "1",
       [](const Config& c) { return std::to_string(c.scrub_defaults); }},
      {"privacy.scrub_keys", "[Card_Holder, ssn]", "iban", "pin,cvv", "",
       "card_holder,ssn", "iban", "pin,cvv",
       [](const Config& c) { return Join(c.scrub_keys); }},
      {"privacy.store_ip", "true", "false", "yes", "0", "1", "0", "1",
       [](const Config& c) { return std::to_string(c.store_ip); }},
      {"metrics.max_services", "10", "20", "30", "100", "10", "20", "30",
       [](const Config& c) { return std::to_string(c.metrics_max_services); }},
      {"metrics.top_groups", "0", "5", "7", "50", "0", "5", "7",
       [](const Config& c) { return std::to_string(c.metrics_top_groups); }},
      {"log.level", "debug", "warn", "error", "info", "debug", "warn", "error",
       [](const Config& c) { return c.log_level; }},
      {"log.format", "json", "text", "json", "text", "json", "text", "json",
       [](const Config& c) { return c.log_format; }},
  };
}

TEST(ConfigPrecedenceTest, EveryKeyHasACase) {
  std::set<std::string> covered;
  for (const auto& c : KeyCases()) covered.insert(c.key);
  for (const auto& key : ConfigKeys()) EXPECT_TRUE(covered.count(key)) << key;
  EXPECT_EQ(covered.size(), ConfigKeys().size());
}

TEST(ConfigPrecedenceTest, EachKeyFromEachSourceAndCombinations) {
  for (const auto& c : KeyCases()) {
    SCOPED_TRACE(c.key);
    const std::string env_name = ConfigEnvName(c.key);
    const std::string file =
        WriteFile("prec.yaml", NestedYaml(c.key, c.file_value));
    // Combination: {file?, env?, flag?} -> expected winner.
    struct Combo {
      bool file, env, flag;
      std::string expect;
    };
    const Combo combos[] = {
        {false, false, false, c.expect_default},
        {true, false, false, c.expect_file},
        {false, true, false, c.expect_env},
        {false, false, true, c.expect_flag},
        {true, true, false, c.expect_env},
        {true, false, true, c.expect_flag},
        {false, true, true, c.expect_flag},
        {true, true, true, c.expect_flag},
    };
    for (const auto& combo : combos) {
      SCOPED_TRACE(::testing::Message() << "file=" << combo.file << " env="
                                        << combo.env << " flag=" << combo.flag);
      Map env = {{"HOME", "/root"}};
      Map flags;
      if (combo.env) env[env_name] = c.env_value;
      if (combo.flag) flags[c.key] = c.flag_value;
      Config config;
      std::string error;
      ASSERT_TRUE(
          LoadConfig(combo.file ? file : "", env, flags, &config, &error))
          << error;
      EXPECT_EQ(c.get(config), combo.expect);
    }
  }
}

TEST(ConfigPrecedenceTest, SourcesMixPerKey) {
  // Each source sets a different key; all three land, and none overrides
  // keys it does not name.
  std::string file = WriteFile("mix.yaml",
                               "server:\n  listen: \"127.0.0.1:1\"\n"
                               "  max_connections: 7\n"
                               "log:\n  level: debug\n");
  Map env = {{"CRASHCTL_SERVER_MAX_CONNECTIONS", "8"}};
  Map flags = {{"storage.path", "/d"}};
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig(file, env, flags, &config, &error)) << error;
  EXPECT_EQ(config.listen, "127.0.0.1:1");
  EXPECT_EQ(config.max_connections, 8);
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.data_dir, "/d");
  EXPECT_EQ(config.DatabasePath(), "/d/crashctl.db");
  EXPECT_EQ(config.batch_size, 512);  // untouched default
}

TEST(ConfigTest, EnvNames) {
  EXPECT_EQ(ConfigEnvName("server.listen"), "CRASHCTL_SERVER_LISTEN");
  EXPECT_EQ(ConfigEnvName("kubernetes.restart_threshold"),
            "CRASHCTL_KUBERNETES_RESTART_THRESHOLD");
  EXPECT_EQ(ConfigEnvName("auth.admin_token"), "CRASHCTL_AUTH_ADMIN_TOKEN");
}

TEST(ConfigTest, ConfigFileFromEnvironment) {
  std::string file =
      WriteFile("fromenv.yaml", "server:\n  max_connections: 3\n");
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig("", {{"CRASHCTL_CONFIG", file}}, {}, &config, &error))
      << error;
  EXPECT_EQ(config.max_connections, 3);
}

TEST(ConfigTest, NonConfigVariablesAreAllowed) {
  Map env = {{"CRASHCTL_CONFIG", ""},
             {"CRASHCTL_DSN", "http://x@y/1"},
             {"CRASHCTL_SERVICE", "api"},
             {"CRASHCTL_CRASH_FD", "3"},
             {"CRASHCTL_SPOOL_DIR", "/tmp"},
             {"CRASHCTL_BINARY", "/b"},
             {"CRASHCTL_SOURCE_DIR", "/s"},
             {"CRASHCTL_SDK_DEBUG", "1"},
             {"CRASHCTL_TEST_ANYTHING", "x"},
             {"PATH", "/bin"},
             {"CRASHCTL_NO_TRACE", "1"},
             {"CRASHCTL_TRACE_GO", "1"},
             {"CRASHCTL_TRACE_MAX_SIGNALS", "0"},
             {"CRASHCTL_DELIVERY_TIMEOUT_MS", "100"},
             {"NOT_CRASHCTL_FOO", "x"}};
  Config config;
  std::string error;
  EXPECT_TRUE(LoadConfig("", env, {}, &config, &error)) << error;
  EXPECT_TRUE(IsNonConfigEnv("CRASHCTL_SDK_X"));
  EXPECT_FALSE(IsNonConfigEnv("CRASHCTL_SERVER_LISTEN"));
}

TEST(ConfigTest, KubernetesServiceLinksAreNotConfiguration) {
  // A Service named "crashctl" gives its pods these variables.
  Config config;
  std::string error;
  EXPECT_TRUE(LoadConfig("",
                         {{"CRASHCTL_SERVICE_HOST", "10.0.0.1"},
                          {"CRASHCTL_SERVICE_PORT", "9190"},
                          {"CRASHCTL_SERVICE_PORT_HTTP", "9190"},
                          {"CRASHCTL_PORT", "tcp://10.0.0.1:9190"},
                          {"CRASHCTL_PORT_9190_TCP", "tcp://10.0.0.1:9190"},
                          {"CRASHCTL_PORT_9190_TCP_PROTO", "tcp"},
                          {"CRASHCTL_PORT_9190_TCP_PORT", "9190"},
                          {"CRASHCTL_PORT_9190_TCP_ADDR", "10.0.0.1"}},
                         {}, &config, &error))
      << error;
  EXPECT_FALSE(
      LoadConfig("", {{"CRASHCTL_SERVER_PORT", "1"}}, {}, &config, &error));
}

TEST(ConfigTest, EmptyEnvironmentValueMeansUnset) {
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig("", {{"CRASHCTL_SERVER_MAX_CONNECTIONS", ""}}, {},
                         &config, &error))
      << error;
  EXPECT_EQ(config.max_connections, 512);
}

TEST(ConfigTest, YamlDetails) {
  // Dotted keys at the top level, null values keeping defaults, a single
  // URL string, an empty file.
  std::string file = WriteFile("details.yaml",
                               "server.listen: \"127.0.0.1:5\"\n"
                               "kubernetes:\n  namespaces:\n"
                               "alerting:\n  alertmanager_url: http://am:9093\n"
                               "log:\n");
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig(file, {}, {}, &config, &error)) << error;
  EXPECT_EQ(config.listen, "127.0.0.1:5");
  EXPECT_TRUE(config.kube_namespaces.empty());
  EXPECT_EQ(config.alertmanager_urls,
            std::vector<std::string>{"http://am:9093"});

  std::string empty = WriteFile("empty.yaml", "");
  ASSERT_TRUE(LoadConfig(empty, {}, {}, &config, &error)) << error;
  EXPECT_EQ(config.listen, ":9190");
}

TEST(ConfigTest, DuplicateKeysAndUnclosedQuotesAreErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"server:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n",
       "duplicate key \"server.listen\""},
      {"log:\n  level: info\nlog:\n  format: json\n", "duplicate key \"log\""},
      {"server:\n  listen: \"127.0.0.1:9300\nlog:\n  level: debug\n",
       "quoted value never closed"},
      {"server:\n  listen: '127.0.0.1:9303\n", "quoted value never closed"},
      {"kubernetes:\n  namespaces: [\"a\", \"b]\n", ""},  // yaml-cpp's own
  };
  for (const auto& [yaml, want] : cases) {
    SCOPED_TRACE(yaml);
    const std::string file = WriteFile("bad.yaml", yaml);
    Config config;
    std::string error;
    EXPECT_FALSE(LoadConfig(file, {}, {}, &config, &error));
    EXPECT_THAT(error, HasSubstr(want));
    EXPECT_THAT(error, HasSubstr("line "));
  }
  // Closed quotes, escapes and '' inside single quotes are fine.
  const std::string file = WriteFile(
      "good.yaml",
      "server:\n  listen: \"127.0.0.1:9\"\n  base_url: 'http://a''b.example'\n"
      "auth:\n  admin_token: \"a\\\"b\"\n");
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig(file, {}, {}, &config, &error)) << error;
  EXPECT_EQ(config.admin_token, "a\"b");
}

TEST(ConfigTest, ValidListenAddresses) {
  for (const char* listen : {":9190", "127.0.0.1:0", "[::1]:9190",
                             "0.0.0.0:9190", "localhost:65535", "[::]:80"}) {
    Config config;
    std::string error;
    EXPECT_TRUE(
        LoadConfig("", {}, {{"server.listen", listen}}, &config, &error))
        << listen << ": " << error;
    EXPECT_EQ(config.listen, listen);
  }
}

TEST(ConfigTest, SizeUnits) {
  const std::pair<const char*, int64_t> cases[] = {
      {"1", 1},           {"1024", 1024},       {"1KiB", 1024},
      {"512KiB", 524288}, {"1MiB", 1048576},    {"20MiB", 20971520},
      {"1MB", 1000000},   {"1kb", 1000},        {"1 MiB", 1048576},
      {"1.5KiB", 1536},   {"1GiB", 1073741824}, {"2B", 2},
  };
  for (const auto& [text, bytes] : cases) {
    Config config;
    std::string error;
    ASSERT_TRUE(LoadConfig("", {},
                           {{"ingest.max_event_bytes", text},
                            {"ingest.max_request_bytes", "2GiB"}},
                           &config, &error))
        << text << ": " << error;
    EXPECT_EQ(config.max_event_bytes, bytes) << text;
  }
}

// --- errors ---------------------------------------------------------------

TEST(ConfigErrorTest, Table) {
  enum Source { kFile, kEnv, kFlag };
  struct Case {
    Source source;
    std::string name;                 // file text, env variable, or flag key
    std::string value;                // env / flag value (unused for files)
    std::vector<std::string> expect;  // substrings of the error
  };
  const std::vector<Case> cases = {
      // Unknown keys at any level.
      {kFile,
       "server:\n  lisen: \":1\"\n",
       "",
       {"config file", "unknown key \"server.lisen\""}},
      {kFile, "bogus: 1\n", "", {"unknown key \"bogus\""}},
      {kFile,
       "kubernetes:\n  enabled: true\n  extra:\n    deep: 1\n",
       "",
       {"unknown key \"kubernetes.extra\""}},
      {kEnv,
       "CRASHCTL_SERVER_LISEN",
       ":1",
       {"environment CRASHCTL_SERVER_LISEN", "unknown"}},
      {kEnv, "CRASHCTL_LISTEN", ":1", {"environment CRASHCTL_LISTEN"}},
      {kFlag, "server.lisen", ":1", {"flag --server.lisen", "unknown key"}},
      // Wrong types.
      {kFile, "server: 5\n", "", {"key \"server\"", "expected a mapping"}},
      {kFile,
       "server:\n  listen:\n    a: b\n",
       "",
       {"key \"server.listen\"", "got a mapping"}},
      {kFile,
       "server:\n  max_connections: [1, 2]\n",
       "",
       {"key \"server.max_connections\"", "got a list"}},
      {kFile,
       "kubernetes:\n  namespaces:\n    - [a]\n",
       "",
       {"key \"kubernetes.namespaces\"", "list items"}},
      {kFile, "- a\n- b\n", "", {"top level must be a mapping"}},
      {kFile, "server: [\n", "", {"config file", "line"}},
      {kFile,
       "server:\n  max_connections: many\n",
       "",
       {"key \"server.max_connections\"", "bad integer \"many\""}},
      {kEnv, "CRASHCTL_INGEST_QUEUE_SIZE", "1.5", {"bad integer \"1.5\""}},
      {kEnv, "CRASHCTL_INGEST_QUEUE_SIZE", "0", {"out of range"}},
      {kEnv, "CRASHCTL_SERVER_MAX_CONNECTIONS", "-1", {"out of range"}},
      {kFlag, "kubernetes.restart_threshold", "99999999999", {"out of range"}},
      // Sizes.
      {kEnv,
       "CRASHCTL_INGEST_MAX_EVENT_BYTES",
       "-1MiB",
       {"environment CRASHCTL_INGEST_MAX_EVENT_BYTES", "negative size"}},
      {kEnv, "CRASHCTL_INGEST_MAX_EVENT_BYTES", "12XB", {"bad size \"12XB\""}},
      {kFlag, "ingest.max_request_bytes", "0", {"must be positive"}},
      {kEnv,
       "CRASHCTL_RETENTION_MAX_SIZE",
       "2 parsecs",
       {"environment CRASHCTL_RETENTION_MAX_SIZE", "bad size \"2 parsecs\""}},
      {kFlag,
       "ingest.max_event_bytes",
       "30MiB",
       {"ingest.max_event_bytes", "exceeds ingest.max_request_bytes"}},
      // Durations.
      {kEnv,
       "CRASHCTL_RETENTION_MAX_AGE",
       "abc",
       {"environment CRASHCTL_RETENTION_MAX_AGE: bad duration \"abc\""}},
      {kFile,
       "retention:\n  cleanup_interval: 10\n",
       "",
       {"key \"retention.cleanup_interval\"", "bad duration \"10\""}},
      {kFlag, "server.request_timeout", "0s", {"must be positive"}},
      // Tracing.
      {kEnv,
       "CRASHCTL_TRACING_STORE_SAMPLE_RATE",
       "1.5",
       {"CRASHCTL_TRACING_STORE_SAMPLE_RATE", "between 0 and 1"}},
      {kFlag, "tracing.store_sample_rate", "half", {"bad number \"half\""}},
      {kFile,
       "tracing:\n  duration_buckets: [1, 0.5]\n",
       "",
       {"key \"tracing.duration_buckets\"", "must increase"}},
      {kFlag, "tracing.duration_buckets", "0,1", {"must be positive"}},
      {kFlag, "tracing.max_series", "0", {"tracing.max_series"}},
      // Sessions.
      {kFlag, "sessions.idle_timeout", "6d", {"at most 5d"}},
      {kEnv,
       "CRASHCTL_SESSIONS_IDLE_TIMEOUT",
       "0s",
       {"CRASHCTL_SESSIONS_IDLE_TIMEOUT", "must be positive"}},
      {kFlag, "sessions.max_releases", "0", {"sessions.max_releases"}},
      {kFile,
       "sessions:\n  max_open: many\n",
       "",
       {"key \"sessions.max_open\""}},
      // Monitors.
      {kFlag, "monitors.max_per_project", "0", {"monitors.max_per_project"}},
      {kEnv,
       "CRASHCTL_MONITORS_MAX_PER_PROJECT",
       "many",
       {"CRASHCTL_MONITORS_MAX_PER_PROJECT"}},
      {kEnv,
       "CRASHCTL_RETENTION_TRANSACTIONS_MAX_AGE",
       "soon",
       {"CRASHCTL_RETENTION_TRANSACTIONS_MAX_AGE", "bad duration \"soon\""}},

      // Bools.
      {kEnv, "CRASHCTL_KUBERNETES_ENABLED", "maybe", {"bad boolean \"maybe\""}},
      // Listen.
      {kFlag, "server.listen", "9190", {"flag --listen", "bad listen address"}},
      {kFlag, "server.listen", ":70000", {"port"}},
      {kFlag, "server.listen", ":-1", {"port"}},
      {kFlag, "server.listen", "host:", {"port"}},
      {kFlag, "server.listen", "::1:9190", {"brackets"}},
      {kFlag, "server.listen", "[::g]:9190", {"bad IPv6"}},
      {kFlag, "server.listen", "[::1:9190", {"bad listen address"}},
      {kFlag, "server.listen", "ho st:1", {"bad host"}},
      {kEnv,
       "CRASHCTL_SERVER_LISTEN",
       "localhost:http",
       {"environment CRASHCTL_SERVER_LISTEN", "port"}},
      // URLs.
      {kFile,
       "server:\n  base_url: ftp://x\n",
       "",
       {"key \"server.base_url\"", "http:// or https://"}},
      {kEnv, "CRASHCTL_SERVER_BASE_URL", "http://", {"no host"}},
      {kEnv,
       "CRASHCTL_ALERTING_ALERTMANAGER_URL",
       "http://a:9093,am:9093",
       {"environment CRASHCTL_ALERTING_ALERTMANAGER_URL", "\"am:9093\""}},
      {kFlag, "kubernetes.api_server", "localhost:6443", {"bad URL"}},
      // Enumerations and strings.
      {kEnv,
       "CRASHCTL_LOG_LEVEL",
       "verbose",
       {"bad value \"verbose\"", "trace|debug|info|warn|error"}},
      {kFile, "log:\n  format: xml\n", "", {"key \"log.format\""}},
      {kFlag, "storage.path", "", {"flag --data", "must not be empty"}},
      {kEnv,
       "CRASHCTL_KUBERNETES_NAMESPACES",
       "default,Bad_NS",
       {"bad namespace \"Bad_NS\""}},
      {kEnv, "CRASHCTL_AUTH_ADMIN_TOKEN", "a b", {"whitespace"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " = " + c.value);
    std::string file;
    Map env, flags;
    switch (c.source) {
      case kFile:
        file = WriteFile("err.yaml", c.name);
        break;
      case kEnv:
        env[c.name] = c.value;
        break;
      case kFlag:
        flags[c.name] = c.value;
        break;
    }
    Config config;
    config.max_connections = -42;  // must stay untouched on error
    std::string error;
    EXPECT_FALSE(LoadConfig(file, env, flags, &config, &error));
    EXPECT_EQ(config.max_connections, -42);
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    for (const auto& want : c.expect) EXPECT_THAT(error, HasSubstr(want));
  }
}

TEST(ConfigErrorTest, MissingExplicitFile) {
  Config config;
  std::string error;
  EXPECT_FALSE(
      LoadConfig("/nonexistent/crashctl.yaml", {}, {}, &config, &error));
  EXPECT_THAT(error, HasSubstr("config file /nonexistent/crashctl.yaml"));
  EXPECT_FALSE(LoadConfig("", {{"CRASHCTL_CONFIG", "/nonexistent/c.yaml"}}, {},
                          &config, &error));
  EXPECT_THAT(error, HasSubstr("/nonexistent/c.yaml"));
}

TEST(ConfigErrorTest, FileErrorNamesPath) {
  std::string file = WriteFile("crashctl.yaml", "server:\n  lisen: \":1\"\n");
  Config config;
  std::string error;
  EXPECT_FALSE(LoadConfig(file, {}, {}, &config, &error));
  EXPECT_EQ(error, "config file " + file + ": unknown key \"server.lisen\"");
}

// --- the shipped example and docs ----------------------------------------

std::string SourceDir() {
  const char* dir = std::getenv("CRASHCTL_SOURCE_DIR");
  return dir != nullptr ? dir : CRASHCTL_TEST_SOURCE_DIR;
}

void CollectLeaves(const YAML::Node& node, const std::string& prefix,
                   std::set<std::string>* out) {
  for (const auto& entry : node) {
    std::string path = prefix.empty() ? entry.first.Scalar()
                                      : prefix + "." + entry.first.Scalar();
    if (entry.second.IsMap()) {
      CollectLeaves(entry.second, path, out);
    } else {
      out->insert(path);
    }
  }
}

TEST(ConfigExampleTest, FullExampleFileLoadsAndSetsEveryKey) {
  const std::string path = SourceDir() + "/deploy/crashctl.example.yaml";
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig(path, {}, {}, &config, &error)) << error;
  std::set<std::string> leaves;
  CollectLeaves(YAML::LoadFile(path), "", &leaves);
  std::set<std::string> keys(ConfigKeys().begin(), ConfigKeys().end());
  EXPECT_EQ(leaves, keys);
  // A few values the example spells with units.
  EXPECT_EQ(config.max_event_bytes, 1 << 20);
  EXPECT_EQ(config.max_request_bytes, 20 << 20);
  EXPECT_DOUBLE_EQ(config.retention_max_age, 720 * 3600.0);
  EXPECT_EQ(config.listen, ":9190");
}

// As client-go: lease_duration > renew_deadline > retry_period * 1.2.
TEST(ConfigLeaderElectionTest, DurationsAreValidatedLikeClientGo) {
  struct Case {
    std::map<std::string, std::string> flags;
    bool ok;
    std::string message;
  };
  const Case cases[] = {
      {{}, true, ""},
      {{{"kubernetes.leader_election.lease_duration", "1500ms"},
        {"kubernetes.leader_election.renew_deadline", "1s"},
        {"kubernetes.leader_election.retry_period", "200ms"}},
       true,
       ""},
      {{{"kubernetes.leader_election.lease_duration", "10s"}},
       false,
       "lease_duration must be greater"},
      {{{"kubernetes.leader_election.retry_period", "9s"}},
       false,
       "renew_deadline must be greater"},
      {{{"kubernetes.leader_election.lease_name", "Bad_Name"}},
       false,
       "bad lease name"},
      {{{"kubernetes.leader_election.namespace", "a.b"}},
       false,
       "bad namespace"},
  };
  for (const Case& c : cases) {
    Config config;
    std::string error;
    EXPECT_EQ(LoadConfig("", {}, c.flags, &config, &error), c.ok) << error;
    if (!c.ok) {
      EXPECT_THAT(error, HasSubstr(c.message));
    }
  }
  Config config;
  std::string error;
  ASSERT_TRUE(
      LoadConfig("", {{"CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED", "true"}},
                 {}, &config, &error))
      << error;
  EXPECT_TRUE(config.kube_le_enabled);
  EXPECT_EQ(config.kube_le_lease_name, "crashctl");
}

TEST(PostgresConfigTest, DriverDsnAndPoolSize) {
  Config config;
  std::string error;
  ASSERT_TRUE(LoadConfig("",
                         {{"CRASHCTL_STORAGE_DRIVER", "postgres"},
                          {"CRASHCTL_STORAGE_POSTGRES_DSN", "host=db"},
                          {"CRASHCTL_STORAGE_POSTGRES_POOL_SIZE", "3"}},
                         {}, &config, &error))
      << error;
  EXPECT_EQ(config.storage_driver, "postgres");
  EXPECT_EQ(config.postgres_dsn, "host=db");
  EXPECT_EQ(config.postgres_pool_size, 3);

  Config defaults;
  ASSERT_TRUE(LoadConfig("", {}, {}, &defaults, &error)) << error;
  EXPECT_EQ(defaults.storage_driver, "sqlite");
  EXPECT_EQ(defaults.postgres_pool_size, 8);

  EXPECT_FALSE(LoadConfig("", {{"CRASHCTL_STORAGE_DRIVER", "mysql"}}, {},
                          &config, &error));
  EXPECT_THAT(error, HasSubstr("CRASHCTL_STORAGE_DRIVER"));
  EXPECT_THAT(error, HasSubstr("sqlite|postgres"));
  EXPECT_FALSE(LoadConfig(WriteFile("drv.yaml", "storage:\n  driver: pg\n"), {},
                          {}, &config, &error));
  EXPECT_THAT(error, HasSubstr("storage.driver"));
  EXPECT_FALSE(LoadConfig("", {{"CRASHCTL_STORAGE_DRIVER", "postgres"}}, {},
                          &config, &error));
  EXPECT_THAT(error, HasSubstr("storage.postgres.dsn"));
  EXPECT_FALSE(LoadConfig("", {{"CRASHCTL_STORAGE_POSTGRES_POOL_SIZE", "0"}},
                          {}, &config, &error));
  EXPECT_THAT(error, HasSubstr("CRASHCTL_STORAGE_POSTGRES_POOL_SIZE"));
}

TEST(PostgresConfigTest, DsnForLogHidesThePassword) {
  EXPECT_EQ(PostgresDsnForLog("host=db user=u password=s3cret dbname=x"),
            "host=db user=u password=*** dbname=x");
  EXPECT_EQ(PostgresDsnForLog("host=db password = 'a b\\'c' port=5"),
            "host=db password = *** port=5");
  EXPECT_EQ(
      PostgresDsnForLog("postgresql://u:s3cret@db:5432/x?sslmode=require"),
      "postgresql://u:***@db:5432/x?sslmode=require");
  EXPECT_EQ(PostgresDsnForLog("postgres://u@db/x?password=s3cret&a=b"),
            "postgres://u@db/x?password=***&a=b");
  EXPECT_EQ(PostgresDsnForLog("host=db dbname=x"), "host=db dbname=x");
}

TEST(ConfigExampleTest, DocsNameEveryKeyAndVariable) {
  std::ifstream in(SourceDir() + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& key : ConfigKeys()) {
    EXPECT_THAT(doc, HasSubstr("`" + key + "`"));
    EXPECT_THAT(doc, HasSubstr("`" + ConfigEnvName(key) + "`"));
  }
}

}  // namespace
}  // namespace core
}  // namespace crashctl
