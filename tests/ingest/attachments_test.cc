// Envelope attachments, user feedback and legacy /store/ bodies through the
// handlers, the real IngestPipeline and the real SQLite store: stored once
// the events committed, idempotent on a retried envelope, spooled beyond the
// threshold (and the spool file deleted), refused beyond
// ingest.max_attachment_bytes, deleted by retention with their events; the
// REST answers of them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/ingest/handlers.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/util/time.h"
#include "ingest/items.h"
#include "tests/store/backend_fixture.h"

namespace crashctl {
namespace ingest {
namespace {

using ::testing::HasSubstr;

double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size(), series) == 0 &&
        line.size() > series.size() && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
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

const char kEventId[] = "0123456789abcdef0123456789abcdef";
const char kOtherId[] = "fedcba9876543210fedcba9876543210";

std::string Event(const std::string& id, const std::string& extra = "") {
  return R"({"event_id":")" + id +
         R"(","message":"boom","level":"error","platform":"python")" + extra +
         "}";
}

struct Item {
  std::string header;  // without length
  std::string payload;
};

std::string EnvelopeOf(const std::string& header,
                       const std::vector<Item>& items) {
  std::string out = header + "\n";
  for (const Item& item : items) {
    std::string h = item.header;
    h.pop_back();  // '}'
    out += h + R"(,"length":)" + std::to_string(item.payload.size()) + "}\n" +
           item.payload + "\n";
  }
  return out;
}

class AttachmentsTest : public store::testing_util::BackendStoreTest {
 protected:
  void SetUp() override {
    BackendStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    IngestHandlers::Options options;
    options.max_attachment_bytes = 4096;
    options.spool_threshold = 64;  // the second attachment is spooled
    options.spool_dir = dir_.File("spool");
    Start(options);
  }
  void TearDown() override {
    if (pipeline_) pipeline_->Stop();
  }
  void Start(IngestHandlers::Options options) {
    pipeline_ = std::make_unique<IngestPipeline>(
        store_.get(), &metrics_, IngestPipeline::Options{100, 8});
    handlers_ = std::make_unique<IngestHandlers>(store_.get(), pipeline_.get(),
                                                 &metrics_, options);
    pipeline_->Start();
  }
  http::HttpRequest Request(const std::string& body,
                            const std::string& client = "") {
    http::HttpRequest r;
    r.method = "POST";
    r.body = body;
    r.headers["x-sentry-auth"] =
        "Sentry sentry_version=7, sentry_key=" + project_.public_key +
        (client.empty() ? "" : ", sentry_client=" + client);
    r.path_params["project_id"] = std::to_string(project_.id);
    return r;
  }
  http::HttpResponse Envelope(const std::string& body) {
    http::HttpRequest r = Request(body);
    return handlers_->HandleEnvelope(r);
  }
  http::HttpResponse Store(const std::string& body,
                           const std::string& client = "") {
    http::HttpRequest r = Request(body, client);
    return handlers_->HandleStore(r);
  }
  double Metric(const std::string& series) {
    return Sample(exporter_.Serialize(), series);
  }
  size_t SpoolFiles() {
    std::error_code ec;
    size_t n = 0;
    for (std::filesystem::directory_iterator it(dir_.File("spool"), ec), end;
         !ec && it != end; it.increment(ec)) {
      ++n;
    }
    return n;
  }

  exporter::Exporter exporter_{exporter::Exporter::Options{}};
  Metrics metrics_{exporter_.registry(), exporter_.services()};
  std::unique_ptr<IngestPipeline> pipeline_;
  std::unique_ptr<IngestHandlers> handlers_;
};

