// `crashctl migrate` (docs/scaling.md "Moving over") on a database the
// current release wrote: `serve` on SQLite takes events over the Sentry
// store endpoint, a group is resolved over REST, a cron monitor checks in,
// a pod crash, a transaction, an attachment of several chunks and a user
// report are stored through the Store; then the copy into a private
// PostgreSQL server (tests/testing/postgres_server.h) is checked, resumed
// after a simulated interruption, and `serve` on PostgreSQL answers with
// the same groups, monitor, attachment bytes and report and accepts events and
// check-ins with the old DSN key. Skips without PostgreSQL.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crashctl/model/records.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/util/time.h"
#include "tests/testing/events.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::CommandResult;
using testing::CrashctlBinary;
using testing::EventJson;
using testing::HttpCall;
using testing::HttpResult;
using testing::RunCommand;
using testing::ServerProcess;

std::string Id(char c) { return std::string(32, c); }

// 2.5 MiB of every byte value: three chunks of the copy.
std::string AttachmentBytes() {
  std::string data((5 << 20) / 2, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 31) ^ (i >> 11));
  }
  return data;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MigrateTest, CopiesResumesAndServesFromPostgres) {
  std::string why;
  if (!testing::PostgresServer::Available(&why)) GTEST_SKIP() << why;
  std::unique_ptr<testing::PostgresServer> pg =
      testing::PostgresServer::Create(&why);
  ASSERT_NE(pg, nullptr) << why;
  const std::string dsn = pg->ConnectionString();
  testing::TempDir data("migrate");

  // The source, written by `serve` on SQLite.
  ServerProcess::Options options;
  options.data_dir = data.path();
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &why);
  ASSERT_TRUE(server) << why;
  const ServerProcess::ProjectInfo project = server->CreateProject("shop");
  ASSERT_FALSE(project.key.empty());
  for (char c : {'a', 'b', 'c'}) {
    ASSERT_EQ(
        server->Post(project.StorePath(), EventJson(Id(c), "KeyError", "'sku'"))
            .status,
        200);
  }
  for (char c : {'d', 'e'}) {
    ASSERT_EQ(
        server->Post(project.StorePath(), EventJson(Id(c), "ValueError", "bad"))
            .status,
        200);
  }
  std::string value_error_id;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const std::string body = server->Get("/api/v1/groups?sort=count").body;
        const size_t at = body.find("\"id\":");
        if (!Contains(body, "\"count\":3") || !Contains(body, "\"count\":2")) {
          return false;
        }
        // Sorted by count: the second item is ValueError.
        const size_t second = body.find("\"id\":", at + 5);
        value_error_id =
            body.substr(second + 5, body.find(',', second) - second - 5);
        return true;
      },
      10));
  ASSERT_EQ(
      HttpCall("PATCH", server->base_url() + "/api/v1/groups/" + value_error_id,
               R"({"status":"resolved"})")
          .status,
      200);
  // A cron monitor with one check-in (Relay's HTTP form).
  const std::string cron = "/api/" + std::to_string(project.id) +
                           "/cron/nightly/" + project.key + "/";
  ASSERT_EQ(server->Get(cron + "?status=ok").status, 202) << server->Log();
  // Refused while `serve` holds the database.
  CommandResult r = RunCommand(
      {CrashctlBinary(), "migrate", "--from", data.path(), "--to", dsn});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  server.reset();

  {
    std::string error;
    std::unique_ptr<store::Store> sqlite =
        store::OpenSqlite(data.path() + "/crashctl.db", &error);
    ASSERT_TRUE(sqlite) << error;
    model::Crash crash;
    crash.dedup_key = "shop/api-1/api/3";
    crash.namespace_ = "shop";
    crash.pod = "api-1";
    crash.container = "api";
    crash.crash_type = model::CrashType::kOomKilled;
    crash.reason = "OOMKilled";
    crash.exit_code = 137;
    crash.logs = "last line\n";
    int64_t crash_id = 0;
    bool inserted = false;
    ASSERT_TRUE(sqlite->UpsertCrash(crash, &crash_id, &inserted).ok());
    ASSERT_TRUE(
        sqlite->LinkCrashGroup(crash_id, std::stoll(value_error_id)).ok());
    // A transaction with spans (stored as serve stores them).
    model::StoredTransaction tx;
    tx.project_id = project.id;
    tx.received = 1000.5;
    tx.transaction.event_id = Id('t');
    tx.transaction.trace_id = Id('7');
    tx.transaction.span_id = std::string(16, '1');
    tx.transaction.name = "GET /cart";
    tx.transaction.op = "http.server";
    tx.transaction.status = "ok";
    tx.transaction.start = 999;
    tx.transaction.end = 1000;
    tracing::Span span;
    span.span_id = std::string(16, '2');
    span.parent_span_id = tx.transaction.span_id;
    span.op = "db.query";
    span.description = "SELECT cart";
    span.start = 999.25;
    span.end = 999.5;
    tx.transaction.spans.push_back(span);
    std::vector<bool> stored;
    ASSERT_TRUE(sqlite->WriteTransactions({tx}, &stored).ok());
    ASSERT_EQ(stored, std::vector<bool>{true});
    // An attachment of three chunks (binary) and a user report, on event a.
    model::Attachment attachment;
    attachment.id = Id('9');
    attachment.project_id = project.id;
    attachment.event_id = Id('a');
    attachment.filename = "core.dmp";
    attachment.content_type = "application/octet-stream";
    attachment.attachment_type = "event.minidump";
    attachment.received = 1000;
    attachment.data = AttachmentBytes();
    attachment.size = static_cast<int64_t>(attachment.data.size());
    ASSERT_TRUE(sqlite->WriteAttachments({attachment}).ok());
    model::Feedback feedback;
    feedback.project_id = project.id;
    feedback.kind = "user_report";
    feedback.feedback_id = Id('8');
    feedback.event_id = Id('a');
    feedback.name = "Ann";
    feedback.comments = "it broke";
    feedback.timestamp = feedback.received = 1000;
    ASSERT_TRUE(sqlite->WriteFeedback({feedback}).ok());
    // Release health: an exited session and one still open, of shop@1.0.
    store::SessionWrite sessions;
    sessions.project_id = project.id;
    sessions.now = util::NowSeconds();
    for (char sid : {'5', '6'}) {
      releases::SessionUpdate update;
      update.sid = Id(sid);
      update.init = true;
      update.started = sessions.now - 60;
      update.timestamp = sessions.now;
      update.status = sid == '5' ? releases::SessionStatus::kExited
                                 : releases::SessionStatus::kOk;
      update.attrs.release = "shop@1.0";
      update.attrs.environment = "production";
      sessions.updates.push_back(update);
    }
    std::vector<releases::SessionCount> counted;
    ASSERT_TRUE(sqlite->WriteSessions(sessions, &counted).ok());
    ASSERT_EQ(counted.size(), 1u);
  }

  r = RunCommand({CrashctlBinary(), "migrate", "--from", data.path(), "--to",
                  dsn, "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "events: 5 rows (copied now 5)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "groups: 2 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "crash_groups: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "transactions: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "monitors: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "monitor_checkins: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "attachments: 1 rows (copied now 1)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "feedback: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "session_records: 2 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "session_open_count: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "releases: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "release_sessions: 1 rows")) << r.out;
  EXPECT_TRUE(Contains(r.out, "sum of group counts (5)")) << r.out;

  // An interruption after the second batch of events: the rest is copied
  // by the next run, nothing twice.
  ASSERT_TRUE(pg->Exec("DELETE FROM attachments", &why)) << why;
  ASSERT_TRUE(pg->Exec("DELETE FROM events WHERE id > 2", &why)) << why;
  r = RunCommand({CrashctlBinary(), "migrate", "--from", data.path(), "--to",
                  dsn, "--batch", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "(resumed)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "events: 5 rows (copied now 3)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "attachments: 1 rows (copied now 1)")) << r.out;

  // `serve` on PostgreSQL: the same groups, statuses and links; the old
  // key works and new events get new ids.
  options.env = {{"CRASHCTL_STORAGE_DRIVER", "postgres"},
                 {"CRASHCTL_STORAGE_POSTGRES_DSN", dsn}};
  server = ServerProcess::Start(options, &why);
  ASSERT_TRUE(server) << why;
  HttpResult groups = server->Get("/api/v1/groups?sort=count");
  ASSERT_EQ(groups.status, 200) << groups.body;
  EXPECT_TRUE(Contains(groups.body, "\"count\":3")) << groups.body;
  EXPECT_TRUE(Contains(groups.body, "\"status\":\"resolved\"")) << groups.body;
  HttpResult crashes = server->Get("/api/v1/crashes");
  ASSERT_EQ(crashes.status, 200) << crashes.body;
  EXPECT_TRUE(
      Contains(crashes.body, "\"linked_groups\":[" + value_error_id + "]"))
      << crashes.body;
  HttpResult trace = server->Get("/api/v1/traces/" + Id('7'));
  ASSERT_EQ(trace.status, 200) << trace.body;
  EXPECT_TRUE(Contains(trace.body, "GET /cart")) << trace.body;
  EXPECT_TRUE(Contains(trace.body, "SELECT cart")) << trace.body;
  // The attachment's bytes, and the report on its event.
  HttpResult bytes =
      server->Get("/api/v1/events/" + Id('a') + "/attachments/" + Id('9'));
  ASSERT_EQ(bytes.status, 200) << bytes.body;
  EXPECT_TRUE(bytes.body == AttachmentBytes()) << bytes.body.size();
  HttpResult event = server->Get("/api/v1/events/" + Id('a'));
  ASSERT_EQ(event.status, 200) << event.body;
  EXPECT_TRUE(Contains(event.body, "\"comments\":\"it broke\"")) << event.body;
  // The open session goes on: its end is counted on the copied release.
  const std::string envelope =
      "{}\n{\"type\":\"session\"}\n{\"sid\":\"" + Id('6') +
      "\",\"status\":\"exited\",\"started\":\"" +
      util::FormatRfc3339Millis(util::NowSeconds() - 60) +
      "\",\"attrs\":{\"release\":\"shop@1.0\",\"environment\":"
      "\"production\"}}\n";
  ASSERT_EQ(server
                ->Post("/api/" + std::to_string(project.id) +
                           "/envelope/?sentry_key=" + project.key,
                       envelope)
                .status,
            200);
  HttpResult listed;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        listed = server->Get("/api/v1/releases");
        return Contains(listed.body, "\"exited\":2");
      },
      10))
      << listed.body;
  // The monitor and its check-in; the next check-in goes on counting.
  ASSERT_EQ(server->Get(cron + "?status=ok").status, 202) << server->Log();
  HttpResult monitors = server->Get("/api/v1/monitors");
  ASSERT_EQ(monitors.status, 200) << monitors.body;
  EXPECT_TRUE(Contains(monitors.body, "\"slug\":\"nightly\"")) << monitors.body;
  EXPECT_TRUE(Contains(monitors.body, "\"checkins_total\":2")) << monitors.body;
  ASSERT_EQ(
      server->Post(project.StorePath(), EventJson(Id('f'), "KeyError", "'sku'"))
          .status,
      200)
      << server->Log();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Contains(server->Get("/api/v1/groups?sort=count").body,
                        "\"count\":4");
      },
      10))
      << server->Get("/api/v1/groups").body;
  server.reset();

  // The target has moved on: a new migrate would lose that event.
  r = RunCommand(
      {CrashctlBinary(), "migrate", "--from", data.path(), "--to", dsn});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "beyond the source")) << r.err;
}

