// Connection against a real PostgreSQL server: connecting, parameter and
// result round trips, transactions, batched writes, and the mapping of each
// error class a server produces.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/store/pg/connection.h"
#include "crashctl/store/pg/errors.h"
#include "tests/store/postgres/postgres_test_util.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Code = Status::Code;
using testutil::PgTest;

class PgConnectionTest : public PgTest {};

TEST_F(PgConnectionTest, ConnectsAndDisconnects) {
  EXPECT_FALSE(conn_->broken());
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_GT(conn_->backend_pid(), 0);
  EXPECT_EQ(conn_->description(),
            "127.0.0.1:" + std::to_string(server_->port()) + "/" + db_);
  Result r;
  PG_ASSERT_OK(
      conn_->Exec("SELECT current_setting('application_name'), "
                  "current_setting('statement_timeout'), "
                  "current_setting('lock_timeout'), "
                  "current_setting('idle_in_transaction_session_timeout'), "
                  "current_setting('client_encoding')",
                  &r));
  EXPECT_EQ(r.Text(0, 0), "crashctl-test");
  EXPECT_EQ(r.Text(0, 1), "20s");
  EXPECT_EQ(r.Text(0, 2), "10s");
  EXPECT_EQ(r.Text(0, 3), "1min");
  EXPECT_EQ(r.Text(0, 4), "UTF8");
  const int pid = conn_->backend_pid();
  conn_.reset();  // PQfinish: the backend goes away
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    PG_ASSERT_OK(
        admin->Exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                    Params().Int(pid), &r));
    gone = r.IntOr(0, 0, -1) == 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST_F(PgConnectionTest, ConnectionStringKeywordsWinExceptServerTimeouts) {
  ConnectOptions options = options_;
  options.conninfo += " application_name=from-dsn options='-c work_mem=8MB'";
  std::unique_ptr<Connection> conn;
  PG_ASSERT_OK(Connection::Open(options, &conn));
  Result r;
  PG_ASSERT_OK(conn->Exec(
      "SELECT current_setting('application_name'), "
      "current_setting('work_mem'), current_setting('statement_timeout')",
      &r));
  EXPECT_EQ(r.Text(0, 0), "from-dsn");
  EXPECT_EQ(r.Text(0, 1), "8MB");
  EXPECT_EQ(r.Text(0, 2), "20s");
  // URIs work too.
  options.conninfo = "postgresql://" + server_->user() + "@" + server_->host() +
                     ":" + std::to_string(server_->port()) + "/" + db_ +
                     "?sslmode=disable";
  PG_ASSERT_OK(Connection::Open(options, &conn));
  PG_EXPECT_OK(conn->Ping(2000));
}

TEST_F(PgConnectionTest, ConnectFailures) {
  std::unique_ptr<Connection> conn;
  ConnectOptions bad = options_;
  bad.conninfo = "host=127.0.0.1 port=notaport =";
  EXPECT_EQ(Connection::Open(bad, &conn).code(), Code::kInvalid);

  // Nothing listens on this port (the server's own port, + the
  // range's end); refused at once.
  bad.conninfo = "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable";
  auto began = std::chrono::steady_clock::now();
  Status refused = Connection::Open(bad, &conn);
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.ToString();
  EXPECT_EQ(conn, nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));

  // A database that does not exist: retrying will not help.
  bad = testutil::OptionsFor(*server_, "no_such_database");
  Status missing = Connection::Open(bad, &conn);
  EXPECT_EQ(missing.code(), Code::kInternal) << missing.ToString();
  EXPECT_EQ(SqlStateOf(missing), "3D000") << missing.ToString();
}

