// LeaderElector against the fake API server's Leases. Short durations
// (lease 1.5 s, renew deadline 1 s, retry 0.2 s); every wait polls a
// condition with a deadline, nothing sleeps a fixed time.
#include "crashctl/kube/leader_elector.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/kube/metrics.h"
#include "fake_apiserver.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

using Clock = std::chrono::steady_clock;
using testing::FakeApiServer;
using testing::WaitFor;

constexpr double kLease = 1.5;
constexpr double kRenew = 1.0;
constexpr double kRetry = 0.2;
// Scheduling slack on a loaded machine (2 cores shared with builds).
// Scheduling and HTTP time on a loaded 2-core machine under AddressSanitizer
// (a failover took 2.544 s against a 2.54 s bound with 0.6 s).
constexpr double kSlack = 1.0;
constexpr char kNs[] = "crashctl";
constexpr char kName[] = "crashctl-test";

// One elector and what its callbacks saw.
struct Candidate {
  std::string id;
  std::unique_ptr<LeaderElector> elector;
  std::mutex mu;
  std::vector<Clock::time_point> started, stopped;
  std::atomic<bool> refuse{false};  // on_started_leading answers false

  int Started() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(started.size());
  }
  int Stopped() {
    std::lock_guard<std::mutex> lock(mu);
    return static_cast<int>(stopped.size());
  }
};

struct LeaseSpec {
  std::string holder;
  int duration = 0;
  int transitions = -1;
  std::string acquire, renew, rv;
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(fake_.Start(0, &error)) << error;
    config_.kube_enabled = true;
    config_.kube_api_server = fake_.url();
  }
  void TearDown() override {
    for (auto& c : candidates_) {
      if (c->elector) c->elector->Stop();
    }
    fake_.Stop();
  }

  // `refuse`: its on_started_leading answers false.
  Candidate* Add(const std::string& id, Metrics* metrics = nullptr,
                 bool refuse = false) {
    candidates_.push_back(std::make_unique<Candidate>());
    Candidate* c = candidates_.back().get();
    c->id = id;
    c->refuse = refuse;
    LeaderElector::Options o;
    o.ns = kNs;
    o.lease_name = kName;
    o.identity = id;
    o.lease_duration_seconds = kLease;
    o.renew_deadline_seconds = kRenew;
    o.retry_period_seconds = kRetry;
    o.on_started_leading = [c] {
      std::lock_guard<std::mutex> lock(c->mu);
      c->started.push_back(Clock::now());
      return !c->refuse.load();
    };
    o.on_stopped_leading = [c] {
      std::lock_guard<std::mutex> lock(c->mu);
      c->stopped.push_back(Clock::now());
    };
    c->elector = std::make_unique<LeaderElector>(config_, o, metrics);
    Status s = c->elector->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return c;
  }

  // The one leader, or nullptr when none or several lead.
  Candidate* Leader() {
    Candidate* leader = nullptr;
    for (auto& c : candidates_) {
      if (c->elector && c->elector->IsLeader()) {
        if (leader != nullptr) return nullptr;
        leader = c.get();
      }
    }
    return leader;
  }
  int LeaderCount() {
    int n = 0;
    for (auto& c : candidates_) {
      if (c->elector && c->elector->IsLeader()) ++n;
    }
    return n;
  }

  LeaseSpec Lease() {
    LeaseSpec out;
    const std::string json = fake_.GetLease(kNs, kName);
    rapidjson::Document d;
    d.Parse(json.c_str());
    if (d.HasParseError() || !d.IsObject()) return out;
    const auto& spec = d["spec"];
    if (spec.HasMember("holderIdentity")) {
      out.holder = spec["holderIdentity"].GetString();
    }
    if (spec.HasMember("leaseDurationSeconds")) {
      out.duration = spec["leaseDurationSeconds"].GetInt();
    }
    if (spec.HasMember("leaseTransitions")) {
      out.transitions = spec["leaseTransitions"].GetInt();
    }
    if (spec.HasMember("acquireTime")) {
      out.acquire = spec["acquireTime"].GetString();
    }
    if (spec.HasMember("renewTime")) out.renew = spec["renewTime"].GetString();
    out.rv = d["metadata"]["resourceVersion"].GetString();
    return out;
  }

  FakeApiServer fake_;
  core::Config config_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST_F(LeaderElectorTest, OneLeaderOfThree) {
  Add("replica-a");
  Add("replica-b");
  Add("replica-c");
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  Candidate* leader = Leader();
  // Over three lease durations: never two leaders, always the same one.
  const auto until = Clock::now() + std::chrono::milliseconds(4500);
  int polls = 0;
  while (Clock::now() < until && polls < 100000) {
    ++polls;
    ASSERT_LE(LeaderCount(), 1);
    if (Leader() != leader) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Leader(), leader);
  LeaseSpec lease = Lease();
  EXPECT_EQ(lease.holder, leader->id);
  EXPECT_EQ(lease.duration, 2);  // 1.5 s rounded up to whole seconds
  EXPECT_EQ(lease.transitions, 0);
  const std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(lease.renew, micro)) << lease.renew;
  EXPECT_TRUE(std::regex_match(lease.acquire, micro)) << lease.acquire;
  EXPECT_NE(lease.renew, lease.acquire);  // renewed since
  for (auto& c : candidates_) {
    EXPECT_EQ(c->Started(), c.get() == leader ? 1 : 0) << c->id;
    EXPECT_EQ(c->Stopped(), 0) << c->id;
  }
}

