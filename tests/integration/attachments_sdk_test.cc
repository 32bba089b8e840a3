// Attachments, user feedback and legacy /store/ bodies end to end: the real
// crashctl binary on a loopback port, fed by the real Sentry SDKs.
//  * sentry_sdk 1.9 (Debian python3-sentry-sdk): scope.add_attachment (text
//    and binary), capture_exception, a user_report through the SDK's own
//    transport (1.9 has no capture_user_feedback):
//    attachments_python_client.py.
//  * @sentry/node 10: a scope attachment and one passed with
//    captureException, then Sentry.captureFeedback:
//    attachments_node_client.js.
// Asserts the bytes downloaded back equal what was sent, the feedback on the
// event and on its group, the sdk of the event; a raven-python style body
// (base64 of zlib-deflated JSON, no Content-Encoding) is stored with its
// sdk; an attachment over ingest.max_attachment_bytes is answered 413.
// Each SDK test is skipped when its SDK is missing. Every case runs on both
// storage drivers (Backends/...sqlite, .../postgres: a fresh schema on the
// shared PostgreSQL test server, testing::StorageEnv).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString()
             ? v[key].GetString()
             : "";
}

std::string EventIdFrom(const std::string& out) {
  const size_t at = out.find("event_id=");
  if (at == std::string::npos) return "";
  std::string id = out.substr(at + 9, 36);
  std::string hex;
  for (char c : id) {
    if (c != '-' && hex.size() < 32) hex.push_back(c);
  }
  return hex;
}

std::string Binary2K() {
  std::string out(2048, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(i % 256);
  }
  return out;
}

class AttachmentsSdkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    ServerProcess::Options options;
    if (!testing::StorageEnv(GetParam(), &options.env, &error)) {
      GTEST_SKIP() << error;
    }
    options.env["CRASHCTL_INGEST_MAX_ATTACHMENT_BYTES"] = "64KiB";
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    project_ = server_->CreateProject("shop");
    ASSERT_FALSE(project_.key.empty());
  }

  // Polls GET /api/v1/events/{id} until it has `attachments` attachments
  // and `feedback` feedback; returns the event document's text.
  std::string WaitForEvent(const std::string& id, int attachments,
                           size_t feedback) {
    std::string body;
    const bool ok = testing::WaitFor(
        [&] {
          HttpResult r = server_->Get("/api/v1/events/" + id);
          body = r.body;
          if (r.status != 200) return false;
          rapidjson::Document d = ParseJson(r.body);
          return d.HasMember("attachments") && d["attachments"].IsInt() &&
                 d["attachments"].GetInt() == attachments &&
                 d.HasMember("feedback") && d["feedback"].IsArray() &&
                 d["feedback"].Size() == feedback;
        },
        20);
    EXPECT_TRUE(ok) << body << server_->Log();
    return body;
  }

  // The attachments of event `id` by filename -> downloaded bytes.
  std::map<std::string, std::string> Download(const std::string& id) {
    std::map<std::string, std::string> out;
    HttpResult list = server_->Get("/api/v1/events/" + id + "/attachments");
    EXPECT_EQ(list.status, 200) << list.body;
    rapidjson::Document d = ParseJson(list.body);
    if (!d.HasMember("items") || !d["items"].IsArray()) return out;
    for (const auto& a : d["items"].GetArray()) {
      HttpResult bytes =
          server_->Get("/api/v1/events/" + id + "/attachments/" + Str(a, "id"));
      EXPECT_EQ(bytes.status, 200);
      out[Str(a, "filename")] = bytes.body;
    }
    return out;
  }

  void ExpectGroupFeedback(const std::string& event_body,
                           const std::string& comments) {
    rapidjson::Document event = ParseJson(event_body);
    ASSERT_TRUE(event.HasMember("group") && event["group"].IsInt64());
    HttpResult r = server_->Get("/api/v1/groups/" +
                                std::to_string(event["group"].GetInt64()));
    ASSERT_EQ(r.status, 200);
    rapidjson::Document group = ParseJson(r.body);
    ASSERT_TRUE(group.HasMember("feedback") && group["feedback"].IsArray());
    ASSERT_EQ(group["feedback"].Size(), 1u) << r.body;
    EXPECT_EQ(Str(group["feedback"][0], "comments"), comments);
  }

  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
};