TEST_P(AttachmentsTest, StoredWithTheEventIdempotentAndSpooled) {
  const std::string small = "hello, attachment";
  std::string large(1500, '\0');
  for (size_t i = 0; i < large.size(); ++i) {
    large[i] = static_cast<char>(i * 7 + 3);  // binary, with NULs and '\n'
  }
  const std::string body = EnvelopeOf(
      R"({"event_id":")" + std::string(kEventId) + R"("})",
      {{R"({"type":"event"})", Event(kEventId)},
       {R"({"type":"attachment","filename":"../etc/log.txt","content_type":"text/plain"})",
        small},
       {R"({"type":"attachment","filename":"core.dmp","attachment_type":"event.minidump"})",
        large}});
  for (int attempt = 0; attempt < 2; ++attempt) {  // the retry stores nothing
    http::HttpResponse response = Envelope(body);
    ASSERT_EQ(response.status, 200) << response.body;
  }
  std::vector<model::Attachment> listed;
  ASSERT_TRUE(store_->ListAttachments(kEventId, &listed).ok());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].filename, "log.txt");  // never a path
  EXPECT_EQ(listed[0].content_type, "text/plain");
  EXPECT_EQ(listed[0].attachment_type, "event.attachment");
  EXPECT_EQ(listed[0].size, static_cast<int64_t>(small.size()));
  EXPECT_EQ(listed[1].filename, "core.dmp");
  EXPECT_EQ(listed[1].content_type, "application/octet-stream");
  EXPECT_EQ(listed[1].attachment_type, "event.minidump");
  EXPECT_TRUE(listed[0].data.empty());
  model::Attachment got;
  ASSERT_TRUE(store_->GetAttachment(kEventId, listed[0].id, &got).ok());
  EXPECT_EQ(got.data, small);
  ASSERT_TRUE(store_->GetAttachment(kEventId, listed[1].id, &got).ok());
  EXPECT_EQ(got.data, large);  // streamed from the spool file
  EXPECT_EQ(store_->GetAttachment(kOtherId, listed[1].id, &got).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(SpoolFiles(), 0u);  // deleted once written
  const std::string project = std::to_string(project_.id);
  // Counted per commit: the retry wrote nothing new but was accepted again.
  EXPECT_EQ(
      Metric("crashctl_attachments_stored_total{project=\"" + project + "\"}"),
      4);
  EXPECT_EQ(
      Metric("crashctl_attachment_bytes_total{project=\"" + project + "\"}"),
      2.0 * (small.size() + large.size()));
}

TEST_P(AttachmentsTest, OverTheLimitIsRefused413AndNothingStored) {
  const std::string body =
      EnvelopeOf(R"({"event_id":")" + std::string(kEventId) + R"("})",
                 {{R"({"type":"event"})", Event(kEventId)},
                  {R"({"type":"attachment","filename":"big.bin"})",
                   std::string(4097, 'x')}});
  http::HttpResponse response = Envelope(body);
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, HasSubstr("max_attachment_bytes"));
  EXPECT_EQ(Metric("crashctl_ingest_rejected_total{reason=\"too_large\"}"), 1);
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(kEventId, &event).code(), Status::Code::kNotFound);
  EXPECT_EQ(SpoolFiles(), 0u);
}

TEST_P(AttachmentsTest, InvalidAttachmentHeaderSkippedAndCounted) {
  const std::string body =
      EnvelopeOf("{}", {{R"({"type":"event"})", Event(kEventId)},
                        {R"({"type":"attachment","filename":7})", "x"}});
  EXPECT_EQ(Envelope(body).status, 200);
  EXPECT_EQ(
      Metric("crashctl_ingest_rejected_total{reason=\"invalid_attachment\"}"),
      1);
  std::vector<model::Attachment> listed;
  ASSERT_TRUE(store_->ListAttachments(kEventId, &listed).ok());
  EXPECT_TRUE(listed.empty());
}

