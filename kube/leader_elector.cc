#include "crashctl/kube/leader_elector.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "crashctl/kube/metrics.h"
#include "json_fields.h"
#include "kube_api_client.h"
#include "kube_client_config.h"

namespace crashctl {
namespace kube {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kNamespaceFile[] =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
// Bounds Release(): a clean shutdown must not hang on a dead API server.
constexpr double kMaxReleaseSeconds = 5;

Clock::time_point After(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(
                 std::chrono::duration<double>(seconds));
}

double SecondsUntil(Clock::time_point t) {
  return std::chrono::duration<double>(t - Clock::now()).count();
}

// metav1.MicroTime of now: "2026-12-03T12:00:00.000000Z".
std::string MicroTimeNow() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      now.time_since_epoch())
                      .count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%s.%06lldZ", buf,
                static_cast<long long>(us % 1000000));
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  size_t start = 0;
  while (start < s.size() &&
         std::isspace(static_cast<unsigned char>(s[start]))) {
    ++start;
  }
  return s.substr(start);
}

// The spec of a Lease as client-go's LeaderElectionRecord.
struct Record {
  std::string holder;
  int duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  int transitions = 0;
  bool operator==(const Record& o) const {
    return holder == o.holder && duration_seconds == o.duration_seconds &&
           acquire_time == o.acquire_time && renew_time == o.renew_time &&
           transitions == o.transitions;
  }
  bool operator!=(const Record& o) const { return !(*this == o); }
};

std::string ErrorText(const KubeResponse& r) {
  if (!r.error.empty()) return r.error;
  return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
}

}  // namespace

LeaderElector::Options LeaderElector::OptionsFromConfig(
    const core::Config& config, const std::map<std::string, std::string>& env) {
  Options o;
  o.lease_name = config.kube_le_lease_name;
  o.ns = config.kube_le_namespace;
  if (o.ns.empty()) {
    std::ifstream in(kNamespaceFile);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      o.ns = Trimmed(ss.str());
    }
    if (o.ns.empty()) o.ns = "crashctl";
  }
  o.identity = config.kube_le_identity;
  if (o.identity.empty()) {
    auto it = env.find("POD_NAME");
    if (it != env.end()) o.identity = Trimmed(it->second);
  }
  if (o.identity.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) o.identity = host;
  }
  o.lease_duration_seconds = config.kube_le_lease_duration;
  o.renew_deadline_seconds = config.kube_le_renew_deadline;
  o.retry_period_seconds = config.kube_le_retry_period;
  return o;
}

class LeaderElector::Impl {
 public:
  Impl(const core::Config& config, Options options, Metrics* metrics)
      : config_(config),
        options_(std::move(options)),
        metrics_(metrics),
        rng_(std::random_device{}()) {
    if (metrics_ != nullptr) metrics_->SetLeader(false);
  }
  ~Impl() { Stop(); }

  const Options& options() const { return options_; }
  bool IsLeader() const { return leader_.load(); }

  Status Start() {
    if (thread_.joinable()) return Status::Invalid("already started");
    const Options& o = options_;
    if (o.ns.empty() || o.lease_name.empty() || o.identity.empty()) {
      return Status::Invalid(
          "leader election needs a namespace, a lease name and an identity");
    }
    if (!(o.lease_duration_seconds > o.renew_deadline_seconds)) {
      return Status::Invalid(
          "lease_duration must be greater than "
          "renew_deadline");
    }
    if (!(o.renew_deadline_seconds > o.retry_period_seconds * 1.2) ||
        o.retry_period_seconds <= 0) {
      return Status::Invalid(
          "renew_deadline must be greater than "
          "retry_period * 1.2");
    }
    KubeClientConfig cc;
    std::string error;
    if (!ResolveKubeClientConfig(config_, core::ProcessEnvironment(), &cc,
                                 &error)) {
      return Status::Invalid(error);
    }
    KubeApiClient::Options co;
    // Every call is also clipped to the renew deadline (Send's timeout).
    co.connect_timeout_seconds = o.renew_deadline_seconds;
    co.request_timeout_seconds = o.renew_deadline_seconds;
    co.max_body_bytes = 1 << 20;
    co.user_agent = "crashctl/leader-elector/" + o.identity;
    client_ = std::make_unique<KubeApiClient>(std::move(cc), co);
    path_ = "/apis/coordination.k8s.io/v1/namespaces/" + o.ns + "/leases/" +
            o.lease_name;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = false;
      abandon_ = false;
    }
    spdlog::info(
        "leader election: lease {}/{} as {} (duration {} s, renew deadline "
        "{} s, retry {} s)",
        o.ns, o.lease_name, o.identity, o.lease_duration_seconds,
        o.renew_deadline_seconds, o.retry_period_seconds);
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() { Finish(/*abandon=*/false); }
  void Abandon() { Finish(/*abandon=*/true); }