INSTANTIATE_TEST_SUITE_P(Backends, AttachmentsSdkTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(AttachmentsSdkTest, SentryPythonAttachmentsAndUserReport) {
  if (testing::RunCommand({"/usr/bin/python3", "-c", "import sentry_sdk"}, {},
                          30)
          .exit_code != 0) {
    GTEST_SKIP() << "python3-sentry-sdk is not installed";
  }
  testing::CommandResult run = testing::RunCommand(
      {"/usr/bin/python3",
       testing::SourceDir() + "/tests/integration/attachments_python_client.py",
       project_.dsn},
      {}, 60);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
  const std::string id = EventIdFrom(run.out);
  ASSERT_EQ(id.size(), 32u) << run.out;
  const std::string body = WaitForEvent(id, 2, 1);
  rapidjson::Document event = ParseJson(body);
  ASSERT_TRUE(event.HasMember("sdk") && event["sdk"].IsObject()) << body;
  EXPECT_EQ(Str(event["sdk"], "name"), "sentry.python");
  EXPECT_EQ(Str(event["feedback"][0], "comments"), "the report vanished");
  EXPECT_EQ(Str(event["feedback"][0], "kind"), "user_report");
  EXPECT_EQ(Str(event["feedback"][0], "email"), "ann@example.com");
  std::map<std::string, std::string> files = Download(id);
  EXPECT_EQ(files["app.log"], "line one\nline two\n");
  EXPECT_EQ(files["state.bin"], Binary2K());  // bytes(range(256)) * 8
  ExpectGroupFeedback(body, "the report vanished");
  HttpResult m = server_->Get("/metrics");
  EXPECT_NE(m.body.find("crashctl_attachments_stored_total{project=\"" +
                        std::to_string(project_.id) + "\"} 2"),
            std::string::npos);
}

TEST_P(AttachmentsSdkTest, SentryNodeAttachmentsAndCaptureFeedback) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : testing::SourceDir() + "/tests/node_modules";
  if (!Exists(modules + "/@sentry/node/package.json")) {
    GTEST_SKIP() << "@sentry/node is not installed under " << modules;
  }
  testing::CommandResult run = testing::RunCommand(
      {"node",
       testing::SourceDir() + "/tests/integration/attachments_node_client.js",
       project_.dsn},
      {{"NODE_PATH", modules}}, 60);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
  const std::string id = EventIdFrom(run.out);
  ASSERT_EQ(id.size(), 32u) << run.out;
  const std::string body = WaitForEvent(id, 2, 1);
  rapidjson::Document event = ParseJson(body);
  ASSERT_TRUE(event.HasMember("sdk") && event["sdk"].IsObject()) << body;
  EXPECT_EQ(Str(event["sdk"], "name"), "sentry.javascript.node");
  const rapidjson::Value& fb = event["feedback"][0];
  EXPECT_EQ(Str(fb, "kind"), "feedback");
  EXPECT_EQ(Str(fb, "comments"), "my cart is gone");
  EXPECT_EQ(Str(fb, "email"), "bo@example.com");
  EXPECT_EQ(Str(fb, "url"), "https://shop.example/cart");
  std::map<std::string, std::string> files = Download(id);
  EXPECT_EQ(files["node.log"], "hello from node\n");
  EXPECT_EQ(files["cart.bin"], Binary2K());
  ExpectGroupFeedback(body, "my cart is gone");
}

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                      reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Zlib(const std::string& data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(&out[0]), &size,
                     reinterpret_cast<const Bytef*>(data.data()), data.size()),
            Z_OK);
  out.resize(size);
  return out;
}

TEST_P(AttachmentsSdkTest, LegacyBase64ZlibStoreBodyAnd413) {
  // What raven-python 6 sends: base64 of zlib JSON, no Content-Encoding,
  // application/octet-stream, the client in X-Sentry-Auth.
  const std::string id = "abcdefabcdefabcdefabcdefabcdef01";
  const std::string json = R"({"event_id":")" + id +
                           R"(","message":"legacy","level":"error",)"
                           R"("platform":"python"})";
  HttpResult r = server_->Post(
      "/api/" + std::to_string(project_.id) + "/store/", Base64(Zlib(json)),
      {"Content-Type: application/octet-stream",
       "X-Sentry-Auth: Sentry sentry_version=6, sentry_client=raven-python/"
       "6.10.0, sentry_key=" +
           project_.key});
  ASSERT_EQ(r.status, 200) << r.body << server_->Log();
  HttpResult event = server_->Get("/api/v1/events/" + id);
  ASSERT_EQ(event.status, 200);
  rapidjson::Document d = ParseJson(event.body);
  ASSERT_TRUE(d.HasMember("sdk") && d["sdk"].IsObject()) << event.body;
  EXPECT_EQ(Str(d["sdk"], "name"), "raven-python");
  EXPECT_EQ(Str(d["sdk"], "version"), "6.10.0");
  EXPECT_EQ(Str(d, "message"), "legacy");
  // Malformed: 400.
  r = server_->Post(project_.StorePath(), "@@not base64@@");
  EXPECT_EQ(r.status, 400) << r.body;
  // An attachment over ingest.max_attachment_bytes (64 KiB here): 413, the
  // event not stored.
  const std::string big(65 * 1024, 'x');
  const std::string id2 = "abcdefabcdefabcdefabcdefabcdef02";
  const std::string event_json = R"({"event_id":")" + id2 + R"("})";
  const std::string envelope =
      R"({"event_id":")" + id2 + "\"}\n" + R"({"type":"event","length":)" +
      std::to_string(event_json.size()) + "}\n" + event_json + "\n" +
      R"({"type":"attachment","filename":"big.bin","length":)" +
      std::to_string(big.size()) + "}\n" + big + "\n";
  r = server_->Post("/api/" + std::to_string(project_.id) +
                        "/envelope/?sentry_key=" + project_.key,
                    envelope);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(server_->Get("/api/v1/events/" + id2).status, 404);
}

}  // namespace
}  // namespace crashctl
