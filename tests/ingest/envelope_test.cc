#include "ingest/envelope.h"

#include <gtest/gtest.h>

#include <string>

#include "testdata.h"

namespace crashctl {
namespace ingest {
namespace {

// The envelopes in testdata (ReadTestdata) were captured byte for byte from
// @sentry/node 10.78 (a transport that writes the request body to a file;
// only the script path was rewritten).

Envelope MustParse(std::string_view body, size_t max_items = 1000) {
  Envelope env;
  std::string error;
  EXPECT_TRUE(ParseEnvelope(body, &env, &error, max_items)) << error;
  return env;
}

std::string ParseError(std::string_view body, size_t max_items = 1000) {
  Envelope env;
  std::string error;
  EXPECT_FALSE(ParseEnvelope(body, &env, &error, max_items))
      << "accepted: " << body;
  EXPECT_FALSE(error.empty());
  return error;
}

constexpr char kNodeHeader[] =
    R"({"event_id":"9ec79c33ec9942ab8353589fcb2e04dc",)"
    R"("sent_at":"2026-11-22T22:46:28.987Z",)"
    R"("sdk":{"name":"sentry.javascript.node","version":"10.78.0"},)"
    R"("trace":{"environment":"production","public_key":)"
    R"("0123456789abcdef0123456789abcdef",)"
    R"("trace_id":"1565cdaa3b9c4629941270f655568f57"}})";
constexpr char kEventPayload[] =
    R"({"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","level":"error",)"
    R"("platform":"node","message":"boom"})";

TEST(EnvelopeTest, RealNodeExceptionWithoutLengthOrTrailingNewline) {
  const std::string body = ReadTestdata("node_exception.envelope");
  ASSERT_NE(body.back(), '\n');  // @sentry/node sends no final newline
  Envelope env = MustParse(body);
  EXPECT_EQ(env.event_id, "7290a2e0667c4c62a833a613e965c38a");
  EXPECT_EQ(env.dsn, "");
  EXPECT_EQ(env.header_json, body.substr(0, body.find('\n')));
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].type, "event");
  EXPECT_EQ(env.items[0].header_json, R"({"type":"event"})");
  EXPECT_EQ(env.items[0].payload.substr(0, 14), R"({"exception":{)");
  EXPECT_EQ(env.items[0].payload.back(), '}');
  // The payload is the rest of the body after the two header lines.
  const size_t second_nl = body.find('\n', body.find('\n') + 1);
  EXPECT_EQ(env.items[0].payload, body.substr(second_nl + 1));
}

TEST(EnvelopeTest, RealNodeMessage) {
  Envelope env = MustParse(ReadTestdata("node_message.envelope"));
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].type, "event");
  EXPECT_NE(env.items[0].payload.find(R"("message":"hello world")"),
            std::string::npos);
}

TEST(EnvelopeTest, RealNodeSessionHasNoEventId) {
  Envelope env = MustParse(ReadTestdata("node_session.envelope"));
  EXPECT_EQ(env.event_id, "");
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].type, "session");
  EXPECT_EQ(env.items[0].payload.substr(0, 7), R"({"sid":)");
}

TEST(EnvelopeTest, RealNodeEventWithBinaryAttachments) {
  Envelope env = MustParse(ReadTestdata("node_event_attachments.envelope"));
  ASSERT_EQ(env.items.size(), 3u);
  EXPECT_EQ(env.items[0].type, "event");
  EXPECT_NE(env.items[0].payload.find(R"("tags":{"service":"checkout"})"),
            std::string::npos);
  EXPECT_EQ(env.items[1].type, "attachment");
  // Binary bytes including NUL, '\n', '\r' and 0xff, delimited by length.
  EXPECT_EQ(env.items[1].payload, std::string("\0\1\2\n\r\xff\n\0", 8));
  EXPECT_NE(env.items[1].header_json.find(R"("filename":"core.bin")"),
            std::string::npos);
  EXPECT_EQ(env.items[2].type, "attachment");
  // The last payload ends the body, itself ending in '\n'.
  EXPECT_EQ(env.items[2].payload, "line1\nline2\n");
}

TEST(EnvelopeTest, TrailingNewlineAndEmptyFinalLinesAreTolerated) {
  const std::string base = std::string(kNodeHeader) + "\n" +
                           R"({"type":"event"})" + "\n" + kEventPayload;
  for (const char* suffix : {"", "\n", "\n\n", "\r\n", "\n\n\n"}) {
    Envelope env = MustParse(base + suffix);
    ASSERT_EQ(env.items.size(), 1u)
        << "suffix size " << std::string(suffix).size();
    EXPECT_EQ(env.items[0].payload.substr(0, sizeof(kEventPayload) - 1),
              kEventPayload);
  }
}

