// AlertPusher: sends crashctl's event alerts (new error group, regression,
// pod crash) straight to Alertmanager's v2 API as they happen.
//
// Every alert goes to every configured Alertmanager (an HA pair gets each
// alert twice, as Alertmanager expects; they deduplicate). Each URL has its
// own bounded queue and sender thread, so a slow or dead instance never
// delays the others. A sender wakes as soon as an alert is queued and posts
// whatever is waiting (at most `max_batch` alerts) in one request: no
// batching delay. Failed posts (no answer, 408, 429, 5xx) are retried with
// exponential backoff and jitter up to `max_attempts`; other answers fail
// at once. Alerts with the same cooldown key (one group, or one pod and
// crash type) are pushed at most once per `cooldown`. When a queue is full
// its oldest alert is dropped, so the newest crashes get through.
//
// Metrics: crashctl_alert_pushes_total{outcome} per alert and URL with
// outcome sent | failed | retried | dropped, and suppressed (cooldown, once
// per alert); crashctl_alert_queue_depth (the fullest URL queue) and
// crashctl_alert_queue_capacity.
//
// Thread-safety: Enqueue, NewGroup, Regression, PodCrash and stats are safe
// from any number of threads. Start and Stop are called by the owner, once
// each, from one thread; the destructor Stop()s.
#ifndef CRASHCTL_ALERTMANAGER_PUSHER_H_
#define CRASHCTL_ALERTMANAGER_PUSHER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "crashctl/alertmanager/alert.h"
#include "crashctl/alertmanager/alert_builder.h"
#include "crashctl/core/config.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace alertmanager {

class Metrics;

class AlertPusher {
 public:
  struct Options {
    // Alertmanager base URLs ("http://am:9093"); "/api/v2/alerts" is
    // appended unless already there. Empty: every alert is ignored.
    std::vector<std::string> urls;
    double cooldown = 300;         // seconds between alerts with the same key
    AlertBuildOptions build;       // base_url, endsAt duration, log truncation
    size_t queue_capacity = 1000;  // alerts waiting per URL
    size_t max_batch = 64;         // alerts per request
    int max_attempts = 5;          // per request, including the first
    double initial_backoff = 0.2;  // seconds; doubled per retry ...
    double max_backoff = 5;        // ... up to this
    double request_timeout = 5;    // seconds per HTTP request
    // Clock (epoch seconds); tests inject one. Default: system clock.
    std::function<double()> now;
  };

  // Options from alerting.alertmanager_url (comma-separated values are
  // split), alerting.cooldown and server.base_url (or http://<listen>).
  static Options OptionsFromConfig(const core::Config& config);

  // `metrics` may be null (no metrics); it must outlive the pusher.
  AlertPusher(Options options, Metrics* metrics);
  AlertPusher(const core::Config& config, Metrics* metrics);
  ~AlertPusher();
  AlertPusher(const AlertPusher&) = delete;
  AlertPusher& operator=(const AlertPusher&) = delete;

  // How alerts are built (base_url, durations): for callers that build
  // their own alerts and Enqueue() them (cron monitors).
  const AlertBuildOptions& build_options() const { return options_.build; }

  // True when at least one URL is configured.
  bool enabled() const { return !senders_.empty(); }

  // Starts one sender thread per URL. Alerts queued before Start() are sent
  // then.
  void Start();
  // Stops accepting alerts, lets in-flight requests finish (no further
  // retries; bounded by request_timeout), drops what is still queued and
  // joins the threads. Idempotent.
  void Stop();

  // Queue the alert for every URL. Returns false when it was not queued:
  // disabled, stopped, or within the cooldown of its key (updates of the
  // same identity pass; see Alert::identity).
  bool Enqueue(Alert alert);
  // For IngestPipeline::AddListener: pushes NewGroup or Regression when the
  // outcome says so (the group is built from the item and outcome, no store
  // read; duplicates and ordinary events are ignored). Cheap: never blocks
  // the writer thread on the network.
  bool OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome);
  bool NewGroup(const model::Group& group, const model::WriteItem& item);
  bool Regression(const model::Group& group, const model::WriteItem& item);
  // Call for a new crash record and again when it is updated (logs
  // fetched, crash loop continuing): updates refresh the alert's
  // annotations in Alertmanager, other crashes of the pod and type wait for
  // the cooldown.
  bool PodCrash(const model::Crash& crash);

  struct Stats {
    int64_t sent = 0;        // alert deliveries (per URL) answered 2xx
    int64_t failed = 0;      // deliveries given up after retries / 4xx
    int64_t retried = 0;     // deliveries retried
    int64_t dropped = 0;     // deliveries dropped: queue full or stopping
    int64_t suppressed = 0;  // alerts not queued because of the cooldown
  };
  Stats stats() const;

 private:
  struct Sender;

  double Now() const;
  void SenderLoop(Sender* sender);
  void Count(const char* outcome, int64_t n);
  void PublishQueueDepth();

  Options options_;
  Metrics* metrics_;
  std::vector<std::unique_ptr<Sender>> senders_;

  std::mutex cooldown_mu_;
  struct CooldownEntry {
    double started = 0;    // when the cooldown began
    std::string identity;  // of the alert that began it
  };
  std::unordered_map<std::string, CooldownEntry> cooldowns_;  // by key

  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::atomic<int64_t> sent_{0}, failed_{0}, retried_{0}, dropped_{0},
      suppressed_{0};
};

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_ALERTMANAGER_PUSHER_H_
