// End-to-end ingestion: the real crashctl binary on a loopback port, driven
// over HTTP by the real @sentry/node SDK and by hand-made envelopes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include <regex>
#include <string>
#include <vector>

#include "server_fixture.h"
#include "tests/testing/events.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::Envelope;
using testing::EventJson;
using testing::HttpResult;
using testing::ServerProcess;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

// zlib-compresses `data`: gzip when `gzip`, else zlib-wrapped deflate.
std::string Compress(const std::string& data, bool gzip) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                         gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A gzip body that inflates to `size` zero bytes (a decompression bomb).
std::string GzipBomb(size_t size) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
               Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0');
  std::string out;
  char buffer[65536];
  for (size_t done = 0; done < size; done += zeros.size()) {
    zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
    zs.avail_in = static_cast<uInt>(zeros.size());
    const int flush = done + zeros.size() >= size ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer);
      zs.avail_out = sizeof(buffer);
      deflate(&zs, flush);
      out.append(buffer, sizeof(buffer) - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

class IngestTest : public testing::ServerWithProjectTest {
 protected:
  std::string EnvelopePath() const {
    return "/api/" + std::to_string(project_.id) +
           "/envelope/?sentry_key=" + project_.key;
  }

  // Number of groups in the project, via the REST API.
  size_t GroupCount() {
    HttpResult r =
        server_->Get("/api/v1/groups?project=" + std::to_string(project_.id) +
                     "&limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = ParseJson(r.body);
    return doc.HasMember("items") ? doc["items"].Size() : 0;
  }

  void ExpectServing() {
    EXPECT_EQ(server_->Get("/healthz").status, 200) << server_->Log();
  }
};

TEST_F(IngestTest, RealSentryNodeSdkGroupsTwoCallSites) {
  const std::string script =
      testing::SourceDir() + "/tests/integration/sentry_node_client.js";
  testing::CommandResult run = testing::RunCommand(
      {"node", script, project_.dsn},
      {{"NODE_PATH", testing::SourceDir() + "/tests/node_modules"}}, 60);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();

  HttpResult r = server_->Get("/api/v1/groups?sort=count&project=" +
                              std::to_string(project_.id));
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = ParseJson(r.body);
  ASSERT_TRUE(doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 2u) << r.body;
  const auto& first = doc["items"][0];
  const auto& second = doc["items"][1];
  EXPECT_EQ(first["count"].GetInt64(), 3);
  // A group's title follows its latest event, as in Sentry.
  EXPECT_TRUE(std::regex_match(
      first["title"].GetString(),
      std::regex("TypeError: order (101|202|303) has no items")))
      << first["title"].GetString();
  EXPECT_NE(std::string(first["culprit"].GetString()).find("checkout"),
            std::string::npos)
      << first["culprit"].GetString();
  EXPECT_STREQ(first["service"].GetString(), "checkout");
  EXPECT_EQ(second["count"].GetInt64(), 1);
  EXPECT_STREQ(second["title"].GetString(),
               "RangeError: profile 42 out of range");
  EXPECT_NE(std::string(second["culprit"].GetString()).find("loadProfile"),
            std::string::npos)
      << second["culprit"].GetString();

  // The events behind the bigger group, with their original payloads.
  const std::string group_id = std::to_string(first["id"].GetInt64());
  r = server_->Get("/api/v1/groups/" + group_id + "/events");
  ASSERT_EQ(r.status, 200);
  doc = ParseJson(r.body);
  ASSERT_EQ(doc["items"].Size(), 3u);
  const std::string event_id = doc["items"][0]["event_id"].GetString();
  r = server_->Get("/api/v1/events/" + event_id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("sentry.javascript.node"), std::string::npos);

  // Counters on /metrics.
  r = server_->Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("crashctl_groups_created_total{project=\"" +
                        std::to_string(project_.id) + "\"} 2"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("crashctl_events_total{"), std::string::npos);
  // The most active groups of the last hour, for ranking in Grafana.
  EXPECT_NE(r.body.find("crashctl_group_events_total{group_id=\"" + group_id +
                        "\",project=\"" + std::to_string(project_.id) +
                        "\",service=\"checkout\"} 3"),
            std::string::npos)
      << r.body;
}

TEST_F(IngestTest, GzipAndDeflateEnvelopesAreStored) {
  const std::string gz_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string df_id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  HttpResult r = server_->Post(
      EnvelopePath(),
      Compress(Envelope(gz_id, EventJson(gz_id, "KeyError", "'sku'")), true),
      {"Content-Encoding: gzip",
       "Content-Type: application/x-sentry-envelope"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body)["id"].GetString(), gz_id);
  r = server_->Post(
      EnvelopePath(),
      Compress(Envelope(df_id, EventJson(df_id, "ValueError", "bad")), false),
      {"Content-Encoding: deflate"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server_->Get("/api/v1/events/" + gz_id).status, 200);
  EXPECT_EQ(server_->Get("/api/v1/events/" + df_id).status, 200);
  EXPECT_EQ(GroupCount(), 2u);
}

TEST_F(IngestTest, StoreEndpointAuthHeaderAndShortForm) {
  const std::string id1 = "cccccccccccccccccccccccccccccccc";
  HttpResult r = server_->Post(
      "/api/" + std::to_string(project_.id) + "/store/",
      EventJson(id1, "KeyError", "'a'"),
      {"X-Sentry-Auth: Sentry sentry_version=7, sentry_key=" + project_.key +
       ", sentry_client=test/1.0"});
  EXPECT_EQ(r.status, 200) << r.body;
  const std::string id2 = "dddddddddddddddddddddddddddddddd";
  r = server_->Post("/api/v1/events?key=" + project_.key,
                    EventJson(id2, "KeyError", "'b'"));
  EXPECT_EQ(r.status, 200) << r.body;
  // Same type and normalised value: one group with two events.
  EXPECT_EQ(GroupCount(), 1u);
}

struct BadInput {
  std::string name;
  std::string path_suffix;  // appended to /api/<id>/envelope/
  std::string body;
  std::vector<std::string> headers;
  long status;
  std::string reason;  // crashctl_ingest_rejected_total reason
};

TEST_F(IngestTest, BadInputGetsItsStatusStoresNothingAndServerKeepsServing) {
  const std::string id = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
  const std::string good_event = EventJson(id, "KeyError", "'x'");
  const std::string key = "?sentry_key=" + project_.key;
  const std::string wrong_key = "?sentry_key=0123456789abcdef0123456789abcdef";
  const std::string header = R"({"event_id":")" + id + "\"}\n";
  std::string big_event = EventJson(id, "KeyError", std::string(2 << 20, 'x'));
  const std::vector<BadInput> cases = {
      {"malformed json",
       key,
       header + "{\"type\":\"event\"}\n{not json\n",
       {},
       400,
       "malformed_json"},
      {"wrong key", wrong_key, Envelope(id, good_event), {}, 403, "auth"},
      {"missing key", "", Envelope(id, good_event), {}, 401, "auth"},
      {"oversize event", key, Envelope(id, big_event), {}, 413, "too_large"},
      {"truncated envelope",
       key,
       header + "{\"type\":\"event\",\"length\":500}\n{\"a\":1}",
       {},
       400,
       "bad_envelope"},
      {"wrong item length",
       key,
       header + "{\"type\":\"event\",\"length\":3}\n" + good_event + "\n",
       {},
       400,
       "bad_envelope"},
      {"decompression bomb",
       key,
       GzipBomb(size_t{64} << 20),
       {"Content-Encoding: gzip"},
       413,
       "too_large"},
      {"corrupt gzip",
       key,
       "not gzip at all",
       {"Content-Encoding: gzip"},
       400,
       "decompression"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult r = server_->Post(
        "/api/" + std::to_string(project_.id) + "/envelope/" + c.path_suffix,
        c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    rapidjson::Document doc = ParseJson(r.body);
    ASSERT_TRUE(doc.IsObject());
    EXPECT_TRUE(doc.HasMember("error")) << r.body;
    ExpectServing();
  }
  EXPECT_EQ(GroupCount(), 0u);
  EXPECT_EQ(server_->Get("/api/v1/events/" + id).status, 404);
  HttpResult metrics = server_->Get("/metrics");
  for (const char* reason : {"malformed_json", "auth", "too_large",
                             "bad_envelope", "decompression"}) {
    EXPECT_NE(metrics.body.find(
                  std::string("crashctl_ingest_rejected_total{reason=\"") +
                  reason + "\"}"),
              std::string::npos)
        << reason;
  }
  // And a good event still goes through afterwards.
  HttpResult r = server_->Post(EnvelopePath(), Envelope(id, good_event));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(IngestTest, EventOnResolvedGroupIsARegression) {
  const std::string store_path = project_.StorePath();
  HttpResult r = server_->Post(
      store_path,
      EventJson("11111111111111111111111111111111", "KeyError", "'a'"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = server_->Get("/api/v1/groups?project=" + std::to_string(project_.id));
  rapidjson::Document doc = ParseJson(r.body);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const std::string group =
      "/api/v1/groups/" + std::to_string(doc["items"][0]["id"].GetInt64());

  r = server_->Patch(group, R"({"status":"resolved"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(ParseJson(r.body)["status"].GetString(), "resolved");
  r = server_->Patch(group, R"({"status":"sleeping"})");
  EXPECT_EQ(r.status, 400) << r.body;

  r = server_->Post(store_path, EventJson("22222222222222222222222222222222",
                                          "KeyError", "'b'"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = server_->Get(group);
  ASSERT_EQ(r.status, 200);
  doc = ParseJson(r.body);
  EXPECT_STREQ(doc["status"].GetString(), "unresolved");
  EXPECT_EQ(doc["count"].GetInt64(), 2);
  r = server_->Get("/metrics");
  EXPECT_NE(r.body.find("crashctl_group_regressions_total{project=\"" +
                        std::to_string(project_.id) + "\"} 1"),
            std::string::npos);
  EXPECT_NE(
      r.body.find("crashctl_groups_active{project=\"" +
                  std::to_string(project_.id) + "\",status=\"unresolved\"} 1"),
      std::string::npos);
}

TEST_F(IngestTest, MetricsPassPromtool) {
  HttpResult r = server_->Post(
      EnvelopePath(), Envelope("ffffffffffffffffffffffffffffffff",
                               EventJson("ffffffffffffffffffffffffffffffff",
                                         "KeyError", "'m'")));
  ASSERT_EQ(r.status, 200);
  r = server_->Get("/metrics");
  ASSERT_EQ(r.status, 200);
  const std::string path = server_->data_dir() + "/metrics.txt";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_TRUE(f);
  fwrite(r.body.data(), 1, r.body.size(), f);
  fclose(f);
  testing::CommandResult check =
      testing::RunCommand({"sh", "-c", "promtool check metrics < " + path});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  for (const char* name :
       {"crashctl_events_total", "crashctl_groups_active",
        "crashctl_groups_created_total", "crashctl_group_regressions_total",
        "crashctl_ingestion_duration_seconds", "crashctl_ingest_rejected_total",
        "crashctl_storage_size_bytes", "crashctl_build_info"}) {
    EXPECT_NE(r.body.find(std::string("# TYPE ") + name), std::string::npos)
        << name;
  }
}

}  // namespace
}  // namespace crashctl
