// Ingest DSN keys (issue 19): the key cache (reload intervals,
// invalidation), the per-key rate limiter and its Sentry headers, and the
// handlers' answers for disabled keys, deleted keys and keys over their
// rate limit, with the real pipeline and SQLite store.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/ingest/handlers.h"
#include "crashctl/ingest/key_cache.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/ingest/rate_limiter.h"
#include "crashctl/store/sqlite.h"
#include "tests/rest/fake_store.h"
#include "tests/testing/raw_http.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace ingest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- KeyCache -----------------------------------------------------------

class KeyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.CreateProject("p", &project_).ok());
    KeyCache::Options options;
    options.now = [this] { return now_; };
    cache_ = std::make_unique<KeyCache>(&store_, options);
  }
  bool Find(const std::string& key, model::ProjectKey* out = nullptr) {
    model::ProjectKey found;
    const bool ok = cache_->Find(key, &found);
    if (out != nullptr) *out = found;
    return ok;
  }

  testing::FakeStore store_;
  model::Project project_;
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  std::unique_ptr<KeyCache> cache_;
};

TEST_F(KeyCacheTest, FindsKeysWithTheirProjectAndState) {
  model::ProjectKey key;
  ASSERT_TRUE(Find(project_.public_key, &key));
  EXPECT_EQ(key.project_id, project_.id);
  EXPECT_TRUE(key.active);
  EXPECT_EQ(cache_->loads(), 1);
  ASSERT_TRUE(Find(project_.public_key));
  EXPECT_EQ(cache_->loads(), 1);  // a hit reads nothing
}

TEST_F(KeyCacheTest, MissReloadsAtMostOncePerSecond) {
  ASSERT_TRUE(Find(project_.public_key));
  model::ProjectKey created;
  ASSERT_TRUE(store_.CreateKey(project_.id, "new", 0, &created).ok());
  for (int i = 0; i < 50; ++i)
    EXPECT_FALSE(Find("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(Find(created.public_key));  // not yet: within the second
  EXPECT_EQ(cache_->loads(), 1);
  now_ += milliseconds(1000);
  EXPECT_TRUE(Find(created.public_key));
  EXPECT_EQ(cache_->loads(), 2);
  EXPECT_FALSE(Find("0123456789abcdef0123456789abcdef"));
  EXPECT_EQ(cache_->loads(), 2);
}

TEST_F(KeyCacheTest, HitsReloadEveryThreeSeconds) {
  ASSERT_TRUE(Find(project_.public_key));
  const int64_t key_id = store_.keys.at(0).id;
  store::KeyUpdate off;
  off.active = false;
  ASSERT_TRUE(store_.UpdateKey(project_.id, key_id, off, nullptr).ok());
  now_ += milliseconds(2900);
  model::ProjectKey key;
  ASSERT_TRUE(Find(project_.public_key, &key));
  EXPECT_TRUE(key.active);  // the cached state
  now_ += milliseconds(100);
  ASSERT_TRUE(Find(project_.public_key, &key));
  EXPECT_FALSE(key.active);
  EXPECT_EQ(cache_->loads(), 2);
}

TEST_F(KeyCacheTest, InvalidateReloadsOnTheNextFind) {
  ASSERT_TRUE(Find(project_.public_key));
  ASSERT_TRUE(store_.DeleteKey(project_.id, store_.keys.at(0).id).ok());
  EXPECT_TRUE(Find(project_.public_key));  // cached
  cache_->Invalidate();
  EXPECT_FALSE(Find(project_.public_key));
  EXPECT_EQ(cache_->loads(), 2);
  model::ProjectKey created;
  ASSERT_TRUE(store_.CreateKey(project_.id, "", 0, &created).ok());
  cache_->Invalidate();
  EXPECT_TRUE(Find(created.public_key));  // at once, within the second
}

// --- RateLimiter --------------------------------------------------------

TEST(RateLimiterTest, AdmitsTheLimitPerMinuteThenAnswersTheWait) {
  RateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0), 0);
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0), 0);
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0), 30);  // one event per 30 s
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0 + seconds(10)), 20);
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0 + seconds(30)), 0);
  EXPECT_EQ(limiter.Acquire(1, 2, 1, t0 + seconds(30)), 30);
  // Other keys have their own buckets.
  EXPECT_EQ(limiter.Acquire(2, 2, 1, t0 + seconds(30)), 0);
}

