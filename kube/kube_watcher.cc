#include "crashctl/kube/kube_watcher.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "crash_recorder.h"
#include "crashctl/ingest/completion.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/kube/metrics.h"
#include "crashctl/scrub/scrubber.h"
#include "crashctl/util/time.h"
#include "kube_api_client.h"
#include "kube_client_config.h"
#include "kube_events.h"
#include "log_fetcher.h"
#include "pod_classifier.h"
#include "watch_line_buffer.h"

namespace crashctl {
namespace kube {
namespace {

constexpr int kMaxListPages = 100000;
constexpr int kMaxListRestarts = 3;

std::string MetadataString(const rapidjson::Value& obj, const char* field) {
  if (!obj.IsObject()) return "";
  auto meta = obj.FindMember("metadata");
  if (meta == obj.MemberEnd() || !meta->value.IsObject()) return "";
  auto f = meta->value.FindMember(field);
  if (f == meta->value.MemberEnd() || !f->value.IsString()) return "";
  return f->value.GetString();
}

}  // namespace

class KubeWatcher::Impl {
 public:
  Impl(const core::Config& config, store::Store* store, Metrics* metrics,
       const Options& options)
      : config_(config),
        metrics_(metrics),
        options_(options),
        scrubber_(scrub::Options{config.scrub_defaults, config.scrub_keys}),
        recorder_(store, metrics, config.kube_restart_threshold, &scrubber_),
        rng_(std::random_device{}()) {
    // As the ingest endpoints: older than the retention window would be
    // deleted at once.
    recorder_.SetEventOptions(config.kube_project,
                              std::min(30 * 86400.0, config.retention_max_age));
    recorder_.SetEventWait(options.watch_events ? config.kube_event_wait : 0);
    recorder_.SetRelinkDelay(options.relink_delay_seconds);
  }

  void SetPipeline(ingest::IngestPipeline* pipeline) {
    if (pipeline == nullptr) return;
    recorder_.SetEventWriter([pipeline](std::vector<model::WriteItem> items,
                                        std::vector<model::WriteOutcome>* out) {
      const size_t n = items.size();
      std::shared_ptr<ingest::Completion> done =
          pipeline->Submit(std::move(items));
      if (done == nullptr) {
        return Status::Unavailable("ingest queue full or stopping");
      }
      if (!done->WaitUntil(std::chrono::steady_clock::now() +
                           std::chrono::seconds(60))) {
        return Status::Unavailable("ingest pipeline did not commit in 60 s");
      }
      out->clear();
      for (size_t i = 0; i < n; ++i) {
        const ingest::IngestResult& r = done->results()[i];
        if (!r.status.ok()) return r.status;
        out->push_back(r.outcome);
      }
      return Status::Ok();
    });
  }

  ~Impl() { Stop(); }

  void AddListener(CrashListener l) { recorder_.AddListener(std::move(l)); }

  bool Start(std::string* error) {
    if (!loops_.empty()) {
      *error = "kube watcher already started";
      return false;
    }
    KubeClientConfig cc;
    if (!ResolveKubeClientConfig(config_, core::ProcessEnvironment(), &cc,
                                 error)) {
      return false;
    }
    KubeApiClient::Options co;
    co.stream_idle_seconds = options_.stream_idle_seconds;
    co.stream_max_seconds = options_.watch_timeout_seconds + 60.0;
    spdlog::info("kube: API server {} ({})", cc.server, cc.source);
    client_ = std::make_unique<KubeApiClient>(std::move(cc), co);
    const int tail_lines = options_.log_tail_lines > 0 ? options_.log_tail_lines
                                                       : config_.kube_log_lines;
    logs_ = std::make_unique<LogFetcher>(
        client_.get(), options_.log_queue_size, tail_lines,
        [this](const LogRequest& request, const std::string& logs) {
          recorder_.SetLogs(request, logs);
        });
    recorder_.SetLogSink([this](const LogRequest& r) { logs_->Enqueue(r); });
    logs_->Start();
    stop_ = false;
    std::vector<std::string> namespaces = config_.kube_namespaces;
    if (namespaces.empty()) namespaces.push_back("");
    for (bool events : {false, true}) {
      if (events && !options_.watch_events) continue;
      for (const auto& ns : namespaces) {
        auto loop = std::make_unique<Loop>();
        loop->ns = ns;
        loop->events = events;
        loops_.push_back(std::move(loop));
      }
    }
    synced_loops_ = 0;
    synced_event_loops_ = 0;
    loop_count_ = static_cast<int>(namespaces.size());
    event_loop_count_ =
        options_.watch_events ? static_cast<int>(namespaces.size()) : 0;
    recorder_.SetEventsSynced(!options_.watch_events);
    for (auto& loop : loops_) {
      Loop* l = loop.get();
      l->thread = std::thread([this, l] { Run(l); });
    }
    ticker_ = std::thread([this] { Tick(); });
    return true;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      stop_ = true;
    }
    sleep_cv_.notify_all();
    for (auto& loop : loops_) {
      if (loop->thread.joinable()) loop->thread.join();
    }
    if (ticker_.joinable()) ticker_.join();
    // A stopped watcher (a replica that lost the leadership) shows no watch
    // as up and is not synced; Start() may run it again.
    for (auto& loop : loops_) SetUp(loop.get(), false);
    loops_.clear();
    loop_count_ = 0;
    if (logs_) logs_->Stop();
  }