TEST_F(PgConnectionTest, TooManyConnectionsIsUnavailable) {
  std::string role = testutil::UniqueName("limited");
  PG_ASSERT_OK(
      conn_->ExecScript("CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 1"));
  ConnectOptions options = options_;
  options.conninfo += " user=" + role;
  std::unique_ptr<Connection> first;
  PG_ASSERT_OK(Connection::Open(options, &first));
  std::unique_ptr<Connection> second;
  Status st = Connection::Open(options, &second);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "53300") << st.ToString();
  EXPECT_FALSE(IsRetryable(st));
}

TEST_F(PgConnectionTest, ParametersRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\0tail\0", 7);
  const std::string utf8 =
      "h\xC3\xA9llo \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC "
      "\xF0\x9F\x9A\x80 \\ ' \" \t\n";
  std::string large_text;
  for (int i = 0; large_text.size() < 8 * 1024 * 1024; ++i) {
    large_text += "line " + std::to_string(i) + " \xC3\xA9\n";
  }
  std::string large_bytes(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < large_bytes.size(); ++i) {
    large_bytes[i] = static_cast<char>((i * 7919) & 0xff);
  }
  Result r;
  PG_ASSERT_OK(conn_->Exec(
      "SELECT $1::int8, $2::int8, $3::float8, $4::float8, $5::float8, "
      "$6::float8, $7::float8, $8::text, $9::bytea, $10::text IS NULL, "
      "$11::bool, $12::bool, $13::text, $14::bytea, $15::bytea, $16::text",
      Params()
          .Int(std::numeric_limits<int64_t>::min())
          .Int(std::numeric_limits<int64_t>::max())
          .Double(0.1)
          .Double(-1.7976931348623157e308)
          .Double(std::nan(""))
          .Double(-std::numeric_limits<double>::infinity())
          .Double(4.9e-324)
          .Text(utf8)
          .Bytea(bytes)
          .Null()
          .Bool(true)
          .Bool(false)
          .Text(large_text)
          .Bytea(large_bytes)
          .Bytea("")
          .Text(""),
      &r));
  ASSERT_EQ(r.rows(), 1);
  ASSERT_EQ(r.columns(), 16);
  int64_t i = 0;
  PG_ASSERT_OK(r.Int(0, 0, &i));
  EXPECT_EQ(i, std::numeric_limits<int64_t>::min());
  PG_ASSERT_OK(r.Int(0, 1, &i));
  EXPECT_EQ(i, std::numeric_limits<int64_t>::max());
  double d = 0;
  PG_ASSERT_OK(r.Double(0, 2, &d));
  EXPECT_EQ(d, 0.1);  // exact: shortest round-trip text both ways
  PG_ASSERT_OK(r.Double(0, 3, &d));
  EXPECT_EQ(d, -1.7976931348623157e308);
  PG_ASSERT_OK(r.Double(0, 4, &d));
  EXPECT_TRUE(std::isnan(d)) << r.Text(0, 4);
  PG_ASSERT_OK(r.Double(0, 5, &d));
  EXPECT_EQ(d, -std::numeric_limits<double>::infinity()) << r.Text(0, 5);
  PG_ASSERT_OK(r.Double(0, 6, &d));
  EXPECT_EQ(d, 4.9e-324);
  EXPECT_EQ(r.Text(0, 7), utf8);
  std::string got;
  PG_ASSERT_OK(r.Bytea(0, 8, &got));
  EXPECT_EQ(got, bytes);
  bool b = false;
  PG_ASSERT_OK(r.Bool(0, 9, &b));
  EXPECT_TRUE(b);
  PG_ASSERT_OK(r.Bool(0, 10, &b));
  EXPECT_TRUE(b);
  PG_ASSERT_OK(r.Bool(0, 11, &b));
  EXPECT_FALSE(b);
  EXPECT_EQ(r.Text(0, 12).size(), large_text.size());
  EXPECT_TRUE(r.Text(0, 12) == large_text);
  PG_ASSERT_OK(r.Bytea(0, 13, &got));
  EXPECT_TRUE(got == large_bytes);
  PG_ASSERT_OK(r.Bytea(0, 14, &got));
  EXPECT_EQ(got, "");
  EXPECT_FALSE(r.IsNull(0, 15));
  EXPECT_EQ(r.Text(0, 15), "");
}