TEST(RateLimiterTest, WaitIsAtLeastOneSecondAndRoundsUp) {
  RateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(limiter.Acquire(1, 600, 600, t0), 0);
  EXPECT_EQ(limiter.Acquire(1, 600, 1, t0), 1);   // 0.1 s -> 1
  EXPECT_EQ(limiter.Acquire(1, 600, 25, t0), 3);  // 2.5 s -> 3
}

TEST(RateLimiterTest, ZeroIsUnlimitedAndAChangedLimitApplies) {
  RateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Acquire(1, 0, 1, t0), 0);
  EXPECT_EQ(limiter.size(), 0u);
  EXPECT_EQ(limiter.Acquire(3, 60, 60, t0), 0);
  EXPECT_EQ(limiter.Acquire(3, 60, 1, t0), 1);
  // Lowered: the bucket holds at most the new limit.
  EXPECT_EQ(limiter.Acquire(3, 1, 1, t0 + seconds(120)), 0);
  EXPECT_EQ(limiter.Acquire(3, 1, 1, t0 + seconds(120)), 60);
}

TEST(RateLimiterTest, ACostOverTheLimitPassesWithAFullBucket) {
  RateLimiter limiter;
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(limiter.Acquire(1, 2, 5, t0), 0);
  EXPECT_GT(limiter.Acquire(1, 2, 1, t0), 0);  // owed
}

TEST(RateLimiterTest, HoldsAtMostMaxKeysBuckets) {
  RateLimiter::Options options;
  options.max_keys = 8;
  RateLimiter limiter(options);
  const Clock::time_point t0 = Clock::now();
  for (int64_t key = 1; key <= 100; ++key) {
    EXPECT_EQ(limiter.Acquire(key, 10, 1, t0), 0);
    EXPECT_LE(limiter.size(), 8u);
  }
  // A bucket that is full again is dropped first.
  RateLimiter other(options);
  for (int64_t key = 1; key <= 8; ++key) other.Acquire(key, 60, 60, t0);
  other.Acquire(1, 60, 1, t0 + seconds(70));  // key 1: full again, then 59
  other.Acquire(9, 60, 1, t0 + seconds(70));  // evicts the full ones
  EXPECT_LE(other.size(), 8u);
  EXPECT_EQ(other.Acquire(1, 60, 1, t0 + seconds(70)), 0);  // kept, 58 left
}

TEST(RateLimiterTest, HeadersUseSentryFormat) {
  const auto headers = KeyRateLimitHeaders(42);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].first, "Retry-After");
  EXPECT_EQ(headers[0].second, "42");
  EXPECT_EQ(headers[1].first, "X-Sentry-Rate-Limits");
  EXPECT_EQ(headers[1].second, "42::key");  // retry_after:categories:scope
}

// --- the handlers -------------------------------------------------------

std::string EventIdOf(int n) {
  char id[33];
  std::snprintf(id, sizeof(id), "%032x", n);
  return id;
}

std::string Event(int n) {
  return R"({"event_id":")" + EventIdOf(n) +
         R"(","message":"boom","level":"error","platform":"python"})";
}

class IngestKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = store::OpenSqlite(dir_.File("crashctl.db"), &error);
    ASSERT_TRUE(store_) << error;
    ASSERT_TRUE(store_->CreateProject("p", &project_).ok());
    pipeline_ = std::make_unique<IngestPipeline>(
        store_.get(), &metrics_, IngestPipeline::Options{100, 8});
    handlers_ = std::make_unique<IngestHandlers>(
        store_.get(), pipeline_.get(), &metrics_, IngestHandlers::Options{});
    pipeline_->Start();
  }
  void TearDown() override {
    if (pipeline_) pipeline_->Stop();
  }
  http::HttpResponse Store(const std::string& key, const std::string& body) {
    http::HttpRequest r;
    r.method = "POST";
    r.body = body;
    r.headers["x-sentry-auth"] = "Sentry sentry_version=7, sentry_key=" + key;
    r.path_params["project_id"] = std::to_string(project_.id);
    return handlers_->HandleStore(r);
  }
  http::HttpResponse Envelope(const std::string& key, const std::string& body) {
    http::HttpRequest r;
    r.method = "POST";
    r.body = body;
    r.query = "sentry_key=" + key;
    r.path_params["project_id"] = std::to_string(project_.id);
    return handlers_->HandleEnvelope(r);
  }
  std::string Header(const http::HttpResponse& response,
                     const std::string& name) {
    for (const auto& header : response.headers) {
      if (header.first == name) return header.second;
    }
    return "";
  }
  double Rejected(const std::string& reason) {
    return testing::MetricValue(
        exporter_.Serialize(),
        "crashctl_ingest_rejected_total{reason=\"" + reason + "\"}");
  }
  bool Stored(int n) {
    model::StoredEvent event;
    return store_->GetEvent(EventIdOf(n), &event).ok();
  }

  testing::TempDir dir_{"ingest-keys"};
  std::unique_ptr<store::Store> store_;
  model::Project project_;
  exporter::Exporter exporter_{exporter::Exporter::Options{}};
  Metrics metrics_{exporter_.registry(), exporter_.services()};
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<IngestHandlers> handlers_;
};

