#include "crashctl/alertmanager/pusher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "crashctl/alertmanager/metrics.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "http_poster.h"

namespace crashctl {
namespace alertmanager {
namespace {

constexpr size_t kMaxCooldownKeys = 100000;

std::string AlertsEndpoint(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  static const std::string kPath = "/api/v2/alerts";
  if (url.size() >= kPath.size() &&
      url.compare(url.size() - kPath.size(), kPath.size(), kPath) == 0) {
    return url;
  }
  return url + kPath;
}

}  // namespace

struct AlertPusher::Sender {
  explicit Sender(std::string url, double timeout)
      : poster(std::move(url), timeout) {}
  HttpPoster poster;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Alert> queue;
  std::thread thread;
};

AlertPusher::Options AlertPusher::OptionsFromConfig(
    const core::Config& config) {
  Options options;
  for (const std::string& value : config.alertmanager_urls) {
    for (const std::string& piece : util::Split(value, ',', true)) {
      const std::string_view url = util::Trim(piece);
      if (!url.empty()) options.urls.emplace_back(url);
    }
  }
  options.cooldown = config.alert_cooldown;
  options.build.base_url = core::PublicBaseUrl(config);
  return options;
}

AlertPusher::AlertPusher(const core::Config& config, Metrics* metrics)
    : AlertPusher(OptionsFromConfig(config), metrics) {}

AlertPusher::AlertPusher(Options options, Metrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {
  if (!options_.now) options_.now = util::NowSeconds;
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 1);
  options_.max_batch = std::max<size_t>(options_.max_batch, 1);
  options_.max_attempts = std::max(options_.max_attempts, 1);
  for (const std::string& url : options_.urls) {
    senders_.push_back(std::make_unique<Sender>(AlertsEndpoint(url),
                                                options_.request_timeout));
  }
  if (metrics_ != nullptr) {
    metrics_->SetQueue(0, static_cast<double>(options_.queue_capacity));
  }
}

AlertPusher::~AlertPusher() { Stop(); }

double AlertPusher::Now() const { return options_.now(); }

void AlertPusher::Start() {
  if (started_ || stopping_) return;
  started_ = true;
  for (auto& sender : senders_) {
    Sender* s = sender.get();
    s->thread = std::thread([this, s] { SenderLoop(s); });
    spdlog::info("alerting: pushing alerts to {}", s->poster.url());
  }
}

void AlertPusher::Stop() {
  if (stopping_.exchange(true)) return;
  for (auto& sender : senders_) {
    { std::lock_guard<std::mutex> lock(sender->mu); }
    sender->cv.notify_all();
  }
  for (auto& sender : senders_) {
    if (sender->thread.joinable()) sender->thread.join();
    std::lock_guard<std::mutex> lock(sender->mu);
    if (!sender->queue.empty()) {
      Count("dropped", static_cast<int64_t>(sender->queue.size()));
      sender->queue.clear();
    }
  }
  PublishQueueDepth();
}

void AlertPusher::Count(const char* outcome, int64_t n) {
  if (n <= 0) return;
  const std::string o = outcome;
  if (o == "sent") sent_ += n;
  if (o == "failed") failed_ += n;
  if (o == "retried") retried_ += n;
  if (o == "dropped") dropped_ += n;
  if (o == "suppressed") suppressed_ += n;
  if (metrics_ != nullptr) {
    for (int64_t i = 0; i < n; ++i) metrics_->Push(o);
  }
}

void AlertPusher::PublishQueueDepth() {
  if (metrics_ == nullptr) return;
  size_t depth = 0;
  for (auto& sender : senders_) {
    std::lock_guard<std::mutex> lock(sender->mu);
    depth = std::max(depth, sender->queue.size());
  }
  metrics_->SetQueue(static_cast<double>(depth),
                     static_cast<double>(options_.queue_capacity));
}

bool AlertPusher::Enqueue(Alert alert) {
  if (senders_.empty() || stopping_) return false;
  if (!alert.cooldown_key.empty() && options_.cooldown > 0) {
    const double now = Now();
    std::lock_guard<std::mutex> lock(cooldown_mu_);
    auto it = cooldowns_.find(alert.cooldown_key);
    if (it != cooldowns_.end() &&
        now - it->second.started < options_.cooldown) {
      if (alert.identity.empty() || alert.identity != it->second.identity) {
        Count("suppressed", 1);
        return false;
      }
      // An update of the alert that began the cooldown: send it.
    } else {
      if (cooldowns_.size() >= kMaxCooldownKeys) {
        // Forget keys whose cooldown is over; bounded memory.
        for (auto k = cooldowns_.begin(); k != cooldowns_.end();) {
          k = now - k->second.started >= options_.cooldown ? cooldowns_.erase(k)
                                                           : std::next(k);
        }
        if (cooldowns_.size() >= kMaxCooldownKeys) cooldowns_.clear();
      }
      cooldowns_[alert.cooldown_key] = {now, alert.identity};
    }
  }
  for (auto& sender : senders_) {
    {
      std::lock_guard<std::mutex> lock(sender->mu);
      if (sender->queue.size() >= options_.queue_capacity) {
        sender->queue.pop_front();
        Count("dropped", 1);
        spdlog::warn(
            "alerting: queue for {} full ({} alerts), dropped the "
            "oldest alert",
            sender->poster.url(), options_.queue_capacity);
      }
      sender->queue.push_back(alert);
    }
    sender->cv.notify_one();
  }
  PublishQueueDepth();
  return true;
}

bool AlertPusher::OnEventStored(const model::WriteItem& item,
                                const model::WriteOutcome& outcome) {
  if (senders_.empty() || outcome.duplicate ||
      (!outcome.new_group && !outcome.regression)) {
    return false;
  }
  model::Group group;
  group.id = outcome.group_id;
  group.project_id = item.event.project_id;
  group.fingerprint = item.grouping.fingerprint;
  group.title = item.grouping.title;
  group.culprit = item.grouping.culprit;
  group.level = item.event.level;
  group.service = item.event.service;
  group.release = item.event.release;
  group.status = model::GroupStatus::kUnresolved;
  return outcome.new_group ? NewGroup(group, item) : Regression(group, item);
}

bool AlertPusher::NewGroup(const model::Group& group,
                           const model::WriteItem& item) {
  if (senders_.empty()) return false;
  return Enqueue(NewGroupAlert(group, item, options_.build, Now()));
}

bool AlertPusher::Regression(const model::Group& group,
                             const model::WriteItem& item) {
  if (senders_.empty()) return false;
  return Enqueue(RegressionAlert(group, item, options_.build, Now()));
}

bool AlertPusher::PodCrash(const model::Crash& crash) {
  if (senders_.empty()) return false;
  return Enqueue(PodCrashAlert(crash, options_.build, Now()));
}

AlertPusher::Stats AlertPusher::stats() const {
  Stats s;
  s.sent = sent_;
  s.failed = failed_;
  s.retried = retried_;
  s.dropped = dropped_;
  s.suppressed = suppressed_;
  return s;
}

void AlertPusher::SenderLoop(Sender* sender) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  while (true) {
    std::vector<Alert> batch;
    {
      std::unique_lock<std::mutex> lock(sender->mu);
      sender->cv.wait(
          lock, [&] { return stopping_.load() || !sender->queue.empty(); });
      if (stopping_) return;  // Stop() counts what is left as dropped
      while (!sender->queue.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(sender->queue.front()));
        sender->queue.pop_front();
      }
    }
    PublishQueueDepth();
    const std::string body = EncodeAlerts(batch);
    const auto n = static_cast<int64_t>(batch.size());
    double backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      const HttpPoster::Result result = sender->poster.PostJson(body);
      if (result.ok()) {
        Count("sent", n);
        spdlog::debug("alerting: pushed {} alert(s) to {}", n,
                      sender->poster.url());
        break;
      }
      if (!result.retryable() || attempt >= options_.max_attempts ||
          stopping_) {
        Count("failed", n);
        spdlog::error(
            "alerting: pushing {} alert(s) to {} failed after {} "
            "attempt(s): {}",
            n, sender->poster.url(), attempt, result.error);
        break;
      }
      Count("retried", n);
      spdlog::warn(
          "alerting: pushing to {} failed (attempt {}/{}): {}; "
          "retrying in {:.2f}s",
          sender->poster.url(), attempt, options_.max_attempts, result.error,
          backoff);
      std::unique_lock<std::mutex> lock(sender->mu);
      const double wait = backoff * jitter(rng);
      if (sender->cv.wait_for(lock, std::chrono::duration<double>(wait),
                              [&] { return stopping_.load(); })) {
        Count("failed", n);
        break;
      }
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }
}

}  // namespace alertmanager
}  // namespace crashctl
