// SQLSTATE -> Status mapping, the markers, and the migration list checks:
// pure functions, no server.
#include <gtest/gtest.h>

#include "crashctl/store/pg/batch.h"
#include "crashctl/store/pg/errors.h"
#include "crashctl/store/pg/migrations.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Code = Status::Code;

TEST(PgErrorsTest, EachClassMapsToItsCode) {
  struct Case {
    const char* state;
    Code code;
    bool retryable;
    bool unknown;
  };
  const Case cases[] = {
      {"08000", Code::kUnavailable, false, false},  // connection exception
      {"08006", Code::kUnavailable, false, false},  // connection failure
      {"08001", Code::kUnavailable, false, false},
      {"57P01", Code::kUnavailable, false, false},  // admin shutdown
      {"57P02", Code::kUnavailable, false, false},  // crash shutdown
      {"57P03", Code::kUnavailable, false, false},  // cannot connect now
      {"57014", Code::kUnavailable, false, false},  // statement timeout
      {"25006", Code::kUnavailable, false, false},  // read-only transaction
      {"53100", Code::kUnavailable, false, false},  // disk full
      {"53200", Code::kUnavailable, false, false},  // out of memory
      {"53300", Code::kUnavailable, false, false},  // too many connections
      {"58030", Code::kUnavailable, false, false},  // I/O error
      {"55P03", Code::kUnavailable, false, false},  // lock timeout
      {"40001", Code::kUnavailable, true, false},   // serialization failure
      {"40P01", Code::kUnavailable, true, false},   // deadlock
      {"40003", Code::kUnavailable, false, true},   // completion unknown
      {"23505", Code::kConflict, false, false},     // unique violation
      {"23P01", Code::kConflict, false, false},     // exclusion violation
      {"23503", Code::kInvalid, false, false},      // foreign key
      {"23502", Code::kInvalid, false, false},      // not null
      {"23514", Code::kInvalid, false, false},      // check
      {"22021", Code::kInvalid, false, false},      // bad UTF-8
      {"22012", Code::kInvalid, false, false},      // division by zero
      {"54000", Code::kTooLarge, false, false},     // program limit
      {"42601", Code::kInternal, false, false},     // syntax error
      {"42P01", Code::kInternal, false, false},     // undefined table
      {"42703", Code::kInternal, false, false},     // undefined column
      {"25P02", Code::kInternal, false, false},     // in failed transaction
      {"28P01", Code::kInternal, false, false},     // bad password
      {"3D000", Code::kInternal, false, false},     // no such database
      {"57P04", Code::kInternal, false, false},     // database dropped
      {"XX000", Code::kInternal, false, false},     // internal error
      {"P0001", Code::kInternal, false, false},     // RAISE EXCEPTION
  };
  for (const Case& c : cases) {
    Status st = StatusFromSqlState(c.state, "boom", "ctx");
    EXPECT_EQ(st.code(), c.code) << c.state << ": " << st.ToString();
    EXPECT_EQ(IsRetryable(st), c.retryable) << c.state;
    EXPECT_EQ(IsUnknownOutcome(st), c.unknown) << c.state;
    EXPECT_EQ(SqlStateOf(st), c.state);
    EXPECT_EQ(st.message().rfind("ctx: boom (SQLSTATE ", 0), 0u)
        << st.message();
  }
}

TEST(PgErrorsTest, NoSqlStateIsUnavailable) {
  Status st = StatusFromSqlState("", "server closed the connection", "ctx");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(SqlStateOf(st), "");
  EXPECT_FALSE(IsRetryable(st));
  EXPECT_FALSE(IsUnknownOutcome(st));
}

TEST(PgErrorsTest, MarkersSurviveAnnotation) {
  Status retry = StatusFromSqlState("40001", "could not serialize", "update");
  Status annotated = retry.Annotate("write events");
  EXPECT_TRUE(IsRetryable(annotated));
  EXPECT_EQ(SqlStateOf(annotated), "40001");

  Status unknown = MarkUnknownOutcome(Status::Unavailable("COMMIT: lost"));
  EXPECT_TRUE(IsUnknownOutcome(unknown));
  EXPECT_TRUE(IsUnknownOutcome(unknown.Annotate("write events")));
  EXPECT_EQ(MarkUnknownOutcome(unknown).message(), unknown.message());
  // Another code never counts, whatever its message says.
  EXPECT_FALSE(IsUnknownOutcome(Status::Internal("x [outcome unknown]")));
  EXPECT_FALSE(IsRetryable(Status::Conflict("x [retryable]")));
  EXPECT_TRUE(MarkUnknownOutcome(Status::Ok()).ok());
}

TEST(PgErrorsTest, SqlStateOfIgnoresMalformed) {
  EXPECT_EQ(SqlStateOf(Status::Internal("x (SQLSTATE 123)")), "");
  EXPECT_EQ(SqlStateOf(Status::Internal("x (SQLSTATE abcde)")), "");
  EXPECT_EQ(SqlStateOf(Status::Internal("x (SQLSTATE 42601")), "");
  EXPECT_EQ(SqlStateOf(Status::Ok()), "");
}