 private:
  void Finish(bool abandon) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      abandon_ = abandon;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Sleeps up to `seconds` or until Stop(); true when stopping.
  bool SleepFor(double seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    if (seconds > 0) {
      cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                   [this] { return stop_.load(); });
    }
    return stop_;
  }

  double Jittered(double base, double factor) {
    std::lock_guard<std::mutex> lock(rng_mu_);
    std::uniform_real_distribution<double> d(0, factor);
    return base * (1 + d(rng_));
  }

  void Run() {
    // Bounded by Stop(): every wait and HTTP call returns soon after it.
    while (!stop_) {
      // Candidate: try every retry period (jittered) until acquired.
      bool acquired = false;
      while (!stop_) {
        const Clock::time_point started = Clock::now();
        if (TryAcquireOrRenew(
                After(started, options_.renew_deadline_seconds))) {
          last_renew_ = started;
          acquired = true;
          break;
        }
        if (SleepFor(Jittered(options_.retry_period_seconds, 1.2))) break;
      }
      if (!acquired) break;
      Lead();
    }
    bool abandon;
    {
      std::lock_guard<std::mutex> lock(mu_);
      abandon = abandon_;
    }
    if (!abandon && holding_) Release();
  }

  // Leads until a renewal fails for renew_deadline, or Stop().
  void Lead() {
    spdlog::info("leader election: {} is the leader (lease {}/{})",
                 options_.identity, options_.ns, options_.lease_name);
    leader_ = true;
    if (metrics_ != nullptr) metrics_->SetLeader(true);
    if (options_.on_started_leading && !options_.on_started_leading()) {
      leader_ = false;
      if (metrics_ != nullptr) metrics_->SetLeader(false);
      spdlog::warn(
          "leader election: {} cannot do the leader's work; releasing lease "
          "{} and standing aside for {} s",
          options_.identity, options_.lease_name,
          options_.lease_duration_seconds);
      Release();
      SleepFor(options_.lease_duration_seconds);
      return;
    }
    std::string why = "stopping";
    while (!SleepFor(options_.retry_period_seconds)) {
      // The deadline counts from the start of the last successful renewal:
      // the API server may have written it at any time after that.
      const Clock::time_point deadline =
          After(last_renew_, options_.renew_deadline_seconds);
      bool renewed = false;
      for (int attempt = 0; attempt < 1000 && !stop_; ++attempt) {
        if (SecondsUntil(deadline) <= 0) break;
        const Clock::time_point started = Clock::now();
        if (TryAcquireOrRenew(deadline)) {
          last_renew_ = started;
          renewed = true;
          break;
        }
        if (!holding_) break;  // someone else holds it now
        const double left = SecondsUntil(deadline);
        if (left <= 0) break;
        if (SleepFor(std::min(options_.retry_period_seconds, left))) break;
      }
      if (stop_) break;
      if (!renewed) {
        why = holding_ ? "could not renew the lease within the renew deadline"
                       : "the lease was taken by " + observed_.holder;
        break;
      }
    }
    bool abandon;
    {
      std::lock_guard<std::mutex> lock(mu_);
      abandon = abandon_;
    }
    leader_ = false;
    if (metrics_ != nullptr) metrics_->SetLeader(false);
    if (abandon) return;  // a killed process runs no callback
    if (why == "stopping") {
      spdlog::info("leader election: {} stops leading (shutting down)",
                   options_.identity);
    } else {
      spdlog::warn("leader election: {} stops leading: {}", options_.identity,
                   why);
    }
    if (options_.on_stopped_leading) options_.on_stopped_leading();
  }

  // One GET and, when the lease may be taken, one PUT (or POST); each
  // bounded by `deadline`. True when this replica holds the lease after it.
  bool TryAcquireOrRenew(Clock::time_point deadline) {
    const double timeout = SecondsUntil(deadline);
    if (timeout <= 0) return false;
    const std::string now = MicroTimeNow();
    KubeResponse got = client_->Send("GET", path_, "", timeout, &stop_);
    if (got.status == 404 && got.error.empty()) {
      Record rec;
      rec.holder = options_.identity;
      rec.duration_seconds = DurationSeconds();
      rec.acquire_time = now;
      rec.renew_time = now;
      rec.transitions = 0;
      const double left = SecondsUntil(deadline);
      if (left <= 0) return false;
      KubeResponse created = client_->Send(
          "POST",
          "/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases",
          LeaseJson(rec, ""), left, &stop_);
      if (created.status == 409) {
        spdlog::info("leader election: lease {} created by another replica",
                     options_.lease_name);
        return false;
      }
      if (!created.ok2xx()) {
        spdlog::warn("leader election: creating lease {}: {}",
                     options_.lease_name, ErrorText(created));
        return false;
      }
      return Accepted(rec, created.body);
    }
    if (!got.ok()) {
      if (!stop_) {
        spdlog::warn("leader election: reading lease {}: {}",
                     options_.lease_name, ErrorText(got));
      }
      return false;
    }
    rapidjson::Document doc;
    doc.Parse(got.body.data(), got.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      spdlog::warn("leader election: lease {} is not a JSON object",
                   options_.lease_name);
      return false;
    }
    Record old;
    const rapidjson::Value* spec = json::Member(doc, "spec");
    if (spec != nullptr) {
      old.holder = json::GetString(*spec, "holderIdentity");
      old.duration_seconds = json::GetInt(*spec, "leaseDurationSeconds");
      old.acquire_time = json::GetString(*spec, "acquireTime");
      old.renew_time = json::GetString(*spec, "renewTime");
      old.transitions = json::GetInt(*spec, "leaseTransitions");
    }
    std::string rv;
    if (const rapidjson::Value* meta = json::Member(doc, "metadata")) {
      rv = json::GetString(*meta, "resourceVersion");
    }
    if (rv.empty()) {
      // A PUT without a resourceVersion is unconditional: two candidates
      // could both win. Only a real-shaped Lease is updated.
      spdlog::warn("leader election: lease {} has no resourceVersion",
                   options_.lease_name);
      return false;
    }
    // client-go: the time is when THIS replica saw the record change.
    if (!observed_valid_ || old != observed_) {
      observed_ = old;
      observed_valid_ = true;
      observed_time_ = Clock::now();
    }
    holding_ = !old.holder.empty() && old.holder == options_.identity;
    const bool valid =
        Clock::now() <
        observed_time_ + std::chrono::duration<double>(old.duration_seconds);
    if (!old.holder.empty() && !holding_ && valid) return false;
    Record rec;
    rec.holder = options_.identity;
    rec.duration_seconds = DurationSeconds();
    rec.renew_time = now;
    if (holding_) {
      rec.acquire_time = old.acquire_time;
      rec.transitions = old.transitions;
    } else {
      rec.acquire_time = now;
      rec.transitions = old.transitions + 1;
    }
    const double left = SecondsUntil(deadline);
    if (left <= 0) return false;
    KubeResponse put =
        client_->Send("PUT", path_, LeaseJson(rec, rv), left, &stop_);
    if (put.status == 409) {
      spdlog::info(
          "leader election: lease {} changed meanwhile (409 Conflict); "
          "retrying",
          options_.lease_name);
      return false;
    }
    if (!put.ok2xx()) {
      if (!stop_) {
        spdlog::warn("leader election: updating lease {}: {}",
                     options_.lease_name, ErrorText(put));
      }
      return false;
    }
    return Accepted(rec, put.body);
  }

  // The API server stored `rec`; `body` is the stored Lease.
  bool Accepted(const Record& rec, const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    rv_.clear();
    if (!doc.HasParseError() && doc.IsObject()) {
      if (const rapidjson::Value* meta = json::Member(doc, "metadata")) {
        rv_ = json::GetString(*meta, "resourceVersion");
      }
    }
    if (!holding_ && rec.transitions > 0) {
      spdlog::info("leader election: {} took lease {} (transition {})",
                   options_.identity, options_.lease_name, rec.transitions);
    }
    observed_ = rec;
    observed_valid_ = true;
    observed_time_ = Clock::now();
    holding_ = true;
    return true;
  }

  // client-go ReleaseOnCancel: an empty holder that expires in 1 s.
  void Release() {
    if (rv_.empty()) return;
    Record rec;
    rec.holder = "";
    rec.duration_seconds = 1;
    rec.acquire_time = MicroTimeNow();
    rec.renew_time = rec.acquire_time;
    rec.transitions = observed_.transitions;
    const double timeout =
        std::min(options_.renew_deadline_seconds, kMaxReleaseSeconds);
    KubeResponse put =
        client_->Send("PUT", path_, LeaseJson(rec, rv_), timeout, nullptr);
    holding_ = false;
    if (put.ok2xx()) {
      spdlog::info("leader election: {} released lease {}", options_.identity,
                   options_.lease_name);
    } else {
      spdlog::warn("leader election: releasing lease {}: {}",
                   options_.lease_name, ErrorText(put));
    }
  }

  int DurationSeconds() const {
    // leaseDurationSeconds is an integer: round up, at least 1.
    return std::max(
        1, static_cast<int>(std::ceil(options_.lease_duration_seconds)));
  }

  std::string LeaseJson(const Record& rec, const std::string& rv) const {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("apiVersion");
    w.String("coordination.k8s.io/v1");
    w.Key("kind");
    w.String("Lease");
    w.Key("metadata");
    w.StartObject();
    w.Key("name");
    w.String(options_.lease_name.c_str());
    w.Key("namespace");
    w.String(options_.ns.c_str());
    if (!rv.empty()) {
      w.Key("resourceVersion");
      w.String(rv.c_str());
    }
    w.EndObject();
    w.Key("spec");
    w.StartObject();
    w.Key("holderIdentity");
    w.String(rec.holder.c_str());
    w.Key("leaseDurationSeconds");
    w.Int(rec.duration_seconds);
    w.Key("acquireTime");
    w.String(rec.acquire_time.c_str());
    w.Key("renewTime");
    w.String(rec.renew_time.c_str());
    w.Key("leaseTransitions");
    w.Int(rec.transitions);
    w.EndObject();
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize());
  }

  const core::Config config_;
  const Options options_;
  Metrics* const metrics_;
  std::unique_ptr<KubeApiClient> client_;
  std::string path_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  bool abandon_ = false;  // guarded by mu_
  std::atomic<bool> leader_{false};
  // Election thread only:
  bool holding_ = false;  // the last record read or written names us
  Record observed_;
  bool observed_valid_ = false;
  Clock::time_point observed_time_{};
  Clock::time_point last_renew_{};
  std::string rv_;  // resourceVersion of our last write
  std::mutex rng_mu_;
  std::mt19937 rng_;
};

LeaderElector::LeaderElector(const core::Config& config, Options options,
                             Metrics* metrics)
    : impl_(std::make_unique<Impl>(config, std::move(options), metrics)) {}

LeaderElector::~LeaderElector() = default;

Status LeaderElector::Start() { return impl_->Start(); }
void LeaderElector::Stop() { impl_->Stop(); }
void LeaderElector::Abandon() { impl_->Abandon(); }
bool LeaderElector::IsLeader() const { return impl_->IsLeader(); }
const LeaderElector::Options& LeaderElector::options() const {
  return impl_->options();
}

}  // namespace kube
}  // namespace crashctl