TEST_P(AttachmentsTest, FeedbackOnEventAndGroupAlsoWhenSentFirst) {
  // A user report before its event: listed by event id, its group filled
  // in when the event comes.
  const std::string report =
      R"({"event_id":")" + std::string(kEventId) +
      R"(","name":"Ann","email":"ann@example.com","comments":"it broke"})";
  ASSERT_EQ(Envelope(EnvelopeOf("{}", {{R"({"type":"user_report"})", report}}))
                .status,
            200);
  std::vector<model::Feedback> feedback;
  ASSERT_TRUE(store_->ListEventFeedback(kEventId, 10, &feedback).ok());
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].group_id, 0);
  ASSERT_EQ(
      Envelope(EnvelopeOf("{}", {{R"({"type":"event"})", Event(kEventId)}}))
          .status,
      200);
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(kEventId, &event).ok());
  // The new-style feedback item, about the same event.
  const std::string item =
      R"({"event_id":")" + std::string(kOtherId) +
      R"(","timestamp":1700000000.5,"contexts":{"feedback":{"message":"again","contact_email":"bo@example.com","name":"Bo","url":"https://app/x","associated_event_id":")" +
      std::string(kEventId) + R"("}}})";
  ASSERT_EQ(Envelope(EnvelopeOf("{}", {{R"({"type":"feedback"})", item},
                                       {R"({"type":"feedback"})", "{}"},
                                       {R"({"type":"user_report"})", "[]"}}))
                .status,
            200);
  EXPECT_EQ(
      Metric("crashctl_ingest_rejected_total{reason=\"invalid_feedback\"}"), 2);
  ASSERT_TRUE(store_->ListEventFeedback(kEventId, 10, &feedback).ok());
  ASSERT_EQ(feedback.size(), 2u);
  for (const model::Feedback& f : feedback) {
    EXPECT_EQ(f.group_id, event.group_id) << f.kind;
  }
  std::vector<model::Feedback> of_group;
  ASSERT_TRUE(store_->ListGroupFeedback(event.group_id, 10, &of_group).ok());
  ASSERT_EQ(of_group.size(), 2u);
  const model::Feedback* fb =
      of_group[0].kind == "feedback" ? &of_group[0] : &of_group[1];
  EXPECT_EQ(fb->comments, "again");
  EXPECT_EQ(fb->email, "bo@example.com");
  EXPECT_EQ(fb->url, "https://app/x");
  EXPECT_DOUBLE_EQ(fb->timestamp, 1700000000.5);
  const std::string project = std::to_string(project_.id);
  EXPECT_EQ(Metric("crashctl_feedback_total{kind=\"user_report\",project=\"" +
                   project + "\"}"),
            1);
  EXPECT_EQ(Metric("crashctl_feedback_total{kind=\"feedback\",project=\"" +
                   project + "\"}"),
            1);
}

TEST_P(AttachmentsTest, RetentionDeletesThemWithTheirEvents) {
  const std::string body = EnvelopeOf(
      "{}",
      {{R"({"type":"event"})", Event(kEventId)},
       {R"({"type":"attachment","filename":"a.txt"})", "aaa"},
       {R"({"type":"user_report"})",
        R"({"event_id":")" + std::string(kEventId) + R"(","comments":"x"})"}});
  ASSERT_EQ(Envelope(body).status, 200);
  // A newer event: retention keeps the newest one whatever its age.
  ASSERT_EQ(
      Envelope(EnvelopeOf("{}", {{R"({"type":"event"})", Event(kOtherId)}}))
          .status,
      200);
  int64_t deleted = 0;
  if (postgres()) {
    // No size retention there: by age, both events (and the feedback of
    // neither stays).
    ASSERT_TRUE(
        store_->DeleteOlderThan(util::NowSeconds() + 60, &deleted).ok());
    EXPECT_GE(deleted, 2);
  } else {
    ASSERT_TRUE(store_->DeleteOldestEvents(1, &deleted).ok());
    EXPECT_EQ(deleted, 1);
  }
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(kEventId, &event).code(), Status::Code::kNotFound);
  std::vector<model::Attachment> listed;
  ASSERT_TRUE(store_->ListAttachments(kEventId, &listed).ok());
  EXPECT_TRUE(listed.empty());
  std::vector<model::Feedback> feedback;
  ASSERT_TRUE(store_->ListEventFeedback(kEventId, 10, &feedback).ok());
  EXPECT_TRUE(feedback.empty());
  // Orphans (no event ever) go by age.
  ASSERT_EQ(
      Envelope(EnvelopeOf(R"({"event_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
                          {{R"({"type":"attachment"})", "zz"}}))
          .status,
      200);
  ASSERT_TRUE(
      store_->ListAttachments("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &listed)
          .ok());
  EXPECT_EQ(listed.size(), 1u);
  ASSERT_TRUE(store_->DeleteOlderThan(1e12, &deleted).ok());
  ASSERT_TRUE(
      store_->ListAttachments("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &listed)
          .ok());
  EXPECT_TRUE(listed.empty());
}

TEST_P(AttachmentsTest, LegacyStoreBodies) {
  const std::string id1 = "11111111111111111111111111111111";
  const std::string id2 = "22222222222222222222222222222222";
  const std::string id3 = "33333333333333333333333333333333";
  // base64 of zlib-deflated JSON, as raven-python sends it; the SDK from
  // the sentry_client auth field.
  http::HttpResponse response =
      Store(Base64(Zlib(Event(id1))), "raven-python/6.10.0");
  ASSERT_EQ(response.status, 200) << response.body;
  model::StoredEvent event;
  ASSERT_TRUE(store_->GetEvent(id1, &event).ok());
  EXPECT_EQ(event.sdk_name, "raven-python");
  EXPECT_EQ(event.sdk_version, "6.10.0");
  // base64 of plain JSON with newlines in it; the event's own sdk wins.
  std::string encoded = Base64(
      Event(id2, R"(,"sdk":{"name":"sentry.python","version":"1.9.0"})"));
  encoded.insert(20, "\n");
  ASSERT_EQ(Store(encoded, "raven-python/6.10.0").status, 200);
  ASSERT_TRUE(store_->GetEvent(id2, &event).ok());
  EXPECT_EQ(event.sdk_name, "sentry.python");
  EXPECT_EQ(event.sdk_version, "1.9.0");
  // Plain JSON as before.
  ASSERT_EQ(Store("  " + Event(id3)).status, 200);
  ASSERT_TRUE(store_->GetEvent(id3, &event).ok());
  EXPECT_EQ(event.sdk_name, "");
  // Neither JSON nor base64: 400, counted.
  response = Store("not base64 at all!!");
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("base64"));
  // base64 of something that is not zlib either.
  EXPECT_EQ(Store(Base64("\x01\x02garbage")).status, 400);
  EXPECT_EQ(Metric("crashctl_ingest_rejected_total{reason=\"decompression\"}"),
            2);
}