TEST_F(PgConnectionTest, StoredValuesRoundTripThroughATable) {
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE rt (id bigserial PRIMARY KEY, i bigint, d double "
      "precision, t text, b bytea)"));
  const std::string nul_bytes("a\0b\0\0c", 6);
  const std::string text = "\xE2\x9C\x93 caf\xC3\xA9 \xF0\x9F\x90\x9B";
  Result r;
  PG_ASSERT_OK(conn_->ExecPrepared(
      "INSERT INTO rt (i, d, t, b) VALUES ($1, $2, $3, $4) RETURNING id",
      Params().Int(-42).Double(1.5e-7).Text(text).Bytea(nul_bytes), &r));
  int64_t id = 0;
  PG_ASSERT_OK(r.Int(0, 0, &id));
  PG_ASSERT_OK(conn_->ExecPrepared(
      "INSERT INTO rt (i, d, t, b) VALUES ($1, $2, $3, $4) RETURNING id",
      Params().Null().Null().Null().Null(), &r));
  PG_ASSERT_OK(conn_->Exec("SELECT i, d, t, b FROM rt ORDER BY id", &r));
  ASSERT_EQ(r.rows(), 2);
  EXPECT_EQ(r.IntOr(0, 0, 0), -42);
  EXPECT_EQ(r.DoubleOr(0, 1, 0), 1.5e-7);
  EXPECT_EQ(r.Text(0, r.Column("t")), text);
  std::string got;
  PG_ASSERT_OK(r.Bytea(0, r.Column("b"), &got));
  EXPECT_EQ(got, nul_bytes);
  for (int c = 0; c < 4; ++c) EXPECT_TRUE(r.IsNull(1, c)) << c;
  EXPECT_EQ(r.Column("nope"), -1);
}

TEST_F(PgConnectionTest, TypedGettersRefuseWhatTheyCannotRead) {
  Result r;
  PG_ASSERT_OK(
      conn_->Exec("SELECT 'abc'::text, NULL::int8, 1.5::float8, "
                  "'9223372036854775808'::numeric",
                  &r));
  int64_t i = 7;
  EXPECT_TRUE(r.Int(0, 0, &i).IsInvalid());
  EXPECT_TRUE(r.Int(0, 1, &i).IsInvalid());  // NULL
  EXPECT_TRUE(r.Int(0, 2, &i).IsInvalid());  // 1.5
  EXPECT_TRUE(r.Int(0, 3, &i).IsInvalid());  // out of range
  EXPECT_TRUE(r.Int(1, 0, &i).IsInvalid());  // no such row
  EXPECT_TRUE(r.Int(0, 9, &i).IsInvalid());  // no such column
  EXPECT_EQ(i, 7);
  EXPECT_EQ(r.IntOr(0, 0, -1), -1);
  bool b = false;
  EXPECT_TRUE(r.Bool(0, 0, &b).IsInvalid());
  double d = 0;
  EXPECT_TRUE(r.Double(0, 0, &d).IsInvalid());
  EXPECT_TRUE(r.IsNull(5, 5));
  EXPECT_EQ(r.Text(5, 5), "");
}

TEST_F(PgConnectionTest, TextThatCannotBeSentIsInvalid) {
  Status nul =
      conn_->Exec("SELECT $1::text", Params().Text(std::string("a\0b", 3)));
  EXPECT_EQ(nul.code(), Code::kInvalid) << nul.ToString();
  EXPECT_NE(nul.message().find("NUL"), std::string::npos);
  Status bad_utf8 = conn_->Exec("SELECT $1::text", Params().Text("\xC3\x28"));
  EXPECT_EQ(bad_utf8.code(), Code::kInvalid) << bad_utf8.ToString();
  EXPECT_EQ(SqlStateOf(bad_utf8), "22021") << bad_utf8.ToString();
  EXPECT_FALSE(conn_->broken());
  PG_EXPECT_OK(conn_->Ping(2000));
}