TEST(EnvelopeTest, EventItemWithLength) {
  const std::string payload = kEventPayload;
  const std::string body =
      std::string(kNodeHeader) + "\n" + R"({"type":"event","length":)" +
      std::to_string(payload.size()) + "}\n" + payload + "\n";
  Envelope env = MustParse(body);
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].payload, payload);
  EXPECT_EQ(env.event_id, "9ec79c33ec9942ab8353589fcb2e04dc");
}

TEST(EnvelopeTest, LengthPayloadMayContainNewlines) {
  const std::string payload = "{\n\"message\": \"multi\nline\"\n}";
  const std::string body = std::string("{}\n{\"type\":\"event\",\"length\":") +
                           std::to_string(payload.size()) + "}\n" + payload;
  Envelope env = MustParse(body);
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].payload, payload);
}

TEST(EnvelopeTest, SeveralItemsOfMixedKinds) {
  // The shape @sentry/node and sentry-python produce when they batch:
  // event, client_report, session, an unknown future item type, attachment.
  const std::string attachment("PNG\0\n\x89", 6);
  const std::string body =
      std::string(R"({"event_id":"9ec79c33ec9942ab8353589fcb2e04dc",)") +
      R"("dsn":"http://0123456789abcdef0123456789abcdef@127.0.0.1:9190/7",)" +
      R"("sent_at":"2026-11-22T22:46:28.987Z"})" + "\n" +
      R"({"type":"event","length":)" +
      std::to_string(sizeof(kEventPayload) - 1) + "}\n" + kEventPayload + "\n" +
      R"({"type":"client_report"})" + "\n" +
      R"({"timestamp":1795387588.9,"discarded_events":)" +
      R"([{"reason":"queue_overflow","category":"error","quantity":3}]})" +
      "\n" + R"({"type":"session"})" + "\n" +
      R"({"sid":"7efcb2b096244cccb699e55e0b00098f","init":true,)" +
      R"("status":"ok","errors":0,"attrs":{"release":"app@1.2.3"}})" + "\n" +
      R"({"type":"profile_chunk_v9"})" + "\n" + R"({"anything":[1,2,3]})" +
      "\n" + R"({"type":"attachment","length":6,"filename":"a.png",)" +
      R"("attachment_type":"event.attachment"})" + "\n" + attachment + "\n";
  Envelope env = MustParse(body);
  EXPECT_EQ(env.dsn,
            "http://0123456789abcdef0123456789abcdef@127.0.0.1:9190/7");
  ASSERT_EQ(env.items.size(), 5u);
  EXPECT_EQ(env.items[0].type, "event");
  EXPECT_EQ(env.items[0].payload, kEventPayload);
  EXPECT_EQ(env.items[1].type, "client_report");
  EXPECT_NE(env.items[1].payload.find("queue_overflow"), std::string::npos);
  EXPECT_EQ(env.items[2].type, "session");
  EXPECT_EQ(env.items[3].type, "profile_chunk_v9");
  EXPECT_EQ(env.items[3].payload, R"({"anything":[1,2,3]})");
  EXPECT_EQ(env.items[4].type, "attachment");
  EXPECT_EQ(env.items[4].payload, attachment);
}

TEST(EnvelopeTest, HeaderOnlyEnvelopesHaveNoItems) {
  EXPECT_TRUE(MustParse("{}").items.empty());
  EXPECT_TRUE(MustParse("{}\n").items.empty());
  EXPECT_TRUE(MustParse(std::string(kNodeHeader) + "\n").items.empty());
}

TEST(EnvelopeTest, EmptyPayloads) {
  // Without length: the header ends the body, or an empty line follows.
  Envelope a = MustParse("{}\n{\"type\":\"attachment\"}");
  ASSERT_EQ(a.items.size(), 1u);
  EXPECT_EQ(a.items[0].payload, "");
  Envelope b =
      MustParse("{}\n{\"type\":\"attachment\"}\n\n{\"type\":\"x\"}\n1");
  ASSERT_EQ(b.items.size(), 2u);
  EXPECT_EQ(b.items[0].payload, "");
  EXPECT_EQ(b.items[1].payload, "1");
  // With length 0 (the spec's own example): an empty line is the payload.
  Envelope c =
      MustParse("{}\n{\"type\":\"a\",\"length\":0}\n\n{\"type\":\"b\"}");
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0].payload, "");
  EXPECT_EQ(c.items[1].type, "b");
  EXPECT_EQ(MustParse("{}\n{\"type\":\"a\",\"length\":0}").items.size(), 1u);
  EXPECT_EQ(MustParse("{}\n{\"type\":\"a\",\"length\":0}\n").items.size(), 1u);
  // The payload of length 0 must still be followed by '\n'.
  ParseError("{}\n{\"type\":\"a\",\"length\":0}\n{\"type\":\"b\"}");
}