  bool Synced() const {
    int total = loop_count_.load();
    return total > 0 && synced_loops_.load() >= total;
  }

  void OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome) {
    recorder_.OnEventStored(item, outcome);
  }

 private:
  struct Loop {
    std::string ns;
    bool events = false;  // core/v1 Events, else Pods
    std::thread thread;
    std::atomic<bool> synced{false};
  };
  enum class WatchEnd { kClean, kExpired, kError, kStopped };

  // Metrics label "" means all namespaces (the exporter shows it as "all").
  std::string Label(const Loop* l) const { return l->ns; }
  // For logs.
  std::string Where(const Loop* l) const {
    return std::string(What(l)) + ", " +
           (l->ns.empty() ? "all namespaces" : "namespace " + l->ns);
  }
  static const char* What(const Loop* l) {
    return l->events ? "events" : "pods";
  }

  std::string BasePath(const Loop* l) const {
    return l->ns.empty() ? std::string("/api/v1/") + What(l)
                         : "/api/v1/namespaces/" + l->ns + "/" + What(l);
  }

  void SetUp(const Loop* l, bool up) {
    if (metrics_ == nullptr) return;
    if (l->events) {
      metrics_->SetEventsWatchUp(Label(l), up);
    } else {
      metrics_->SetWatchUp(Label(l), up);
    }
  }
  // crashctl_kube_watch_restarts_total counts the pod watches.
  void Restart(const Loop* l, const char* reason) {
    if (metrics_ != nullptr && !l->events)
      metrics_->WatchRestart(Label(l), reason);
  }

  // Resolves waiting terminations whose wait is over, every 100 ms.
  void Tick() {
    while (!stop_) {
      recorder_.Tick(util::NowSeconds());
      std::unique_lock<std::mutex> lock(sleep_mu_);
      sleep_cv_.wait_for(lock, std::chrono::milliseconds(100),
                         [this] { return stop_.load(); });
    }
  }