TEST_F(PgConnectionTest, ServerErrorsMapByClass) {
  PG_ASSERT_OK(
      conn_->ExecScript("CREATE TABLE parent (id bigint PRIMARY KEY);"
                        "CREATE TABLE child (id bigint PRIMARY KEY, "
                        "  parent_id bigint NOT NULL REFERENCES parent(id), "
                        "  n int CHECK (n >= 0));"
                        "INSERT INTO parent VALUES (1);"
                        "INSERT INTO child VALUES (1, 1, 0)"));
  struct Case {
    const char* sql;
    Code code;
    const char* state;
  };
  const Case cases[] = {
      {"INSERT INTO child VALUES (1, 1, 0)", Code::kConflict, "23505"},
      {"INSERT INTO child VALUES (2, 99, 0)", Code::kInvalid, "23503"},
      {"INSERT INTO child VALUES (3, NULL, 0)", Code::kInvalid, "23502"},
      {"INSERT INTO child VALUES (4, 1, -1)", Code::kInvalid, "23514"},
      {"SELECT 1 / 0", Code::kInvalid, "22012"},
      {"SELECT 'x'::int", Code::kInvalid, "22P02"},
      {"SELEC 1", Code::kInternal, "42601"},
      {"SELECT * FROM no_such_table", Code::kInternal, "42P01"},
      {"SELECT no_such_column FROM child", Code::kInternal, "42703"},
      {"SELECT no_such_function()", Code::kInternal, "42883"},
  };
  for (const Case& c : cases) {
    Status st = conn_->Exec(c.sql);
    EXPECT_EQ(st.code(), c.code) << c.sql << ": " << st.ToString();
    EXPECT_EQ(SqlStateOf(st), c.state) << c.sql << ": " << st.ToString();
    EXPECT_FALSE(IsUnknownOutcome(st)) << st.ToString();
    EXPECT_FALSE(conn_->broken()) << c.sql;
  }
  // The unique violation names the key (DETAIL).
  Status dup = conn_->Exec("INSERT INTO child VALUES (1, 1, 0)");
  EXPECT_NE(dup.message().find("(id)=(1)"), std::string::npos) << dup.message();
}

TEST_F(PgConnectionTest, ReadOnlyTransactionIsUnavailable) {
  PG_ASSERT_OK(conn_->ExecScript("CREATE TABLE ro (x int)"));
  PG_ASSERT_OK(conn_->Begin("READ ONLY"));
  EXPECT_TRUE(conn_->in_transaction());
  Status st = conn_->Exec("INSERT INTO ro VALUES (1)");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "25006");
  EXPECT_FALSE(IsRetryable(st));
  EXPECT_FALSE(IsUnknownOutcome(st));
  EXPECT_TRUE(conn_->in_transaction());  // failed, waiting for ROLLBACK
  PG_EXPECT_OK(conn_->Rollback());
  EXPECT_FALSE(conn_->in_transaction());
  // Also as the session's default (what a standby after failover does).
  PG_ASSERT_OK(conn_->Exec("SET default_transaction_read_only = on"));
  st = conn_->Exec("INSERT INTO ro VALUES (1)");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "25006");
}

