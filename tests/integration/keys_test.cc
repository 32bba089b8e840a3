// End-to-end DSN keys (issue 19): the real crashctl binary on a loopback
// port. A key is rotated while events arrive with both keys: the old key is
// refused as soon as its DELETE answered (the REST route invalidates the
// ingest key cache), and every event answered 2xx is stored. A key with a
// rate limit is answered 429 with Retry-After and X-Sentry-Rate-Limits.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"
#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpCall;
using testing::HttpResult;
using testing::ServerProcess;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string EventId(int sender, int n) {
  char id[33];
  std::snprintf(id, sizeof(id), "%08x%024x", sender + 1, n);
  return id;
}

std::string EventJson(const std::string& id) {
  return R"({"event_id":")" + id +
         R"(","platform":"python","level":"error","message":"rotation"})";
}

class KeysIntegrationTest : public testing::ServerWithProjectTest {
 protected:
  std::string KeysPath() const {
    return "/api/v1/projects/" + std::to_string(project_.id) + "/keys";
  }
  // POST .../keys with `body`; the new key's (id, public_key).
  std::pair<int64_t, std::string> CreateKey(const std::string& body) {
    HttpResult r =
        server_->Post(KeysPath(), body, {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 201) << r.body;
    rapidjson::Document doc = ParseJson(r.body);
    if (!doc.IsObject() || !doc.HasMember("id")) return {0, ""};
    return {doc["id"].GetInt64(), doc["public_key"].GetString()};
  }
  int64_t FirstKeyId() {
    HttpResult r = server_->Get(KeysPath());
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = ParseJson(r.body);
    return doc["items"][0]["id"].GetInt64();
  }
  HttpResult Send(const std::string& key, const std::string& id) {
    return HttpCall("POST",
                    server_->base_url() + "/api/" +
                        std::to_string(project_.id) +
                        "/store/?sentry_key=" + key,
                    EventJson(id), {"Content-Type: application/json"});
  }
};

TEST_F(KeysIntegrationTest, RotationWhileEventsArriveLosesNothing) {
  const std::string old_key = project_.key;
  const int64_t old_id = FirstKeyId();
  const std::string new_key = CreateKey(R"({"label":"rotated"})").second;
  ASSERT_FALSE(new_key.empty());

  constexpr int kMaxPerSender = 400;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> deleted{false};
  std::atomic<int> refused_after_delete{0}, other_failures{0};
  std::atomic<int> sent[2] = {{0}, {0}};
  auto sender = [&](int index, const std::string& key) {
    // Bounded: at most kMaxPerSender events; both stop once the old key was
    // deleted and refused, and the new one kept working for a while.
    for (int n = 0; n < kMaxPerSender; ++n) {
      const bool after = deleted.load();
      const std::string id = EventId(index, n);
      HttpResult r = Send(key, id);
      sent[index]++;
      if (r.status >= 200 && r.status < 300) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(id);
      } else if (r.status == 403 && index == 0) {
        if (after) ++refused_after_delete;
        if (refused_after_delete >= 5) break;
      } else {
        ++other_failures;
      }
      if (index == 1 && refused_after_delete >= 5 && n >= 60) break;
    }
  };
  std::thread a(sender, 0, old_key);
  std::thread b(sender, 1, new_key);
  ASSERT_TRUE(
      testing::WaitFor([&] { return sent[0] >= 20 && sent[1] >= 20; }, 30));
  HttpResult del = HttpCall("DELETE", server_->base_url() + KeysPath() + "/" +
                                          std::to_string(old_id));
  EXPECT_EQ(del.status, 200) << del.body;
  deleted = true;
  // Refused at once: the DELETE invalidated the cache.
  HttpResult refused = Send(old_key, EventId(7, 1));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("unknown key"), std::string::npos);
  a.join();
  b.join();
  EXPECT_EQ(other_failures, 0);
  EXPECT_GE(refused_after_delete, 1);
  EXPECT_EQ(Send(new_key, EventId(8, 1)).status, 200);
  acknowledged.push_back(EventId(8, 1));

  // Everything acknowledged with 2xx is stored.
  ASSERT_GT(acknowledged.size(), 40u);
  for (const std::string& id : acknowledged) {
    HttpResult r = server_->Get("/api/v1/events/" + id);
    ASSERT_EQ(r.status, 200) << id << ": " << r.body;
  }
  // The new key is the project's DSN now.
  HttpResult project =
      server_->Get("/api/v1/projects/" + std::to_string(project_.id));
  ASSERT_EQ(project.status, 200);
  EXPECT_EQ(ParseJson(project.body)["public_key"].GetString(), new_key);
}

TEST_F(KeysIntegrationTest, RateLimitedKeyAnswers429WithSentryHeaders) {
  const auto limited = CreateKey(R"({"label":"ci","rate_limit_per_minute":3})");
  ASSERT_FALSE(limited.second.empty());
  for (int n = 0; n < 3; ++n) {
    HttpResult r = Send(limited.second, EventId(3, n));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResult r = Send(limited.second, EventId(3, 3));
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  const std::string retry = r.headers["retry-after"];
  ASSERT_FALSE(retry.empty());
  EXPECT_GE(std::stoi(retry), 1);
  EXPECT_LE(std::stoi(retry), 20);  // one event per 20 s
  EXPECT_EQ(r.headers["x-sentry-rate-limits"], retry + "::key");
  // The project's first key has no limit.
  EXPECT_EQ(Send(project_.key, EventId(4, 0)).status, 200);
  // Lifting the limit applies at once.
  HttpResult patch = server_->Patch(
      KeysPath() + "/" + std::to_string(limited.first),
      R"({"rate_limit_per_minute":0})", {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(Send(limited.second, EventId(3, 4)).status, 200);
  HttpResult metrics = server_->Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_GE(testing::MetricValue(
                metrics.body,
                R"(crashctl_ingest_rejected_total{reason="rate_limited"})"),
            1);
}

TEST_F(KeysIntegrationTest, DisabledKeyIs403AndDeletedProjectIsGone) {
  const int64_t first = FirstKeyId();
  HttpResult patch =
      server_->Patch(KeysPath() + "/" + std::to_string(first),
                     R"({"active":false})", {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200) << patch.body;
  HttpResult r = Send(project_.key, EventId(5, 0));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("disabled"), std::string::npos) << r.body;
  patch =
      server_->Patch(KeysPath() + "/" + std::to_string(first),
                     R"({"active":true})", {"Content-Type: application/json"});
  ASSERT_EQ(patch.status, 200);
  ASSERT_EQ(Send(project_.key, EventId(5, 1)).status, 200);
  HttpResult del =
      HttpCall("DELETE", server_->base_url() + "/api/v1/projects/" +
                             std::to_string(project_.id));
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(Send(project_.key, EventId(5, 2)).status, 403);
  EXPECT_EQ(server_->Get("/api/v1/events/" + EventId(5, 1)).status, 404);
  EXPECT_EQ(
      server_->Get("/api/v1/projects/" + std::to_string(project_.id)).status,
      404);
}

}  // namespace
}  // namespace crashctl