TEST(EnvelopeTest, NullLengthMeansNoLength) {
  Envelope env = MustParse("{}\n{\"type\":\"event\",\"length\":null}\n{}\n");
  ASSERT_EQ(env.items.size(), 1u);
  EXPECT_EQ(env.items[0].payload, "{}");
}

TEST(EnvelopeTest, NonStringHeaderFieldsAreIgnored) {
  Envelope env = MustParse("{\"event_id\":12,\"dsn\":null}\n");
  EXPECT_EQ(env.event_id, "");
  EXPECT_EQ(env.dsn, "");
}

TEST(EnvelopeTest, MaxItemsIsEnforced) {
  std::string body = "{}\n";
  for (int i = 0; i < 3; ++i) body += "{\"type\":\"session\"}\n{}\n";
  EXPECT_EQ(MustParse(body, 3).items.size(), 3u);
  EXPECT_NE(ParseError(body, 2).find("more than 2 items"), std::string::npos);
}

TEST(EnvelopeTest, Errors) {
  EXPECT_NE(ParseError("").find("empty"), std::string::npos);
  EXPECT_NE(ParseError("\n{\"type\":\"event\"}\n{}").find("envelope header"),
            std::string::npos);
  EXPECT_NE(ParseError("not json\n{\"type\":\"event\"}\n{}").find("header"),
            std::string::npos);
  EXPECT_NE(ParseError("[1,2]\n").find("not a JSON object"), std::string::npos);
  EXPECT_NE(ParseError("{\"a\":1} trailing\n").find("not valid JSON"),
            std::string::npos);
  // Item headers.
  EXPECT_NE(ParseError("{}\nnot json\n{}").find("item 0 header"),
            std::string::npos);
  EXPECT_NE(ParseError("{}\n[\"event\"]\n{}").find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(ParseError("{}\n{\"length\":2}\n{}").find("type"),
            std::string::npos);
  EXPECT_NE(ParseError("{}\n{\"type\":7}\n{}").find("type"), std::string::npos);
  EXPECT_NE(ParseError("{}\n{\"type\":\"\"}\n{}").find("type"),
            std::string::npos);
  // The second item is the broken one, and the message says so.
  EXPECT_NE(ParseError("{}\n{\"type\":\"a\"}\n{}\n{\"typo\":\"b\"}\n{}")
                .find("item 1"),
            std::string::npos);
}

TEST(EnvelopeTest, LengthErrors) {
  // Length beyond the end of input (a truncated upload).
  EXPECT_NE(ParseError("{}\n{\"type\":\"event\",\"length\":100}\n{}")
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(
      ParseError("{}\n{\"type\":\"event\",\"length\":5}").find("truncated"),
      std::string::npos);
  // Off by one: the payload is shorter than declared.
  EXPECT_NE(
      ParseError("{}\n{\"type\":\"event\",\"length\":3}\n{}").find("truncated"),
      std::string::npos);
  // Off by one the other way: a byte other than '\n' follows the payload.
  EXPECT_NE(
      ParseError("{}\n{\"type\":\"event\",\"length\":1}\n{}\n").find("newline"),
      std::string::npos);
  // Not a non-negative integer.
  for (const char* len : {"-1", "1.5", "\"2\"", "true", "{}", "1e3"}) {
    std::string body =
        std::string("{}\n{\"type\":\"event\",\"length\":") + len + "}\n{}";
    EXPECT_NE(ParseError(body).find("length"), std::string::npos) << len;
  }
  // Huge lengths do not overflow offsets.
  EXPECT_NE(ParseError("{}\n{\"type\":\"a\",\"length\":18446744073709551615}"
                       "\nxx")
                .find("truncated"),
            std::string::npos);
}

TEST(EnvelopeTest, InvalidUtf8InHeaderIsAnError) {
  ParseError("{\"event_id\":\"\xff\xfe\"}\n");
}

TEST(EnvelopeTest, ParseResetsOutput) {
  Envelope env;
  std::string error;
  ASSERT_TRUE(ParseEnvelope("{}\n{\"type\":\"a\"}\nx", &env, &error));
  ASSERT_TRUE(ParseEnvelope("{}", &env, &error));
  EXPECT_TRUE(env.items.empty());
}

}  // namespace
}  // namespace ingest
}  // namespace crashctl