TEST_F(PgConnectionTest, TerminatedBackendBreaksTheConnection) {
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  Result r;
  PG_ASSERT_OK(admin->Exec("SELECT pg_terminate_backend($1::int, 5000)",
                           Params().Int(conn_->backend_pid()), &r));
  ASSERT_EQ(r.Text(0, 0), "t");
  Status st = conn_->Exec("SELECT 1");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  std::string state = SqlStateOf(st);
  EXPECT_TRUE(state.empty() || state == "57P01") << st.ToString();
  EXPECT_TRUE(conn_->broken());
  // Later calls fail at once, without touching the network.
  EXPECT_EQ(conn_->Exec("SELECT 1").code(), Code::kUnavailable);
  EXPECT_EQ(conn_->Commit().code(), Code::kUnavailable);
  PG_EXPECT_OK(conn_->Rollback());

  // Inside a transaction the loss means "rolled back", not "unknown".
  auto victim = Connect();
  ASSERT_NE(victim, nullptr);
  PG_ASSERT_OK(victim->ExecScript("CREATE TABLE tb (x int)"));
  PG_ASSERT_OK(victim->Begin());
  PG_ASSERT_OK(victim->Exec("INSERT INTO tb VALUES (1)"));
  PG_ASSERT_OK(admin->Exec("SELECT pg_terminate_backend($1::int, 5000)",
                           Params().Int(victim->backend_pid()), &r));
  st = victim->Exec("INSERT INTO tb VALUES (2)");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_FALSE(IsUnknownOutcome(st)) << st.ToString();
  Status commit = victim->Commit();
  EXPECT_EQ(commit.code(), Code::kUnavailable);
  EXPECT_FALSE(IsUnknownOutcome(commit)) << commit.ToString();
  PG_ASSERT_OK(admin->Exec("SELECT count(*) FROM tb", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 0);
}

TEST_F(PgConnectionTest, StatementTimeoutIsUnavailableAndKeepsTheConnection) {
  ConnectOptions options = options_;
  options.statement_timeout_ms = 200;
  std::unique_ptr<Connection> conn;
  PG_ASSERT_OK(Connection::Open(options, &conn));
  Status st = conn->Exec("SELECT pg_sleep(10)");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "57014") << st.ToString();
  EXPECT_FALSE(IsRetryable(st));
  EXPECT_FALSE(conn->broken());
  PG_EXPECT_OK(conn->Ping(2000));
}

TEST_F(PgConnectionTest, ClientDeadlineClosesTheConnection) {
  ConnectOptions options = options_;
  options.statement_timeout_ms = 0;  // the server would wait
  options.query_timeout_ms = 300;
  std::unique_ptr<Connection> conn;
  PG_ASSERT_OK(Connection::Open(options, &conn));
  EXPECT_EQ(conn->query_timeout_ms(), 300);
  auto began = std::chrono::steady_clock::now();
  Status st = conn->Exec("SELECT pg_sleep(3)");
  EXPECT_LT(std::chrono::steady_clock::now() - began,
            std::chrono::milliseconds(2500));
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("client-side deadline"), std::string::npos)
      << st.ToString();
  // Outside a transaction the statement may have run: unknown.
  EXPECT_TRUE(IsUnknownOutcome(st)) << st.ToString();
  EXPECT_TRUE(conn->broken());
}

TEST_F(PgConnectionTest, SerializationFailureIsRetryable) {
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE s (id int PRIMARY KEY, v int); INSERT INTO s VALUES (1, "
      "0)"));
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  PG_ASSERT_OK(conn_->Begin("ISOLATION LEVEL REPEATABLE READ"));
  PG_ASSERT_OK(conn_->Exec("SELECT v FROM s WHERE id = 1"));  // snapshot
  PG_ASSERT_OK(other->Exec("UPDATE s SET v = v + 1 WHERE id = 1"));
  Status st = conn_->Exec("UPDATE s SET v = v + 10 WHERE id = 1");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "40001");
  EXPECT_TRUE(IsRetryable(st)) << st.ToString();
  PG_EXPECT_OK(conn_->Rollback());
}

