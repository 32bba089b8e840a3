// search/ against a real SQLite FTS5 table: for each query, the rows that
// `docs MATCH ToFts5Match(query)` returns must be the rows Matches() accepts
// (and, for the hand-written table, the rows written down), hostile queries
// included; then the same for a few thousand generated queries and rows.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/search/query.h"
#include "tests/search/search_test_util.h"

namespace crashctl {
namespace search {
namespace {

// The searched fields of a row, in the order of the table's columns.
using Row = std::vector<std::string>;

// An in-memory FTS5 table defined as docs/rest-api-search.md tells the
// SQLite backend to define its own.
class Fts5Table {
 public:
  // `options`: more FTS5 options, e.g. ", prefix = '2 3'".
  explicit Fts5Table(const std::string& options = "") {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    std::string create =
        std::string(
            "CREATE VIRTUAL TABLE docs USING fts5(title, culprit, "
            "message, exception, tokenize = '") +
        kFts5Tokenize + "'" + options + ")";
    Exec(create);
  }
  ~Fts5Table() { sqlite3_close(db_); }
  Fts5Table(const Fts5Table&) = delete;
  Fts5Table& operator=(const Fts5Table&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }

  void Insert(int64_t rowid, const Row& row) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT INTO docs(rowid, title, culprit, "
                                 "message, exception) VALUES (?, ?, ?, ?, ?)",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, rowid);
    for (int i = 0; i < 4; ++i) {
      const std::string& f = row[static_cast<size_t>(i)];
      sqlite3_bind_text(stmt, i + 2, f.data(), static_cast<int>(f.size()),
                        SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }

  // The rowids matching `expression`, ascending; false with *error set when
  // FTS5 refuses the expression.
  bool Match(const std::string& expression, std::set<int64_t>* rows,
             std::string* error) {
    rows->clear();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT rowid FROM docs WHERE docs MATCH ?", -1,
                           &stmt, nullptr) != SQLITE_OK) {
      *error = sqlite3_errmsg(db_);
      return false;
    }
    sqlite3_bind_text(stmt, 1, expression.data(),
                      static_cast<int>(expression.size()), SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      rows->insert(sqlite3_column_int64(stmt, 0));
    }
    if (rc != SQLITE_DONE) *error = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::set<int64_t> MatchedBy(const Query& q, const std::vector<Row>& rows) {
  std::set<int64_t> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string_view> fields(rows[i].begin(), rows[i].end());
    if (Matches(q, fields)) out.insert(static_cast<int64_t>(i + 1));
  }
  return out;
}

std::string Join(const std::set<int64_t>& rows) {
  std::string out;
  for (int64_t r : rows) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r);
  }
  return out;
}

std::string LongMessage() {
  std::string m;
  for (int i = 0; i < 2000; ++i) m += "filler" + std::to_string(i) + " ";
  return m + "the needle is here";
}

// Rowid i + 1 is kRows[i]: title, culprit, message, exception value.
const std::vector<Row>& HandRows() {
  static const std::vector<Row> rows = {
      /* 1 */ {"TypeError: Cannot read property 'id' of undefined",
               "checkout/cart.js in applyCoupon", "",
               "Cannot read property 'id' of undefined"},
      /* 2 */
      {"ConnectionError: connection refused", "db.pool.acquire",
       "ECONNREFUSED 127.0.0.1:5432", "connection refused"},
      /* 3 */
      {"Timeout while waiting for checkout", "payments.charge",
       "timeout after 30s", ""},
      /* 4 */
      {"KeyError: 'order_id'", "orders.views in get_order", "order_id missing",
       "'order_id'"},
      /* 5 */ {"connection", "refused", "", ""},
      /* 6 */ {"this OR that AND NOT NEAR(a, b)", "title: oom", "", ""},
      /* 7 */ {"L'École est fermée", "café.naïve", "Straße", ""},
      /* 8 */ {"日本語のエラー", "エラー", "", ""},
      /* 9 */
      {"emoji😀ok",
       "a\xC2\xA0"
       "b",
       "", ""},
      /* 10 */ {"Reconnect failed", "connect_timeout", "", ""},
      /* 11 */ {"OOMKilled", "title", "oom", ""},
      /* 12 */
      {"He said \"hello\" and 'bye'", "*star*", "^caret", "(paren) {brace}"},
      /* 13 */ {"big", "", LongMessage(), ""},
      /* 14 */ {"DROP TABLE docs", "'; --", "\"\"\"", "NEAR("},
      /* 15 */
      {"ΣΊΣΥΦΟΣ", "ǅemo", "İstanbul",
       "e\xCC\x81"
       "cole"},
  };
  return rows;
}

struct Fts5Case {
  const char* query;
  const char* want;  // the matching rowids ("1 5"), or "error: ..." prefix
};

const Fts5Case kCases[] = {
    {"connection refused", "2 5"},
    {"\"connection refused\"", "2"},  // row 5 has them in two columns
    {"CONNECTION Refused", "2 5"},
    {"conn*", "2 5 10"},
    {"connect", "10"},
    {"reconnect", "10"},
    {"timeout", "3 10"},
    {"timeout -checkout", "10"},
    {"timeout -\"waiting for\"", "10"},
    {"timeout -connect*", "3"},
    {"order_id", "4"},
    {"\"order id\"", "4"},
    {"order_id*", "4"},
    {"id", "1 4"},
    {"undefined -checkout", ""},
    {"undefined -coupon", "1"},
    {"applyco*", "1"},
    {"127.0.0.1", "2"},
    {"5432 econnrefused", "2"},
    {"30s", "3"},
    {"needle", "13"},
    {"\"the needle\" filler1999", "13"},
    {"fill* -\"needle is\"", ""},
    // FTS5's syntax is plain text here.
    {"OR", "6"},
    {"a OR b", "6"},
    {"AND", "6 12"},
    {"NOT", "6"},
    {"NEAR(", "6 14"},
    {"NEAR(a", "6"},
    {"\"a b\"", "6 9"},
    {"title:oom", "6"},
    {"title oom", "6 11"},
    {"title: -oomk*", "6"},
    {"{title}:oom", "6"},
    {"^caret", "12"},
    {"hello", "12"},
    {"\"said hello\"", "12"},
    {"star* paren brace", "12"},
    {"DROP TABLE docs", "14"},
    {"';DROP TABLE docs;--", "14"},
    {"x -x", ""},
    // Unicode.
    {"ecole", "7 15"},
    {"École", "7 15"},
    {"\"ecole est fermee\"", "7"},
    {"cafe*", "7"},
    {"\"cafe naive\"", "7"},
    {"straße", "7"},
    {"strasse", ""},
    {"日本語", ""},
    {"日本*", "8"},
    {"エラー", "8"},
    {"emoji", "9"},
    {"\"emoji ok\"", "9"},
    {"σίσυφοσ", "15"},
    {"σισυφοσ", ""},  // Greek keeps its accents
    {"ǆemo", "15"},
    {"istanbul", "15"},
    // Not queries at all.
    {"\"", "error: unterminated phrase"},
    {"\"\"\"\"", "error: query has no word"},
    {"\"\"\"", "error: unterminated phrase"},
    {"*", "error: prefix \"*\" is too short"},
    {"a*", "error: prefix \"a*\" is too short"},
    {"NEAR(a b)*", "error: prefix \"b)*\" is too short"},
    {"*)", "error: '*' is only allowed at the end"},
    {"-connection", "error: query has only exclusions"},
    {"", "error: query is empty"},
    {"( ) : ^ + -", "error: query has no word"},
};

// With and without prefix indexes (which docs/rest-api-search.md suggests
// for speed: they must not change what matches).
class Fts5HandTest : public ::testing::TestWithParam<const char*> {};

TEST_P(Fts5HandTest, HandWrittenCasesMatchWhatMatchesSays) {
  Fts5Table table(GetParam());
  const std::vector<Row>& rows = HandRows();
  for (size_t i = 0; i < rows.size(); ++i) {
    table.Insert(static_cast<int64_t>(i + 1), rows[i]);
  }
  for (const Fts5Case& c : kCases) {
    SCOPED_TRACE(std::string("query: ") + c.query);
    Query q;
    Status s = ParseQuery(c.query, &q);
    std::string want = c.want;
    if (want.rfind("error: ", 0) == 0) {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(("error: " + s.message()).rfind(want, 0), 0u) << s.message();
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.message();
    std::set<int64_t> by_fts5;
    std::string error;
    ASSERT_TRUE(table.Match(ToFts5Match(q), &by_fts5, &error))
        << ToFts5Match(q) << ": " << error;
    EXPECT_EQ(Join(by_fts5), want) << ToFts5Match(q);
    EXPECT_EQ(Join(MatchedBy(q, rows)), want);
  }
}

INSTANTIATE_TEST_SUITE_P(Options, Fts5HandTest,
                         ::testing::Values("", ", prefix = '2 3'"));

TEST(Fts5Test, LongestQueryRuns) {
  Fts5Table table;
  table.Insert(1, {"x", "", "", ""});
  table.Insert(2, {"x", "", "", "A.b.C.d.e.f.ghi"});
  // 256 bytes: a word and 15 excluded 7-word phrases (16 terms).
  std::string text = "x";
  for (int i = 0; i < 15; ++i) text += " -a.b.c.d.e.f.ghi";
  ASSERT_EQ(text.size(), kMaxQueryBytes);
  Query q;
  Status s = ParseQuery(text, &q);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(q.terms.size(), kMaxTerms);
  std::set<int64_t> rows;
  std::string error;
  ASSERT_TRUE(table.Match(ToFts5Match(q), &rows, &error)) << error;
  EXPECT_EQ(Join(rows), "1");
  EXPECT_FALSE(ParseQuery(text + "j", &q).ok());
}

// Generated rows and queries, from fragments that exercise case, diacritics,
// separators and operators; a fixed seed, so a failure repeats.
class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  std::string Fragment() {
    static const char* const kFragments[] = {
        "conn", "connection", "Connection", "refused", "REFUSED", "timeout",
        "café", "Cafe",       "École",      "ecole",   "日本",    "語",
        "or",   "OR",         "near",       "NOT",     "a",       "b",
        "ab",   "ß",          "e\xCC\x81",  "İ",       "x1",      "0x1F",
        "1",    "id",         "order",      "Ǆ",       "σς",      "ﬁ"};
    return kFragments[Pick(sizeof(kFragments) / sizeof(kFragments[0]))];
  }
  std::string Separator() {
    static const char* const kSeparators[] = {" ", " ", " ",        ".", "_",
                                              "-", ":", "\xC2\xA0", "😀", "",
                                              "'", "(", "\"",       "*", "^"};
    return kSeparators[Pick(sizeof(kSeparators) / sizeof(kSeparators[0]))];
  }
  std::string Text(size_t max_fragments) {
    std::string out;
    size_t n = Pick(max_fragments + 1);
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out += Separator();
      out += Fragment();
    }
    return out;
  }
  Row MakeRow() { return {Text(6), Text(3), Text(8), Text(4)}; }