TEST_F(IngestKeysTest, EveryActiveKeyOfTheProjectIsAccepted) {
  model::ProjectKey second;
  ASSERT_TRUE(store_->CreateKey(project_.id, "ci", 0, &second).ok());
  handlers_->InvalidateKeys();
  EXPECT_EQ(Store(project_.public_key, Event(1)).status, 200);
  http::HttpResponse response = Store(second.public_key, Event(2));
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(IngestKeysTest, DisabledKeyIsRefused403AndCounted) {
  std::vector<model::ProjectKey> keys;
  ASSERT_TRUE(store_->ListKeys(project_.id, &keys).ok());
  store::KeyUpdate off;
  off.active = false;
  ASSERT_TRUE(store_->UpdateKey(project_.id, keys[0].id, off, nullptr).ok());
  handlers_->InvalidateKeys();
  http::HttpResponse response = Store(project_.public_key, Event(1));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.body, R"({"error":"key is disabled"})");
  EXPECT_EQ(Rejected("key_disabled"), 1);
  // An unknown key answers as before.
  response = Store("ffffffffffffffffffffffffffffffff", Event(2));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.body, R"({"error":"unknown key"})");
  EXPECT_EQ(Rejected("auth"), 1);
}

TEST_F(IngestKeysTest, DeletedKeyIsRefusedOnceInvalidated) {
  model::ProjectKey second;
  ASSERT_TRUE(store_->CreateKey(project_.id, "new", 0, &second).ok());
  std::vector<model::ProjectKey> keys;
  ASSERT_TRUE(store_->ListKeys(project_.id, &keys).ok());
  EXPECT_EQ(Store(project_.public_key, Event(1)).status, 200);
  ASSERT_TRUE(store_->DeleteKey(project_.id, keys[0].id).ok());
  handlers_->InvalidateKeys();
  EXPECT_EQ(Store(project_.public_key, Event(2)).status, 403);
  EXPECT_EQ(Store(second.public_key, Event(3)).status, 200);
}

TEST_F(IngestKeysTest, KeyOverItsRateLimitIsAnswered429WithSentryHeaders) {
  model::ProjectKey limited;
  ASSERT_TRUE(store_->CreateKey(project_.id, "limited", 2, &limited).ok());
  handlers_->InvalidateKeys();
  EXPECT_EQ(Store(limited.public_key, Event(1)).status, 200);
  EXPECT_EQ(Store(limited.public_key, Event(2)).status, 200);
  http::HttpResponse response = Store(limited.public_key, Event(3));
  ASSERT_EQ(response.status, 429) << response.body;
  EXPECT_NE(response.body.find("\"error\""), std::string::npos);
  const std::string retry = Header(response, "Retry-After");
  ASSERT_FALSE(retry.empty());
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 30);
  EXPECT_EQ(Header(response, "X-Sentry-Rate-Limits"), retry + "::key");
  EXPECT_EQ(Rejected("rate_limited"), 1);
  // Envelopes count too; the project's other key has no limit.
  const std::string envelope = "{}\n{\"type\":\"event\"}\n" + Event(4) + "\n";
  EXPECT_EQ(Envelope(limited.public_key, envelope).status, 429);
  EXPECT_EQ(Envelope(project_.public_key, envelope).status, 200);
  // An envelope without events or transactions is not limited.
  const std::string report =
      "{}\n{\"type\":\"client_report\"}\n"
      R"({"timestamp":1700000000,"discarded_events":[]})"
      "\n";
  EXPECT_EQ(Envelope(limited.public_key, report).status, 200);
  for (int n : {1, 2, 4}) EXPECT_TRUE(Stored(n)) << n;
  EXPECT_FALSE(Stored(3));
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