TEST_F(PgConnectionTest, RunTransactionRetriesASerializationFailure) {
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE s (id int PRIMARY KEY, v int); INSERT INTO s VALUES (1, "
      "0)"));
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  int attempts = 0;
  TransactionOptions options;
  options.begin_mode = "ISOLATION LEVEL REPEATABLE READ";
  Status st = RunTransaction(conn_.get(), options, [&](Connection* c) {
    ++attempts;
    Status s = c->Exec("SELECT v FROM s WHERE id = 1");
    if (!s.ok()) return s;
    if (attempts == 1) {
      // A concurrent writer gets in between, once.
      s = other->Exec("UPDATE s SET v = v + 1 WHERE id = 1");
      if (!s.ok()) return s;
    }
    return c->Exec("UPDATE s SET v = v + 10 WHERE id = 1");
  });
  PG_ASSERT_OK(st);
  EXPECT_EQ(attempts, 2);
  Result r;
  PG_ASSERT_OK(conn_->Exec("SELECT v FROM s WHERE id = 1", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 11);

  // A failure that is not retryable is returned at once, rolled back.
  attempts = 0;
  st = RunTransaction(conn_.get(), TransactionOptions(), [&](Connection* c) {
    ++attempts;
    Status s = c->Exec("UPDATE s SET v = 0 WHERE id = 1");
    if (!s.ok()) return s;
    return c->Exec("INSERT INTO s VALUES (1, 5)");
  });
  EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
  EXPECT_EQ(attempts, 1);
  EXPECT_FALSE(conn_->in_transaction());
  PG_ASSERT_OK(conn_->Exec("SELECT v FROM s WHERE id = 1", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 11);
}

TEST_F(PgConnectionTest, DeadlockIsRetryable) {
  PG_ASSERT_OK(
      conn_->ExecScript("CREATE TABLE dl (id int PRIMARY KEY, v int);"
                        "INSERT INTO dl VALUES (1, 0), (2, 0)"));
  auto a = Connect();
  auto b = Connect();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (Connection* c : {a.get(), b.get()}) {
    PG_ASSERT_OK(c->Exec("SET deadlock_timeout = '100ms'"));
    PG_ASSERT_OK(c->Begin());
  }
  PG_ASSERT_OK(a->Exec("UPDATE dl SET v = 1 WHERE id = 1"));
  PG_ASSERT_OK(b->Exec("UPDATE dl SET v = 2 WHERE id = 2"));
  Status a_status;
  std::thread thread([&] {
    a_status = a->Exec("UPDATE dl SET v = 1 WHERE id = 2");
    if (!a_status.ok()) a->Rollback();
  });
  Status b_status = b->Exec("UPDATE dl SET v = 2 WHERE id = 1");
  if (!b_status.ok()) b->Rollback();
  thread.join();
  // Exactly one of them is the deadlock's victim; the other goes on.
  EXPECT_NE(a_status.ok(), b_status.ok())
      << a_status.ToString() << " / " << b_status.ToString();
  const Status& victim = a_status.ok() ? b_status : a_status;
  EXPECT_EQ(SqlStateOf(victim), "40P01") << victim.ToString();
  EXPECT_TRUE(IsRetryable(victim)) << victim.ToString();
  Connection* winner = a_status.ok() ? a.get() : b.get();
  PG_EXPECT_OK(winner->Commit());
}

TEST_F(PgConnectionTest, CommitChecksWhatTheServerAnswered) {
  PG_ASSERT_OK(conn_->ExecScript("CREATE TABLE c (x int PRIMARY KEY)"));
  PG_ASSERT_OK(conn_->Begin());
  EXPECT_EQ(conn_->Begin().code(), Code::kInternal);  // nested
  PG_ASSERT_OK(conn_->Exec("INSERT INTO c VALUES (1)"));
  PG_ASSERT_OK(conn_->Commit());
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(conn_->Commit().code(), Code::kInternal);  // none open

  // A transaction that failed: COMMIT answers ROLLBACK, never OK.
  PG_ASSERT_OK(conn_->Begin());
  PG_ASSERT_OK(conn_->Exec("INSERT INTO c VALUES (2)"));
  EXPECT_EQ(conn_->Exec("INSERT INTO c VALUES (1)").code(), Code::kConflict);
  Status st = conn_->Commit();
  EXPECT_EQ(st.code(), Code::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("ROLLBACK"), std::string::npos);
  EXPECT_FALSE(IsUnknownOutcome(st));
  EXPECT_FALSE(conn_->in_transaction());

  // A deferred constraint fails at COMMIT: rolled back, mapped.
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE dc (x int, CONSTRAINT dc_x UNIQUE (x) DEFERRABLE "
      "INITIALLY DEFERRED)"));
  PG_ASSERT_OK(conn_->Begin());
  PG_ASSERT_OK(conn_->Exec("INSERT INTO dc VALUES (1), (1)"));
  st = conn_->Commit();
  EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
  EXPECT_FALSE(IsUnknownOutcome(st));
  Result r;
  PG_ASSERT_OK(
      conn_->Exec("SELECT (SELECT count(*) FROM c), "
                  "(SELECT count(*) FROM dc)",
                  &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 1);
  EXPECT_EQ(r.IntOr(0, 1, -1), 0);

  // Rollback undoes.
  PG_ASSERT_OK(conn_->Begin());
  PG_ASSERT_OK(conn_->Exec("INSERT INTO c VALUES (3)"));
  PG_ASSERT_OK(conn_->Rollback());
  PG_ASSERT_OK(conn_->Exec("SELECT count(*) FROM c", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 1);
}

TEST_F(PgConnectionTest, ScriptsRunSeveralStatementsAndStopAtTheFirstError) {
  PG_ASSERT_OK(
      conn_->ExecScript("CREATE TABLE s1 (x int); INSERT INTO s1 VALUES (1); "
                        "INSERT INTO s1 VALUES (2)"));
  // A multi-statement script without BEGIN runs as one implicit
  // transaction: the error undoes the whole script.
  Status st = conn_->ExecScript(
      "INSERT INTO s1 VALUES (3); SELEC; INSERT INTO s1 VALUES (4)");
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_EQ(SqlStateOf(st), "42601");
  Result r;
  PG_ASSERT_OK(conn_->Exec("SELECT count(*) FROM s1", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 2);
}

TEST_F(PgConnectionTest, InsertRowsInChunksReturnsRowsInOrder) {
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE ev (id bigserial PRIMARY KEY, event_id text UNIQUE, "
      "n bigint, payload bytea)"));
  std::vector<Params> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back(Params()
                       .Text("e" + std::to_string(i))
                       .Int(i)
                       .Bytea(std::string("\0x", 2) + std::to_string(i)));
  }
  std::vector<Result> results;
  PG_ASSERT_OK(conn_->Begin());
  PG_ASSERT_OK(InsertRows(conn_.get(), "ev", {"event_id", "n", "payload"}, rows,
                          "RETURNING id, n", &results, 300));
  PG_ASSERT_OK(conn_->Commit());
  ASSERT_EQ(results.size(), 7u);  // 6 x 300 + 200
  int64_t expect_n = 0;
  int64_t last_id = 0;
  for (const Result& r : results) {
    for (int row = 0; row < r.rows(); ++row) {
      EXPECT_EQ(r.IntOr(row, 1, -1), expect_n++);
      int64_t id = r.IntOr(row, 0, -1);
      EXPECT_GT(id, last_id);
      last_id = id;
    }
  }
  EXPECT_EQ(expect_n, 2000);

  // Duplicates are skipped by the suffix; only new rows come back.
  std::vector<Params> again = {Params().Text("e5").Int(5).Null(),
                               Params().Text("new").Int(-1).Null()};
  results.clear();
  PG_ASSERT_OK(
      InsertRows(conn_.get(), "ev", {"event_id", "n", "payload"}, again,
                 "ON CONFLICT (event_id) DO NOTHING RETURNING n", &results));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].rows(), 1);
  EXPECT_EQ(results[0].IntOr(0, 0, 0), -1);
  Result r;
  PG_ASSERT_OK(conn_->Exec("SELECT payload FROM ev WHERE n = 1999", &r));
  std::string payload;
  PG_ASSERT_OK(r.Bytea(0, 0, &payload));
  EXPECT_EQ(payload, std::string("\0x1999", 6));

  EXPECT_TRUE(InsertRows(conn_.get(), "ev; DROP TABLE ev", {"n"},
                         {Params().Int(1)}, "", nullptr)
                  .IsInvalid());
  EXPECT_TRUE(InsertRows(conn_.get(), "ev", {"n", "event_id"},
                         {Params().Int(1)}, "", nullptr)
                  .IsInvalid());
}