TEST_P(AttachmentsTest, RestShowsAttachmentsAndFeedback) {
  const std::string body = EnvelopeOf(
      "{}",
      {{R"({"type":"event"})",
        Event(kEventId,
              R"(,"sdk":{"name":"sentry.python","version":"1.9.0"})")},
       {R"({"type":"attachment","filename":"r\u00e9sum\u00e9 \"1\".txt","content_type":"text/plain"})",
        "bytes!"},
       {R"({"type":"user_report"})",
        R"({"event_id":")" + std::string(kEventId) +
            R"(","name":"Ann","comments":"it broke"})"}});
  ASSERT_EQ(Envelope(body).status, 200);
  http::Router router;
  rest::RestOptions options;
  options.base_url = "http://crashctl.test";
  rest::RegisterRestRoutes(&router, store_.get(), options);
  auto get = [&](const std::string& path) {
    http::HttpRequest r;
    r.method = "GET";
    r.path = path;
    std::string pattern;
    return router.Dispatch(r, &pattern);
  };
  http::HttpResponse event = get(std::string("/api/v1/events/") + kEventId);
  ASSERT_EQ(event.status, 200) << event.body;
  EXPECT_THAT(event.body, HasSubstr(R"("attachments":1)"));
  EXPECT_THAT(event.body,
              HasSubstr(R"("sdk":{"name":"sentry.python","version":"1.9.0"})"));
  EXPECT_THAT(event.body, HasSubstr(R"("comments":"it broke")"));
  http::HttpResponse list =
      get(std::string("/api/v1/events/") + kEventId + "/attachments");
  ASSERT_EQ(list.status, 200) << list.body;
  std::vector<model::Attachment> listed;
  ASSERT_TRUE(store_->ListAttachments(kEventId, &listed).ok());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_THAT(list.body, HasSubstr("http://crashctl.test/api/v1/events/" +
                                   std::string(kEventId) + "/attachments/" +
                                   listed[0].id));
  http::HttpResponse bytes = get(std::string("/api/v1/events/") + kEventId +
                                 "/attachments/" + listed[0].id);
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, "bytes!");
  EXPECT_EQ(bytes.content_type, "text/plain");
  std::string disposition;
  for (const auto& h : bytes.headers) {
    if (h.first == "Content-Disposition") disposition = h.second;
  }
  EXPECT_EQ(disposition,
            "attachment; filename=\"r__sum__ _1_.txt\"; "
            "filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.txt");
  EXPECT_EQ(get(std::string("/api/v1/events/") + kEventId + "/attachments/" +
                std::string(32, 'e'))
                .status,
            404);
  EXPECT_EQ(
      get(std::string("/api/v1/events/") + kOtherId + "/attachments").status,
      404);
  model::StoredEvent stored;
  ASSERT_TRUE(store_->GetEvent(kEventId, &stored).ok());
  http::HttpResponse group =
      get("/api/v1/groups/" + std::to_string(stored.group_id));
  ASSERT_EQ(group.status, 200);
  EXPECT_THAT(group.body, HasSubstr(R"("feedback":[{)"));
  EXPECT_THAT(group.body, HasSubstr(R"("name":"Ann")"));
}