TEST_F(LeaderElectorTest, StoppedLeaderReleasesAndFailsOverFast) {
  Add("replica-a");
  Add("replica-b");
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  Candidate* old = Leader();
  const auto stopped = Clock::now();
  old->elector->Stop();
  EXPECT_EQ(old->Stopped(), 1);
  EXPECT_FALSE(old->elector->IsLeader());
  // Released: holderIdentity "" that expires in 1 s; the other takes it at
  // its next retry, well before a lease duration.
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  const double took = Seconds(Clock::now() - stopped);
  EXPECT_LT(took, kRetry * 2.2 + kSlack);
  EXPECT_NE(Leader(), old);
  EXPECT_EQ(Lease().holder, Leader()->id);
  EXPECT_EQ(Lease().transitions, 1);
}

TEST_F(LeaderElectorTest, KilledLeaderIsReplacedWithinTheLeaseDuration) {
  Add("replica-a");
  Add("replica-b");
  Add("replica-c");
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  Candidate* old = Leader();
  const auto killed = Clock::now();
  old->elector->Abandon();  // no release, no callback: as SIGKILL
  old->elector.reset();
  EXPECT_EQ(old->Stopped(), 0);
  EXPECT_EQ(Lease().holder, old->id);
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  const double took = Seconds(Clock::now() - killed);
  // Not before the lease expired (from the others' last observation, which
  // is at most one retry period before the kill)...
  EXPECT_GT(took, kLease - kRetry * 2.2 - 0.1);
  // ... and within the lease duration plus one jittered retry.
  EXPECT_LT(took, kLease + kRetry * 2.2 + kSlack);
  EXPECT_NE(Leader()->id, old->id);
  EXPECT_EQ(Lease().holder, Leader()->id);
  EXPECT_EQ(Lease().transitions, 1);
}