  // Mostly well-formed queries, with now and then a hostile piece.
  std::string MakeQuery() {
    std::string out;
    size_t terms = 1 + Pick(4);
    for (size_t i = 0; i < terms; ++i) {
      if (i > 0) out += ' ';
      if (Pick(5) == 0) out += '-';
      switch (Pick(6)) {
        case 0:
          out += "\"" + Fragment() + " " + Fragment() + Separator() +
                 Fragment() + "\"";
          break;
        case 1: {
          std::string f = Fragment() + Separator() + Fragment();
          out += f + "*";
          break;
        }
        case 2: {
          static const char* const kHostile[] = {
              "\"", "*",   "NEAR(", "OR",       "title:", "^",  "(", ")",
              "+",  "AND", "NOT",   "{title}:", "\"\"",   ":*", "-", "'"};
          out += kHostile[Pick(sizeof(kHostile) / sizeof(kHostile[0]))];
          break;
        }
        default:
          out += Fragment() + (Pick(3) == 0 ? Separator() + Fragment() : "");
      }
    }
    return out;
  }

 private:
  size_t Pick(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  std::mt19937 rng_;
};

TEST(Fts5Test, GeneratedQueriesAgreeWithMatches) {
  Generator gen(20260101);
  std::vector<Row> rows;
  Fts5Table table;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(gen.MakeRow());
    table.Insert(static_cast<int64_t>(rows.size()), rows.back());
  }
  int parsed = 0;
  int some = 0;
  int none = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string text = gen.MakeQuery();
    Query q;
    if (!ParseQuery(text, &q).ok()) continue;
    ++parsed;
    std::set<int64_t> by_fts5;
    std::string error;
    ASSERT_TRUE(table.Match(ToFts5Match(q), &by_fts5, &error))
        << "query: " << text << "\nFTS5: " << ToFts5Match(q) << ": " << error;
    std::set<int64_t> by_matches = MatchedBy(q, rows);
    ASSERT_EQ(Join(by_fts5), Join(by_matches))
        << "query: " << text << "\nFTS5: " << ToFts5Match(q)
        << "\nparsed: " << testing::Describe(q);
    (by_fts5.empty() ? none : some)++;
  }
  std::printf("generated: %d of 4000 parsed, %d matched some rows, %d none\n",
              parsed, some, none);
  // The comparison is not vacuous: most queries parse, and both matching and
  // non-matching results are common.
  EXPECT_GT(parsed, 2000);
  EXPECT_GT(some, 500);
  EXPECT_GT(none, 200);
}

}  // namespace
}  // namespace search
}  // namespace crashctl