CRASHCTL_STORE_BACKENDS(AttachmentsTest);

TEST(LegacyBodyTest, DecodesAndBoundsIt) {
  std::string out;
  EXPECT_EQ(DecodeLegacyBody("{\"a\":1}", 100, &out), LegacyBody::kJson);
  EXPECT_EQ(DecodeLegacyBody(Base64(Zlib("{\"a\":1}")), 100, &out),
            LegacyBody::kDecoded);
  EXPECT_EQ(out, "{\"a\":1}");
  EXPECT_EQ(DecodeLegacyBody(Zlib("{\"b\":2}"), 100, &out),
            LegacyBody::kDecoded);  // zlib without base64
  EXPECT_EQ(out, "{\"b\":2}");
  const std::string bomb = "{\"x\":\"" + std::string(100000, 'a') + "\"}";
  EXPECT_EQ(DecodeLegacyBody(Base64(Zlib(bomb)), 1000, &out),
            LegacyBody::kTooLarge);
  EXPECT_EQ(DecodeLegacyBody("ab!!cd", 100, &out), LegacyBody::kCorrupt);
  // Not base64-looking: left to the JSON parser (malformed_json).
  EXPECT_EQ(DecodeLegacyBody("%%%%", 100, &out), LegacyBody::kJson);
  EXPECT_EQ(DecodeLegacyBody(" [1]", 100, &out), LegacyBody::kJson);
  EXPECT_EQ(DecodeLegacyBody(Base64(Zlib(bomb)).substr(0, 40), 1000000, &out),
            LegacyBody::kCorrupt);  // truncated zlib stream
}

TEST(FeedbackParseTest, ShapesAndBounds) {
  model::Feedback f;
  EXPECT_TRUE(
      ParseUserReport(
          R"({"event_id":"01234567-89ab-cdef-0123-456789ABCDEF","name":"a"})",
          5, &f)
          .ok());
  EXPECT_EQ(f.event_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(f.kind, "user_report");
  EXPECT_FALSE(ParseUserReport(R"({"event_id":"nope"})", 5, &f).ok());
  EXPECT_FALSE(
      ParseUserReport(
          R"({"event_id":")" + std::string(kEventId) + R"(","name":3})", 5, &f)
          .ok());
  EXPECT_FALSE(ParseFeedbackItem(R"({"event_id":")" + std::string(kEventId) +
                                     R"(","contexts":{"feedback":{}}})",
                                 5, &f)
                   .ok());  // no message
  EXPECT_TRUE(
      ParseFeedbackItem(R"({"event_id":")" + std::string(kEventId) +
                            R"(","contexts":{"feedback":{"message":"m"}}})",
                        5, &f)
          .ok());
  EXPECT_EQ(f.event_id, "");  // not about an event
  EXPECT_DOUBLE_EQ(f.timestamp, 5);
  model::Attachment a;
  EXPECT_TRUE(ParseAttachmentHeader(R"({"type":"attachment"})", &a).ok());
  EXPECT_EQ(a.filename, "attachment");
  EXPECT_FALSE(ParseAttachmentHeader(
                   R"({"type":"attachment","content_type":"a\"b"})", &a)
                   .ok());
  EXPECT_FALSE(
      ParseAttachmentHeader(R"({"type":"attachment","filename":"a\nb"})", &a)
          .ok());
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