TEST(MigrateTest, RefusesATargetWithOtherData) {
  std::string why;
  if (!testing::PostgresServer::Available(&why)) GTEST_SKIP() << why;
  testing::PostgresServer* pg = testing::SharedPostgresServer(&why);
  ASSERT_NE(pg, nullptr) << why;
  testing::TempDir data("migrate-refused");
  ServerProcess::Options options;
  options.data_dir = data.path();
  options.env = {{"CRASHCTL_STORAGE_DRIVER", "postgres"},
                 {"CRASHCTL_STORAGE_POSTGRES_DSN", pg->ConnectionString()}};
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &why);
  ASSERT_TRUE(server) << why;
  // Over REST (ServerProcess::CreateProject runs `crashctl project` on the
  // data directory's SQLite database).
  ASSERT_EQ(server
                ->Post("/api/v1/projects", R"({"name":"other"})",
                       {"Content-Type: application/json"})
                .status,
            201);
  server.reset();
  // A SQLite source to copy.
  {
    std::unique_ptr<store::Store> sqlite =
        store::OpenSqlite(data.path() + "/crashctl.db", &why);
    ASSERT_TRUE(sqlite) << why;
  }
  CommandResult r = RunCommand({CrashctlBinary(), "migrate", "--from",
                                data.path(), "--to", pg->ConnectionString()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "did not write")) << r.err;
  r = RunCommand({CrashctlBinary(), "migrate", "--from", data.path() + "/nope",
                  "--to", pg->ConnectionString()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "no SQLite database")) << r.err;
  r = RunCommand({CrashctlBinary(), "migrate", "--from", data.path()},
                 {{"CRASHCTL_STORAGE_POSTGRES_DSN", ""}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace crashctl
