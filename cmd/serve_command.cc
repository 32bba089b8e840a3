// `crashctl serve`: wires config, store, pipeline, HTTP routes, metrics,
// retention, the Kubernetes watcher and the alert pusher, then runs until
// SIGTERM/SIGINT and shuts down gracefully (in-flight requests finish, queued
// events are committed).
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli.h"
#include "commands.h"
#include "crashctl/alertmanager/pusher.h"
#include "crashctl/core/config.h"
#include "crashctl/exporter/active_groups.h"
#include "crashctl/exporter/metrics.h"
#include "crashctl/http/server.h"
#include "crashctl/ingest/handlers.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/kube/kube_watcher.h"
#include "crashctl/model/dsn.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/scrub/scrubber.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"

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

// Runs `task` every `interval` seconds on its own thread until Stop().
class PeriodicTask {
 public:
  PeriodicTask(double interval, std::function<void()> task)
      : interval_(interval), task_(std::move(task)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~PeriodicTask() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (cv_.wait_for(lock, std::chrono::duration<double>(interval_),
                       [this] { return stopping_; })) {
        return;
      }
      lock.unlock();
      task_();
      lock.lock();
    }
  }

  double interval_;
  std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Mirrors store-derived gauges into the registry before each scrape.
void RefreshStoreGauges(store::Store* store, exporter::Metrics* metrics) {
  std::vector<model::Project> projects;
  std::vector<model::GroupCount> counts;
  if (store->ListProjects(&projects).ok() && store->CountGroups(&counts).ok()) {
    for (const model::Project& project : projects) {
      metrics->ProjectKnown(project.id);
      for (model::GroupStatus status : model::AllGroupStatuses()) {
        double value = 0;
        for (const model::GroupCount& count : counts) {
          if (count.project_id == project.id && count.status == status) {
            value = static_cast<double>(count.count);
          }
        }
        metrics->SetGroupsActive(project.id, model::ToString(status), value);
      }
    }
  }
  const store::Store::Stats stats = store->GetStats();
  metrics->SetStorageSize(static_cast<double>(stats.size_bytes));
  metrics->SetGroupCountersPending(static_cast<double>(stats.deferred_updates));
  metrics->SetStorageBusyRetries(static_cast<double>(stats.write_retries));
}

// Exports the `limit` groups with the most events in the last hour as
// crashctl_group_events_total.
void RefreshTopGroups(store::Store* store, exporter::Metrics* metrics,
                      exporter::ActiveGroups* active, int limit) {
  std::vector<exporter::TopGroup> top;
  for (int64_t id : active->Top(static_cast<size_t>(limit),
                                static_cast<double>(std::time(nullptr)))) {
    model::Group group;
    if (!store->GetGroup(id, &group).ok()) continue;
    top.push_back(exporter::TopGroup{group.project_id, group.id, group.service,
                                     static_cast<double>(group.count)});
  }
  metrics->SetTopGroups(top);
}

void RunRetention(store::Store* store, exporter::Metrics* metrics,
                  double max_age) {
  const double cutoff = static_cast<double>(std::time(nullptr)) - max_age;
  int64_t deleted = 0;
  Status status = store->DeleteOlderThan(cutoff, &deleted);
  if (!status.ok()) {
    spdlog::error("retention: cleanup failed: {}", status.message());
    return;
  }
  metrics->RetentionDeleted(static_cast<double>(deleted));
  if (deleted > 0) spdlog::info("retention: deleted {} events", deleted);
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
      store::OpenSqliteForIngest(config.DatabasePath(), &error);
  if (!store) {
    spdlog::critical("cannot open database {}: {}", config.DatabasePath(),
                     error);
    return kExitFailure;
  }
  exporter::Metrics::Options metrics_options;
  metrics_options.version = Version();
  metrics_options.max_services =
      static_cast<size_t>(config.metrics_max_services);
  exporter::Metrics metrics(metrics_options);
  metrics.AddRefreshHook([&] { RefreshStoreGauges(store.get(), &metrics); });
  exporter::ActiveGroups active_groups;
  metrics.AddRefreshHook([&] {
    RefreshTopGroups(store.get(), &metrics, &active_groups,
                     config.metrics_top_groups);
  });

  ingest::IngestPipeline::Options pipeline_options;
  pipeline_options.queue_size = static_cast<size_t>(config.queue_size);
  pipeline_options.batch_size = static_cast<size_t>(config.batch_size);
  ingest::IngestPipeline pipeline(store.get(), &metrics, pipeline_options);
  pipeline.AddListener([&active_groups](const model::WriteItem& item,
                                        const model::WriteOutcome& outcome) {
    active_groups.Record(outcome.group_id, item.event.received);
  });
  // A scrape after a storage failure probes the store, so
  // crashctl_storage_up recovers even when no events arrive.
  metrics.AddRefreshHook([&pipeline] {
    std::string reason;
    pipeline.StorageUp(&reason);
  });

  http::Router router;
  ingest::IngestHandlers::Options ingest_options;
  ingest_options.max_event_bytes = static_cast<size_t>(config.max_event_bytes);
  ingest_options.max_request_bytes =
      static_cast<size_t>(config.max_request_bytes);
  ingest_options.commit_timeout_seconds = config.request_timeout;
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
  ingest::IngestHandlers ingest(store.get(), &pipeline, &metrics,
                                ingest_options);
  ingest.Register(&router);
  router.Add(
      "GET", "/metrics", "Prometheus metrics (text format 0.0.4)",
      [&metrics](http::HttpRequest&) {
        http::HttpResponse response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = metrics.Serialize();
        return response;
      },
      http::RouteKind::kProbe);

  // Kubernetes crash detection and alerting are optional parts.
  std::unique_ptr<kube::KubeWatcher> kube;
  if (config.kube_enabled) {
    kube = std::make_unique<kube::KubeWatcher>(config, store.get(), &metrics);
    pipeline.AddListener([&kube](const model::WriteItem& item,
                                 const model::WriteOutcome& outcome) {
      kube->OnEventStored(item, outcome);
    });
  }
  alertmanager::AlertPusher pusher(config, &metrics);
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
  rest_options.base_url = base_url;
  rest_options.ready = [&kube, &pipeline](std::string* reason) {
    if (kube && !kube->Synced()) {
      *reason = "kubernetes: initial pod list not complete";
      return false;
    }
    if (pipeline.depth() >= pipeline.capacity()) {
      *reason = "ingest queue is full";
      return false;
    }
    return pipeline.StorageUp(reason);
  };
  rest::RegisterRestRoutes(&router, store.get(), rest_options);

  pipeline.Start();
  if (kube && !kube->Start(&error)) {
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
  http::HttpServer server(&router, &metrics, http_options);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
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
  PeriodicTask retention(config.retention_cleanup_interval, [&] {
    RunRetention(store.get(), &metrics, config.retention_max_age);
  });
  spdlog::info("crashctl {} serving on {} (port {}), data {}", Version(),
               config.listen, server.port(), config.DatabasePath());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received signal {}, shutting down", signal_number);
  server.Stop();
  retention.Stop();
  if (kube) kube->Stop();
  pipeline.Stop();
  pusher.Stop();
  spdlog::info("shutdown complete");
  return kExitOk;
}

}  // namespace cmd
}  // namespace crashctl