// A network cut of the leader: it stops leading (callback) when it cannot
// renew within the renew deadline, before another replica starts leading.
TEST_F(LeaderElectorTest, NetworkCutLeaderStopsBeforeAnotherStarts) {
  Add("replica-a");
  Add("replica-b");
  Add("replica-c");
  ASSERT_TRUE(WaitFor([&] { return Leader() != nullptr; }, 10));
  Candidate* old = Leader();
  const auto cut = Clock::now();
  fake_.CutClient(old->id);
  ASSERT_TRUE(WaitFor([&] { return old->Stopped() == 1; }, 10));
  EXPECT_FALSE(old->elector->IsLeader());
  Candidate* next = nullptr;
  ASSERT_TRUE(WaitFor(
      [&] {
        next = Leader();
        return next != nullptr && next != old;
      },
      10));
  Clock::time_point old_stopped, next_started;
  {
    std::lock_guard<std::mutex> lock(old->mu);
    old_stopped = old->stopped.front();
  }
  {
    std::lock_guard<std::mutex> lock(next->mu);
    next_started = next->started.back();
  }
  EXPECT_LT(old_stopped, next_started);
  // The old leader gave up within the renew deadline of its last renewal
  // (at most a retry period before the cut).
  EXPECT_LT(Seconds(old_stopped - cut), kRenew + kSlack);
  // And the others waited for the lease to expire.
  EXPECT_GT(Seconds(next_started - old_stopped), 0.1);
  EXPECT_GT(fake_.stats().blackholed, 0);
  // Back on the network, the old leader is a candidate and does not take
  // the lease back.
  fake_.RestoreClient(old->id);
  const auto until = Clock::now() + std::chrono::milliseconds(2000);
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    ASSERT_LE(LeaderCount(), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Leader(), next);
  EXPECT_EQ(old->Started(), 1);
}

TEST_F(LeaderElectorTest, LeaseTransitionsCountHolderChanges) {
  Candidate* a = Add("replica-a");
  ASSERT_TRUE(WaitFor([&] { return a->elector->IsLeader(); }, 10));
  LeaseSpec first = Lease();
  EXPECT_EQ(first.holder, "replica-a");
  EXPECT_EQ(first.transitions, 0);
  // Renewals keep acquireTime and the count.
  ASSERT_TRUE(WaitFor([&] { return Lease().renew != first.renew; }, 10));
  EXPECT_EQ(Lease().acquire, first.acquire);
  EXPECT_EQ(Lease().transitions, 0);

  // Stop the leader before the next candidate exists: a candidate already
  // running could take the released lease before it is read here.
  a->elector->Stop();
  LeaseSpec released = Lease();
  EXPECT_EQ(released.holder, "");
  EXPECT_EQ(released.duration, 1);
  Candidate* b = Add("replica-b");
  ASSERT_TRUE(WaitFor([&] { return b->elector->IsLeader(); }, 10));
  LeaseSpec second = Lease();
  EXPECT_EQ(second.holder, "replica-b");
  EXPECT_EQ(second.transitions, 1);
  EXPECT_NE(second.acquire, first.acquire);

  Candidate* c = Add("replica-c");
  b->elector->Stop();
  ASSERT_TRUE(WaitFor([&] { return c->elector->IsLeader(); }, 10));
  EXPECT_EQ(Lease().holder, "replica-c");
  EXPECT_EQ(Lease().transitions, 2);
}

// A leader that cannot do its work (on_started_leading false: say, its
// watcher does not start) releases the Lease at once and stands aside for
// a lease duration, so another replica leads instead of nobody.
TEST_F(LeaderElectorTest, LeaderThatCannotStartReleasesTheLease) {
  Candidate* a = Add("replica-a", nullptr, /*refuse=*/true);
  ASSERT_TRUE(WaitFor([&] { return a->Started() >= 1; }, 10));
  ASSERT_TRUE(WaitFor([&] { return Lease().holder.empty(); }, 10))
      << Lease().holder;
  EXPECT_EQ(a->Stopped(), 0);  // no on_stopped_leading without a start
  EXPECT_FALSE(a->elector->IsLeader());
  const auto released = Clock::now();
  Candidate* b = Add("replica-b");
  ASSERT_TRUE(WaitFor([&] { return b->elector->IsLeader(); }, 10));
  EXPECT_LT(Seconds(Clock::now() - released), kRetry * 2.2 + kSlack);
  EXPECT_EQ(Lease().holder, "replica-b");
  // a stays a candidate: back after its pause, it does not take the lease.
  const auto until = Clock::now() + std::chrono::milliseconds(2500);
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    ASSERT_FALSE(a->elector->IsLeader());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(a->Started(), 1);
}