TEST(PgMigrationListTest, ExpandOnlyMigrationsRefuseContractWords) {
  EXPECT_EQ(ContractViolation("CREATE TABLE a (id bigint)"), "");
  EXPECT_EQ(ContractViolation(
                "ALTER TABLE a ADD COLUMN type text NOT NULL DEFAULT ''"),
            "");
  EXPECT_EQ(ContractViolation("CREATE TABLE l (g bigint REFERENCES g(id) "
                              "ON DELETE CASCADE)"),
            "");
  EXPECT_EQ(ContractViolation("ALTER TABLE a ALTER COLUMN b SET DEFAULT 0"),
            "");
  EXPECT_EQ(ContractViolation("drop table a"), "DROP");
  EXPECT_EQ(ContractViolation("ALTER TABLE a DROP COLUMN b"), "DROP");
  EXPECT_EQ(ContractViolation("ALTER TABLE a RENAME TO b"), "RENAME");
  EXPECT_EQ(ContractViolation("TRUNCATE a"), "TRUNCATE");
  EXPECT_EQ(ContractViolation("DELETE FROM a WHERE x"), "DELETE FROM");
  EXPECT_EQ(ContractViolation("ALTER TABLE a ALTER COLUMN b TYPE bigint"),
            "ALTER COLUMN ... TYPE");
  EXPECT_EQ(ContractViolation("ALTER TABLE a ALTER b SET DATA TYPE bigint"),
            "ALTER COLUMN ... SET DATA TYPE");
  EXPECT_EQ(ContractViolation("ALTER TABLE a ALTER COLUMN b SET NOT NULL"),
            "SET NOT NULL");
  // Words inside comments, literals, quoted names and function bodies do
  // not count.
  EXPECT_EQ(ContractViolation("-- DROP it later\n"
                              "/* DROP /* nested */ TABLE */\n"
                              "INSERT INTO a VALUES ('DROP', E'it\\'s DROP');\n"
                              "CREATE TABLE \"drop\" (x int);\n"
                              "CREATE FUNCTION f() RETURNS int LANGUAGE sql "
                              "AS $body$ SELECT 1 /* DROP */ $body$;\n"
                              "CREATE FUNCTION g() RETURNS int LANGUAGE sql "
                              "AS $$ DELETE FROM a RETURNING 1 $$"),
            "");
}

TEST(PgMigrationListTest, ValidateChecksOrderAndTransactionControl) {
  EXPECT_TRUE(ValidateMigrations({{1, "a", "CREATE TABLE a (x int)"},
                                  {2, "b", "CREATE TABLE b (x int)"}})
                  .ok());
  EXPECT_TRUE(ValidateMigrations({}).ok());
  EXPECT_TRUE(ValidateMigrations({{2, "a", "CREATE TABLE a (x int)"},
                                  {1, "b", "CREATE TABLE b (x int)"}})
                  .IsInvalid());
  EXPECT_TRUE(ValidateMigrations({{1, "a", "CREATE TABLE a (x int)"},
                                  {1, "b", "CREATE TABLE b (x int)"}})
                  .IsInvalid());
  EXPECT_TRUE(
      ValidateMigrations({{0, "a", "CREATE TABLE a (x int)"}}).IsInvalid());
  EXPECT_TRUE(
      ValidateMigrations({{1, "", "CREATE TABLE a (x int)"}}).IsInvalid());
  EXPECT_TRUE(ValidateMigrations({{1, "a", "  -- nothing\n"}}).IsInvalid());
  EXPECT_TRUE(ValidateMigrations({{1, "a", "CREATE TABLE a (x int); COMMIT"}})
                  .IsInvalid());
  EXPECT_TRUE(ValidateMigrations({{1, "a", "begin; CREATE TABLE a (x int)"}})
                  .IsInvalid());
  EXPECT_TRUE(
      ValidateMigrations({{1, "a", "CREATE INDEX CONCURRENTLY i ON a (x)"}})
          .IsInvalid());
  EXPECT_TRUE(ValidateMigrations({{1, "a", "VACUUM a"}}).IsInvalid());
  // A function body's BEGIN is not transaction control.
  EXPECT_TRUE(ValidateMigrations(
                  {{1, "f",
                    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RETURN NULL; END $$"}})
                  .ok());
  Migration drop{3, "drop old index", "DROP INDEX IF EXISTS old"};
  Status refused = ValidateMigrations({drop});
  EXPECT_TRUE(refused.IsInvalid());
  EXPECT_NE(refused.message().find("contract"), std::string::npos)
      << refused.message();
  drop.contract = true;
  EXPECT_TRUE(ValidateMigrations({drop}).ok());
}

TEST(PgBatchTest, OnlyPlainIdentifiers) {
  EXPECT_TRUE(IsPlainIdentifier("events"));
  EXPECT_TRUE(IsPlainIdentifier("public.events_2"));
  EXPECT_TRUE(IsPlainIdentifier("_x"));
  EXPECT_FALSE(IsPlainIdentifier(""));
  EXPECT_FALSE(IsPlainIdentifier("2x"));
  EXPECT_FALSE(IsPlainIdentifier("Events"));
  EXPECT_FALSE(IsPlainIdentifier("a b"));
  EXPECT_FALSE(IsPlainIdentifier("a;drop"));
  EXPECT_FALSE(IsPlainIdentifier("a.b.c"));
  EXPECT_FALSE(IsPlainIdentifier("\"a\""));
  EXPECT_FALSE(IsPlainIdentifier(std::string(64, 'a')));
}

}  // namespace
}  // namespace pg
}  // namespace store
}  // namespace crashctl
