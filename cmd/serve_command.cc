// `crashctl serve`: wires config, store, pipeline, HTTP routes, metrics,
// retention, the Kubernetes watcher (under leader election when several
// replicas share a database) and the alert pusher, then runs until
// SIGTERM/SIGINT and shuts down gracefully (in-flight requests finish, queued
// events are committed). Wiring only: what runs lives in the components.
#include <malloc.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "crashctl/alertmanager/metrics.h"
#include "crashctl/alertmanager/pusher.h"
#include "crashctl/core/config.h"
#include "crashctl/cron/monitor_service.h"
#include "crashctl/exporter/exporter.h"
#include "crashctl/exporter/store_metrics.h"
#include "crashctl/health/session_service.h"
#include "crashctl/http/metrics.h"
#include "crashctl/http/server.h"
#include "crashctl/ingest/handlers.h"
#include "crashctl/ingest/label_state.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/ingest/transaction_metrics.h"
#include "crashctl/kube/kube_watcher.h"
#include "crashctl/kube/leader_elector.h"
#include "crashctl/kube/metrics.h"
#include "crashctl/model/dsn.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/scrub/scrubber.h"
#include "crashctl/store/retention.h"
#include "crashctl/store/store.h"
#include "store_open.h"

namespace crashctl {
namespace cmd {
namespace {

void SetUpLogging(const core::Config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (config.log_format == "json") {
    spdlog::set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v",
                        spdlog::pattern_time_type::utc);
  }
}

}  // namespace

int ServeCommand(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  if (!ParseCommandFlags("serve", args, {"config", "listen", "data"},
                         &parsed)) {
    return kExitUsage;
  }
  const ConfigArgs config_args = ConfigArgsFrom(parsed);
  core::Config config;
  std::string error;
  if (!core::LoadConfig(config_args.config_path, core::ProcessEnvironment(),
                        config_args.key_flags, &config, &error)) {
    std::cerr << "crashctl serve: " << error << "\n";
    return kExitUsage;
  }
  if (!config.read_token.empty() &&
      (config.admin_token.empty() || config.read_token == config.admin_token)) {
    std::cerr << "crashctl serve: auth.read_token needs an auth.admin_token "
                 "different from it (without one the REST API is open)\n";
    return kExitUsage;
  }
  SetUpLogging(config);
  // Keep up to 8 MB of freed heap instead of returning it to the kernel
  // after every large request or /metrics scrape: with glibc's default the
  // next one faults all those pages in again (a 10,000-series scrape took
  // 3x longer). Bounded, and it does not touch idle memory.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);

  // Signals are taken by sigwait() below; block them before any thread
  // starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A file size limit (RLIMIT_FSIZE) makes writes fail with EFBIG like a
  // full disk: answer 503 and recover, rather than die of SIGXFSZ.
  signal(SIGXFSZ, SIG_IGN);

  std::unique_ptr<store::Store> store =
      OpenConfiguredStore(config, /*for_ingest=*/true, &error);
  if (!store) {
    spdlog::critical("cannot open database {}: {}", StoreDescription(config),
                     error);
    return kExitFailure;
  }
  if (config.storage_driver == "postgres") {
    spdlog::warn(
        "storage.driver postgres is a first slice (docs/postgres.md): "
        "projects, keys, events, groups, pod crashes, transactions, cron "
        "monitors, attachments, feedback, sessions and releases are kept; "
        "search, stats, merges and size retention are not yet (their routes "
        "answer 501)");
  }
  exporter::Exporter::Options exporter_options;
  exporter_options.version = Version();
  exporter_options.max_services =
      static_cast<size_t>(config.metrics_max_services);
  exporter::Exporter exporter(exporter_options);
  prometheus::Registry* registry = exporter.registry();
  exporter::StoreMetrics store_metrics(&exporter, store.get(),
                                       config.metrics_top_groups);
  ingest::Metrics ingest_metrics(registry, exporter.services());
  // Transactions (docs/tracing.md): one process-wide label budget, its
  // state kept in the database so that restarts and replicas agree.
  ingest::TransactionMetrics::Options tx_metrics_options;
  tx_metrics_options.limits.max_transactions =
      static_cast<size_t>(config.tracing_max_transactions);
  tx_metrics_options.limits.max_series =
      static_cast<size_t>(config.tracing_max_series);
  tx_metrics_options.duration_buckets = config.tracing_duration_buckets;
  ingest::TransactionMetrics tx_metrics(registry, tx_metrics_options);
  ingest::LabelStateSync label_state(store.get(), tx_metrics.budget());
  if (config.tracing_enabled) {
    const Status loaded = label_state.Load();
    if (!loaded.ok()) spdlog::warn("tracing: {}", loaded.message());
  }
  http::Metrics http_metrics(registry);

  ingest::IngestPipeline::Options pipeline_options;
  pipeline_options.queue_size = static_cast<size_t>(config.queue_size);
  pipeline_options.batch_size = static_cast<size_t>(config.batch_size);
  ingest::IngestPipeline pipeline(store.get(), &ingest_metrics,
                                  pipeline_options);
  pipeline.AddListener([&store_metrics](const model::WriteItem& item,
                                        const model::WriteOutcome& outcome) {
    store_metrics.OnEventStored(item, outcome);
  });
  exporter.AddRefreshHook([&pipeline] { pipeline.RefreshMetrics(); });
  if (config.tracing_enabled) {
    // crashctl_transactions_total{project,outcome} from 0 for every project.
    exporter.AddRefreshHook([&store, &tx_metrics] {
      std::vector<model::Project> projects;
      if (!store->ListProjects(&projects).ok()) return;
      for (const model::Project& p : projects) tx_metrics.ProjectKnown(p.id);
    });
  }

  alertmanager::Metrics alert_metrics(registry);
  alertmanager::AlertPusher pusher(config, &alert_metrics);
  // Release health and cron monitors (docs/release-health.md,
  // docs/monitors.md).
  health::SessionService::Options session_options;
  session_options.tracker.idle_timeout_seconds = config.sessions_idle_timeout;
  session_options.tracker.max_open =
      static_cast<size_t>(config.sessions_max_open);
  session_options.max_releases =
      static_cast<size_t>(config.sessions_max_releases);
  session_options.max_environments =
      static_cast<size_t>(config.sessions_max_environments);
  health::SessionService sessions(store.get(), registry, session_options);
  exporter.AddRefreshHook([&store, &sessions] {
    std::vector<model::Project> projects;
    if (!store->ListProjects(&projects).ok()) return;
    for (const model::Project& p : projects) sessions.ProjectKnown(p.id);
  });
  pipeline.AddListener([&sessions](const model::WriteItem& item,
                                   const model::WriteOutcome& outcome) {
    sessions.OnEventStored(item, outcome);
  });
  // Cron monitors need a store that keeps them (both drivers do).
  std::optional<int64_t> monitor_probe;
  const bool monitors_enabled =
      config.monitors_enabled &&
      store->NextMonitorDeadline(&monitor_probe).code() !=
          Status::Code::kInternal;
  if (config.monitors_enabled && !monitors_enabled) {
    spdlog::warn(
        "cron monitors: this store keeps no monitors; check-ins "
        "are dropped");
  }
  cron::MonitorService::Options monitor_options;
  monitor_options.max_monitors_per_project =
      static_cast<size_t>(config.monitors_max_per_project);
  // For tests only (docs/monitors.md "Testing"): the scheduler's clock runs
  // this many seconds ahead, so a test sees a run missed while crashctl was
  // down without waiting for real minutes.
  if (const char* offset = std::getenv("CRASHCTL_TEST_CRON_CLOCK_OFFSET")) {
    char* end = nullptr;
    const long long seconds = std::strtoll(offset, &end, 10);
    if (end != offset && *end == '\0' && seconds >= 0 &&
        seconds <= 366LL * 86400) {
      spdlog::warn("cron monitors: clock offset of {} s (a test setting)",
                   seconds);
      monitor_options.now = [seconds] {
        return static_cast<int64_t>(std::time(nullptr)) + seconds;
      };
    } else {
      spdlog::warn(
          "cron monitors: CRASHCTL_TEST_CRON_CLOCK_OFFSET \"{}\" "
          "ignored (want 0..31622400 seconds)",
          offset);
    }
  }
  cron::MonitorService monitors(store.get(), registry,
                                pusher.enabled() ? &pusher : nullptr,
                                monitor_options);

  http::Router router;
  ingest::IngestHandlers::Options ingest_options;
  ingest_options.max_event_bytes = static_cast<size_t>(config.max_event_bytes);
  ingest_options.max_request_bytes =
      static_cast<size_t>(config.max_request_bytes);
  ingest_options.commit_timeout_seconds = config.request_timeout;
  ingest_options.max_attachment_bytes =
      static_cast<size_t>(config.max_attachment_bytes);
  // Large attachments wait for their commit in <data_dir>/spool; files a
  // crash left there are deleted now.
  ingest_options.spool_dir = config.data_dir + "/spool";
  ingest::IngestHandlers::RemoveStaleSpoolFiles(ingest_options.spool_dir);
  scrub::Options scrub_options;
  scrub_options.defaults = config.scrub_defaults;
  scrub_options.extra_keys = config.scrub_keys;
  const scrub::Scrubber scrubber(scrub_options);
  ingest_options.normalize.scrubber = &scrubber;
  ingest_options.normalize.store_ip = config.store_ip;
  // Older than the retention window would be deleted at once: such times
  // become the receive time too.
  ingest_options.normalize.max_past_seconds =
      std::min(30 * 86400.0, config.retention_max_age);
  ingest_options.tracing_enabled = config.tracing_enabled;
  ingest_options.store_sample_rate = config.tracing_store_sample_rate;
  ingest_options.transaction_metrics = &tx_metrics;
  ingest_options.transaction.max_future_seconds =
      ingest_options.normalize.max_future_seconds;
  // Older than the transactions' retention window would be deleted at once.
  ingest_options.transaction.max_past_seconds =
      config.retention_transactions_max_age > 0
          ? std::min(30 * 86400.0, config.retention_transactions_max_age)
          : 30 * 86400.0;
  ingest_options.sessions = &sessions;
  ingest_options.monitors = monitors_enabled ? &monitors : nullptr;
  ingest::IngestHandlers ingest(store.get(), &pipeline, &ingest_metrics,
                                ingest_options);
  ingest.Register(&router);
  exporter.Register(&router);

  // Kubernetes crash detection and alerting are optional parts.
  kube::Metrics kube_metrics(registry);
  std::unique_ptr<kube::KubeWatcher> kube;
  if (config.kube_enabled) {
    kube =
        std::make_unique<kube::KubeWatcher>(config, store.get(), &kube_metrics);
    kube->SetPipeline(&pipeline);  // crash events: ingest metrics, alerts
    pipeline.AddListener([&kube](const model::WriteItem& item,
                                 const model::WriteOutcome& outcome) {
      kube->OnEventStored(item, outcome);
    });
  }
  // Several replicas on one database: only the holder of the Lease watches
  // pods (docs/kubernetes.md "Leader election"). IsLeader() is there for
  // other parts that must run on one replica only.
  std::unique_ptr<kube::LeaderElector> elector;
  if (kube && config.kube_le_enabled) {
    kube::LeaderElector::Options le = kube::LeaderElector::OptionsFromConfig(
        config, core::ProcessEnvironment());
    kube::KubeWatcher* watcher = kube.get();
    // A watcher that does not start gives the Lease back: holding it
    // would keep every other replica from watching.
    le.on_started_leading = [watcher] {
      std::string start_error;
      if (!watcher->Start(&start_error)) {
        spdlog::error("kubernetes: {}", start_error);
        return false;
      }
      return true;
    };
    le.on_stopped_leading = [watcher] { watcher->Stop(); };
    elector = std::make_unique<kube::LeaderElector>(config, std::move(le),
                                                    &kube_metrics);
  } else if (config.kube_le_enabled) {
    spdlog::warn(
        "kubernetes.leader_election.enabled without kubernetes.enabled: "
        "ignored");
  }
  if (pusher.enabled()) {
    pipeline.AddListener([&pusher](const model::WriteItem& item,
                                   const model::WriteOutcome& outcome) {
      pusher.OnEventStored(item, outcome);
    });
    if (kube) {
      kube->AddListener([&pusher](const model::Crash& crash, bool) {
        pusher.PodCrash(crash);
      });
    }
    pusher.Start();
  }

  const std::string base_url = core::PublicBaseUrl(config);
  rest::RestOptions rest_options;
  rest_options.admin_token = config.admin_token;
  rest_options.read_token = config.read_token;
  rest_options.base_url = base_url;
  // With leader election, readiness is ingest's only: a follower runs no
  // watch, and a new leader still listing pods (or one whose list fails)
  // must not leave the Service with no ready replica. The watch's health
  // is crashctl_kube_watch_up and CrashctlKubernetesWatchDown.
  rest_options.ready = [&kube, &elector, &pipeline](std::string* reason) {
    const bool watching = kube && !elector;
    return (!watching || kube->Ready(reason)) && pipeline.Ready(reason);
  };
  // The ingest key cache follows the REST key and project changes at once.
  rest_options.on_keys_changed = [&ingest] { ingest.InvalidateKeys(); };
  rest_options.on_project_created = [&ingest](const model::Project&) {
    ingest.InvalidateKeys();
  };
  // Merges and deletes through the REST API: the per-group metrics follow
  // the store (docs/storage.md "Merging and deleting").
  rest_options.on_groups_merged =
      [&store_metrics](int64_t into, const std::vector<int64_t>& from) {
        store_metrics.GroupsMerged(into, from);
      };
  rest_options.on_groups_deleted =
      [&store_metrics](const std::vector<int64_t>& deleted) {
        store_metrics.GroupsDeleted(deleted);
      };
  rest::RegisterRestRoutes(&router, store.get(), rest_options);

  pipeline.Start();
  if (elector) {
    const Status started = elector->Start();
    if (!started.ok()) {
      spdlog::critical("kubernetes leader election: {}", started.message());
      pipeline.Stop();
      return kExitFailure;
    }
  } else if (kube && !kube->Start(&error)) {
    spdlog::critical("kubernetes: {}", error);
    pipeline.Stop();
    return kExitFailure;
  }
  router.SetCors(
      http::CorsOptions{config.cors_origins, http::OriginOf(base_url)});
  http::HttpServer::Options http_options;
  http_options.listen = config.listen;
  http_options.threads = config.max_connections;
  http_options.request_timeout_ms =
      static_cast<int>(config.request_timeout * 1000);
  http_options.header_timeout_ms =
      static_cast<int>(config.header_timeout * 1000);
  http_options.min_body_rate = config.min_body_rate;
  http_options.max_connections_per_client = config.max_connections_per_client;
  http_options.max_header_bytes = static_cast<size_t>(config.max_header_bytes);
  http_options.max_body_bytes = static_cast<size_t>(config.max_request_bytes);
  http::HttpServer server(&router, &http_metrics, http_options);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    if (elector) elector->Stop();
    if (kube) kube->Stop();
    pipeline.Stop();
    return kExitFailure;
  }
  if (config.admin_token.empty()) {
    spdlog::warn(
        "auth.admin_token is not set: the REST API is open to anyone who "
        "can reach {}",
        config.listen);
  }
  store::Retention::Options retention_options;
  retention_options.max_age_seconds = config.retention_max_age;
  retention_options.interval_seconds = config.retention_cleanup_interval;
  retention_options.max_size_bytes = config.retention_max_size;
  retention_options.transactions_max_age =
      config.retention_transactions_max_age;
  store::Retention retention(
      store.get(), retention_options,
      [&store_metrics](store::Retention::Reason reason, int64_t deleted) {
        if (reason == store::Retention::Reason::kMaxSize) {
          store_metrics.RetentionDeletedForSize(deleted);
        } else {
          store_metrics.RetentionDeleted(deleted);
        }
      });
  retention.Start();
  sessions.Start();
  if (monitors_enabled) monitors.Start();
  if (config.tracing_enabled) label_state.Start();
  spdlog::info("crashctl {} serving on {} (port {}), data {}", Version(),
               config.listen, server.port(), StoreDescription(config));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received signal {}, shutting down", signal_number);
  server.Stop();
  retention.Stop();
  // Stops watching, then releases the Lease: another replica takes over at
  // its next retry.
  if (elector) elector->Stop();
  if (kube) kube->Stop();
  pipeline.Stop();
  sessions.Stop();
  monitors.Stop();
  label_state.Stop();  // saves the label state a last time
  pusher.Stop();
  spdlog::info("shutdown complete");
  return kExitOk;
}

}  // namespace cmd
}  // namespace crashctl