TEST_F(PgConnectionTest, CopyInStreamsRowsWithEveryKindOfValue) {
  PG_ASSERT_OK(conn_->ExecScript(
      "CREATE TABLE cp (id bigint PRIMARY KEY, t text, d double precision, "
      "ok boolean, b bytea)"));
  const std::string nasty =
      "tab\there\nnewline\r\\backslash \\N \xE6\x97\xA5 '\"";
  std::vector<Params> rows;
  for (int i = 0; i < 20000; ++i) {
    Params p;
    p.Int(i);
    if (i % 10 == 0) {
      p.Null();
    } else {
      p.Text(nasty + std::to_string(i));
    }
    p.Double(i + 0.25).Bool(i % 2 == 0);
    p.Bytea(std::string("\0\\\xff", 3) + std::to_string(i));
    rows.push_back(std::move(p));
  }
  int64_t copied = 0;
  PG_ASSERT_OK(
      conn_->CopyIn("COPY cp (id, t, d, ok, b) FROM STDIN", rows, &copied));
  EXPECT_EQ(copied, 20000);
  Result r;
  PG_ASSERT_OK(conn_->Exec("SELECT id, t, d, ok, b FROM cp ORDER BY id", &r));
  ASSERT_EQ(r.rows(), 20000);
  for (int i = 0; i < r.rows(); i += 997) {
    EXPECT_EQ(r.IntOr(i, 0, -1), i);
    if (i % 10 == 0) {
      EXPECT_TRUE(r.IsNull(i, 1));
    } else {
      EXPECT_EQ(r.Text(i, 1), nasty + std::to_string(i));
    }
    EXPECT_EQ(r.DoubleOr(i, 2, 0), i + 0.25);
    bool ok = false;
    PG_ASSERT_OK(r.Bool(i, 3, &ok));
    EXPECT_EQ(ok, i % 2 == 0);
    std::string b;
    PG_ASSERT_OK(r.Bytea(i, 4, &b));
    EXPECT_EQ(b, std::string("\0\\\xff", 3) + std::to_string(i));
  }

  // A bad row fails the whole COPY with the server's reason; the
  // connection stays usable.
  std::vector<Params> bad = {
      Params().Int(-1).Text("x").Double(0).Bool(true).Null(),
      Params().Text("not a number").Null().Null().Null().Null()};
  Status st =
      conn_->CopyIn("COPY cp (id, t, d, ok, b) FROM STDIN", bad, &copied);
  EXPECT_EQ(st.code(), Code::kInvalid) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "22P02") << st.ToString();
  EXPECT_FALSE(conn_->broken());
  PG_ASSERT_OK(conn_->Exec("SELECT count(*) FROM cp WHERE id < 0", &r));
  EXPECT_EQ(r.IntOr(0, 0, -1), 0);
  // Not a COPY: refused, nothing left half-done.
  EXPECT_FALSE(conn_->CopyIn("SELECT 1", rows, &copied).ok());
  PG_EXPECT_OK(conn_->Ping(2000));
  // COPY through Exec is refused without hanging.
  EXPECT_FALSE(conn_->Exec("COPY cp (id) FROM STDIN").ok());
  PG_EXPECT_OK(conn_->Ping(2000));
}

}  // namespace
}  // namespace pg
}  // namespace store
}  // namespace crashctl