  // Sleeps for the backoff of the `failures`-th consecutive failure, or
  // until Stop().
  void Backoff(int failures) {
    double delay = options_.backoff_initial_seconds;
    for (int i = 1; i < failures && delay < options_.backoff_max_seconds; ++i) {
      delay *= 2;
    }
    if (delay > options_.backoff_max_seconds) {
      delay = options_.backoff_max_seconds;
    }
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      delay *= jitter(rng_);
    }
    std::unique_lock<std::mutex> lock(sleep_mu_);
    sleep_cv_.wait_for(lock, std::chrono::duration<double>(delay),
                       [this] { return stop_.load(); });
  }

  void ObserveObject(const Loop* l, const rapidjson::Value& obj, bool deleted) {
    if (l->events) {
      KubeEvent ev;
      std::string error;
      if (!ParseKubeEvent(obj, &ev, &error)) {
        spdlog::warn("kube: ignoring event object: {}", error);
        if (metrics_ != nullptr) metrics_->KubeEventSeen(Metrics::kInvalid);
        return;
      }
      recorder_.ObserveEvent(ev, deleted);
      return;
    }
    PodSnapshot pod;
    std::string error;
    if (!ParsePodSnapshot(obj, &pod, &error)) {
      spdlog::warn("kube: ignoring pod object: {}", error);
      return;
    }
    recorder_.ObservePod(pod, deleted);
  }

  bool List(Loop* l, std::string* rv, std::string* error) {
    std::set<std::string> uids;
    std::string cont;
    int restarts = 0;
    for (int page = 0; page < kMaxListPages && !stop_; ++page) {
      std::string path =
          BasePath(l) + "?limit=" + std::to_string(options_.list_page_size);
      if (!cont.empty()) path += "&continue=" + KubeApiClient::Escape(cont);
      KubeResponse r = client_->Get(path, &stop_);
      if (r.status == 410 && !cont.empty() && restarts < kMaxListRestarts) {
        // The continue token expired: start the list again.
        ++restarts;
        cont.clear();
        uids.clear();
        continue;
      }
      if (!r.ok()) {
        *error = r.error.empty() ? "HTTP " + std::to_string(r.status) + ": " +
                                       r.body.substr(0, 300)
                                 : r.error;
        return false;
      }
      rapidjson::Document doc;
      doc.Parse(r.body.data(), r.body.size());
      if (doc.HasParseError() || !doc.IsObject()) {
        *error = "list answer is not a JSON object";
        return false;
      }
      auto items = doc.FindMember("items");
      if (items != doc.MemberEnd() && items->value.IsArray()) {
        for (const auto& item : items->value.GetArray()) {
          ObserveObject(l, item, false);
          std::string uid = MetadataString(item, "uid");
          if (!uid.empty()) uids.insert(uid);
        }
      }
      *rv = MetadataString(doc, "resourceVersion");
      cont = MetadataString(doc, "continue");
      if (cont.empty()) {
        if (!l->events) recorder_.EndList(l->ns, uids);
        if (metrics_ != nullptr && !l->events) {
          metrics_->SetLastEvent(util::NowSeconds());
        }
        return true;
      }
    }
    *error = stop_ ? "stopped" : "too many list pages";
    return false;
  }

  WatchEnd Watch(Loop* l, std::string* rv, bool* got_events,
                 std::string* error) {
    std::string path = BasePath(l) +
                       "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" +
                       std::to_string(options_.watch_timeout_seconds) +
                       "&resourceVersion=" + KubeApiClient::Escape(*rv);
    WatchLineBuffer buffer;
    std::vector<std::string> lines;
    bool expired = false;
    std::string event_error;
    auto on_data = [&](const char* data, size_t size) {
      lines.clear();
      buffer.Feed(data, size, &lines);
      for (const std::string& line : lines) {
        rapidjson::Document doc;
        doc.Parse(line.data(), line.size());
        if (doc.HasParseError() || !doc.IsObject()) {
          event_error = "malformed watch event";
          return false;
        }
        auto type_it = doc.FindMember("type");
        auto obj_it = doc.FindMember("object");
        if (type_it == doc.MemberEnd() || !type_it->value.IsString() ||
            obj_it == doc.MemberEnd() || !obj_it->value.IsObject()) {
          event_error = "watch event without type or object";
          return false;
        }
        std::string type = type_it->value.GetString();
        const rapidjson::Value& obj = obj_it->value;
        *got_events = true;
        if (metrics_ != nullptr && !l->events) {
          metrics_->SetLastEvent(util::NowSeconds());
        }
        if (type == "ERROR") {
          int code = 0;
          std::string reason, message;
          auto c = obj.FindMember("code");
          if (c != obj.MemberEnd() && c->value.IsInt())
            code = c->value.GetInt();
          auto rs = obj.FindMember("reason");
          if (rs != obj.MemberEnd() && rs->value.IsString()) {
            reason = rs->value.GetString();
          }
          auto m = obj.FindMember("message");
          if (m != obj.MemberEnd() && m->value.IsString()) {
            message = m->value.GetString();
          }
          if (code == 410 || reason == "Expired" || reason == "Gone") {
            expired = true;
          } else {
            event_error = "ERROR event: " + std::to_string(code) + " " +
                          reason + ": " + message;
          }
          return false;
        }
        std::string new_rv = MetadataString(obj, "resourceVersion");
        if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
          ObserveObject(l, obj, type == "DELETED");
        } else if (type != "BOOKMARK") {
          spdlog::debug("kube: ignoring watch event type {}", type);
        }
        if (!new_rv.empty()) *rv = new_rv;
      }
      if (buffer.overflows() > 0) {
        event_error = "watch event larger than the line limit";
        return false;
      }
      return true;
    };
    KubeResponse r = client_->Stream(path, on_data, &stop_);
    if (stop_) return WatchEnd::kStopped;
    if (expired || r.status == 410) return WatchEnd::kExpired;
    if (!event_error.empty()) {
      *error = event_error;
      return WatchEnd::kError;
    }
    if (r.status != 200) {
      *error = r.error.empty() ? "HTTP " + std::to_string(r.status) + ": " +
                                     r.body.substr(0, 300)
                               : r.error;
      return WatchEnd::kError;
    }
    if (!r.error.empty()) {
      *error = r.error;
      return WatchEnd::kError;
    }
    if (buffer.pending() > 0) {
      *error = "stream ended inside an event";
      return WatchEnd::kError;
    }
    return WatchEnd::kClean;
  }

  void Run(Loop* l) {
    std::string rv;
    bool need_list = true;
    int failures = 0;
    while (!stop_) {
      if (need_list) {
        std::string error;
        if (!List(l, &rv, &error)) {
          if (stop_) break;
          ++failures;
          spdlog::warn("kube: listing {}: {}; retry #{}", Where(l), error,
                       failures);
          if (metrics_ != nullptr) {
            SetUp(l, false);
            Restart(l, "error");
          }
          Backoff(failures);
          continue;
        }
        need_list = false;
        failures = 0;
        if (!l->synced.exchange(true)) {
          if (l->events) {
            if (++synced_event_loops_ >= event_loop_count_) {
              recorder_.SetEventsSynced(true);
            }
          } else {
            ++synced_loops_;
          }
          spdlog::info("kube: initial list ({}) done", Where(l));
        }
      }
      SetUp(l, true);
      bool got_events = false;
      std::string error;
      auto started = std::chrono::steady_clock::now();
      WatchEnd end = Watch(l, &rv, &got_events, &error);
      double lasted = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      if (end == WatchEnd::kStopped) break;
      if (got_events) failures = 0;
      switch (end) {
        case WatchEnd::kClean:
          spdlog::debug("kube: watch ({}) ended, re-watching from {}", Where(l),
                        rv);
          Restart(l, "closed");
          if (!got_events && lasted < 1.0) Backoff(++failures);  // no hot loop
          break;
        case WatchEnd::kExpired:
          spdlog::info("kube: resourceVersion {} expired ({}), relisting", rv,
                       Where(l));
          if (metrics_ != nullptr) {
            Restart(l, "expired");
          }
          need_list = true;
          break;
        case WatchEnd::kError:
          ++failures;
          spdlog::warn("kube: watch ({}): {}; retry #{}", Where(l), error,
                       failures);
          if (metrics_ != nullptr) {
            SetUp(l, false);
            Restart(l, "error");
          }
          Backoff(failures);
          break;
        case WatchEnd::kStopped:
          break;
      }
    }
  }

  const core::Config config_;
  Metrics* metrics_;
  const Options options_;
  const scrub::Scrubber scrubber_;  // before recorder_, which uses it
  CrashRecorder recorder_;
  std::unique_ptr<KubeApiClient> client_;
  std::unique_ptr<LogFetcher> logs_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<bool> stop_{false};
  std::atomic<int> loop_count_{0};  // read by Synced() from any thread
  std::atomic<int> synced_loops_{0};
  std::atomic<int> event_loop_count_{0};
  std::atomic<int> synced_event_loops_{0};
  std::thread ticker_;
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::mutex rng_mu_;
  std::mt19937 rng_;
};

KubeWatcher::KubeWatcher(const core::Config& config, store::Store* store,
                         Metrics* metrics)
    : KubeWatcher(config, store, metrics, Options()) {}

KubeWatcher::KubeWatcher(const core::Config& config, store::Store* store,
                         Metrics* metrics, const Options& options)
    : impl_(std::make_unique<Impl>(config, store, metrics, options)) {}

KubeWatcher::~KubeWatcher() = default;

void KubeWatcher::SetPipeline(ingest::IngestPipeline* pipeline) {
  impl_->SetPipeline(pipeline);
}

void KubeWatcher::AddListener(CrashListener listener) {
  impl_->AddListener(std::move(listener));
}

bool KubeWatcher::Start(std::string* error) { return impl_->Start(error); }

void KubeWatcher::Stop() { impl_->Stop(); }

bool KubeWatcher::Synced() const { return impl_->Synced(); }

void KubeWatcher::OnEventStored(const model::WriteItem& item,
                                const model::WriteOutcome& outcome) {
  impl_->OnEventStored(item, outcome);
}

bool KubeWatcher::Ready(std::string* reason) const {
  if (Synced()) return true;
  *reason = "kubernetes: initial pod list not complete";
  return false;
}

}  // namespace kube
}  // namespace crashctl