// A 409 (another writer won) makes the candidate back off a retry period
// and read again; it leads once its write goes through.
TEST_F(LeaderElectorTest, ConflictMakesTheCandidateBackOff) {
  fake_.ConflictLeaseWrites(3);
  const auto start = Clock::now();
  Candidate* a = Add("replica-a");
  ASSERT_TRUE(WaitFor([&] { return a->elector->IsLeader(); }, 10));
  const double took = Seconds(Clock::now() - start);
  EXPECT_GE(took, 3 * kRetry);
  FakeApiServer::Stats s = fake_.stats();
  EXPECT_EQ(s.lease_conflicts, 3);
  EXPECT_GE(s.lease_writes, 4);
  EXPECT_EQ(a->Started(), 1);
  EXPECT_EQ(Lease().holder, "replica-a");

  // A conflict of the leader's renewal is retried within the deadline:
  // it keeps leading.
  fake_.ConflictLeaseWrites(1);
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lease_conflicts == 4; }, 10));
  const std::string renew = Lease().renew;
  ASSERT_TRUE(WaitFor([&] { return Lease().renew != renew; }, 10));
  EXPECT_TRUE(a->elector->IsLeader());
  EXPECT_EQ(a->Stopped(), 0);
}

// Another holder's valid lease is left alone, however often it is read.
TEST_F(LeaderElectorTest, ValidForeignLeaseIsNotTaken) {
  // A holder that renews through the fake's API directly.
  const std::string base = fake_.url() +
                           "/apis/coordination.k8s.io/v1/namespaces/" + kNs +
                           "/leases";
  auto body = [&](const std::string& rv, const std::string& t) {
    return std::string(R"({"apiVersion":"coordination.k8s.io/v1",)") +
           R"("kind":"Lease","metadata":{"name":")" + kName + "\"" +
           (rv.empty() ? "" : R"(,"resourceVersion":")" + rv + "\"") +
           R"(},"spec":{"holderIdentity":"other","leaseDurationSeconds":2,)" +
           R"("acquireTime":"2026-12-03T12:00:00.000000Z","renewTime":")" + t +
           R"(","leaseTransitions":4}})";
  };
  ASSERT_EQ(testing::HttpCall("POST", base, body("", "t0"),
                              {"Content-Type: application/json"})
                .status,
            201);
  Candidate* a = Add("replica-a");
  const auto until = Clock::now() + std::chrono::milliseconds(3000);
  for (int i = 0; i < 1000 && Clock::now() < until; ++i) {
    ASSERT_FALSE(a->elector->IsLeader());
    // Renew "other" every 0.3 s (the record changes: the lease stays valid).
    const LeaseSpec l = Lease();
    ASSERT_EQ(testing::HttpCall("PUT", base + "/" + kName,
                                body(l.rv, "t" + std::to_string(i)),
                                {"Content-Type: application/json"})
                  .status,
              200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(Lease().holder, "other");
  // "other" stops renewing: a takes over after the lease duration.
  ASSERT_TRUE(WaitFor([&] { return a->elector->IsLeader(); }, 10));
  EXPECT_EQ(Lease().transitions, 5);
}

TEST_F(LeaderElectorTest, GaugeFollowsLeadership) {
  prometheus::Registry registry;
  Metrics metrics(&registry);
  auto gauge = [&] {
    for (const auto& f : registry.Collect()) {
      if (f.name == "crashctl_kube_leader") return f.metric.at(0).gauge.value;
    }
    return -1.0;
  };
  EXPECT_EQ(gauge(), 0);
  Candidate* a = Add("replica-a", &metrics);
  ASSERT_TRUE(WaitFor([&] { return gauge() == 1; }, 10));
  EXPECT_TRUE(a->elector->IsLeader());
  a->elector->Stop();
  EXPECT_EQ(gauge(), 0);
}

TEST_F(LeaderElectorTest, StartRejectsBadTimings) {
  LeaderElector::Options o;
  o.ns = kNs;
  o.lease_name = kName;
  o.identity = "x";
  o.lease_duration_seconds = 1;
  o.renew_deadline_seconds = 1;
  o.retry_period_seconds = 0.2;
  LeaderElector e1(config_, o, nullptr);
  EXPECT_TRUE(e1.Start().IsInvalid());
  o.lease_duration_seconds = 2;
  o.retry_period_seconds = 0.9;
  LeaderElector e2(config_, o, nullptr);
  EXPECT_TRUE(e2.Start().IsInvalid());
  o.retry_period_seconds = 0.2;
  o.identity = "";
  LeaderElector e3(config_, o, nullptr);
  EXPECT_TRUE(e3.Start().IsInvalid());
}

TEST(LeaderElectorOptionsTest, DefaultsFromConfigAndEnvironment) {
  core::Config config;
  LeaderElector::Options o =
      LeaderElector::OptionsFromConfig(config, {{"POD_NAME", "crashctl-1"}});
  EXPECT_EQ(o.identity, "crashctl-1");
  EXPECT_EQ(o.lease_name, "crashctl");
  EXPECT_FALSE(o.ns.empty());  // the service account's, else "crashctl"
  EXPECT_EQ(o.lease_duration_seconds, 15);
  EXPECT_EQ(o.renew_deadline_seconds, 10);
  EXPECT_EQ(o.retry_period_seconds, 2);
  o = LeaderElector::OptionsFromConfig(config, {});
  EXPECT_FALSE(o.identity.empty());  // the hostname
  config.kube_le_identity = "me";
  config.kube_le_namespace = "ops";
  o = LeaderElector::OptionsFromConfig(config, {{"POD_NAME", "crashctl-1"}});
  EXPECT_EQ(o.identity, "me");
  EXPECT_EQ(o.ns, "ops");
}

// The fake's Leases answer as the real API server does.
TEST(FakeLeaseApiTest, ConflictsNotFoundAndAlreadyExistsAreStatusObjects) {
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  const std::string base =
      fake.url() + "/apis/coordination.k8s.io/v1/namespaces/ns1/leases";
  const std::vector<std::string> json = {"Content-Type: application/json"};
  auto status_of = [](const std::string& body, std::string* reason) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (d.HasParseError() || !d.IsObject()) return -1;
    EXPECT_STREQ(d["kind"].GetString(), "Status");
    EXPECT_STREQ(d["status"].GetString(), "Failure");
    *reason = d["reason"].GetString();
    return d["code"].GetInt();
  };
  std::string reason;
  testing::HttpResult r = testing::HttpCall("GET", base + "/l1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(status_of(r.body, &reason), 404);
  EXPECT_EQ(reason, "NotFound");
  const std::string lease =
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)"
      R"("metadata":{"name":"l1"},"spec":{"holderIdentity":"a"}})";
  r = testing::HttpCall("POST", base, lease, json);
  ASSERT_EQ(r.status, 201) << r.body;
  rapidjson::Document created;
  created.Parse(r.body.c_str());
  ASSERT_TRUE(created.IsObject());
  EXPECT_STREQ(created["kind"].GetString(), "Lease");
  EXPECT_STREQ(created["metadata"]["namespace"].GetString(), "ns1");
  EXPECT_TRUE(created["metadata"].HasMember("uid"));
  EXPECT_TRUE(created["metadata"].HasMember("creationTimestamp"));
  const std::string rv = created["metadata"]["resourceVersion"].GetString();
  r = testing::HttpCall("POST", base, lease, json);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(status_of(r.body, &reason), 409);
  EXPECT_EQ(reason, "AlreadyExists");
  auto with_rv = [](const std::string& v) {
    return R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)"
           R"("metadata":{"name":"l1","resourceVersion":")" +
           v + R"("},"spec":{"holderIdentity":"b"}})";
  };
  r = testing::HttpCall("PUT", base + "/l1", with_rv(rv), json);
  ASSERT_EQ(r.status, 200) << r.body;
  r = testing::HttpCall("PUT", base + "/l1", with_rv(rv), json);  // stale
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(status_of(r.body, &reason), 409);
  EXPECT_EQ(reason, "Conflict");
  r = testing::HttpCall("PUT", base + "/l2", with_rv(rv), json);
  EXPECT_EQ(r.status, 400);  // name on the URL differs
  r = testing::HttpCall("GET", base);
  EXPECT_NE(r.body.find("\"LeaseList\""), std::string::npos);
  EXPECT_NE(r.body.find("\"holderIdentity\":\"b\""), std::string::npos);
  fake.Stop();
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
