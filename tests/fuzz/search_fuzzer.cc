// libFuzzer target: search/ (crashctl/search/query.h). The input is a query
// and, split at its first three '\n', the four fields of one more row of an
// in-memory FTS5 table made as docs/rest-api-search.md says. Checked:
// - a query ParseQuery accepts is within its bounds (1..16 terms, one not
//   negated, no empty word, prefixes of 2+ characters), and each of its
//   words tokenizes to itself;
// - FTS5 accepts ToFts5Match of it (the MATCH runs to SQLITE_DONE), and the
//   rows it returns are the rows Matches() accepts;
// - ToPostgresTsQuery of it has balanced parentheses and quotes;
// - ToPostgresTsVector of the row is well-formed and within PostgreSQL's
//   limits;
// - for ASCII input, the hand-written ASCII rule and SQLite's unicode61
//   split it into the same words;
// - Matches with a fixed query never crashes on the input as a document.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/search/query.h"
#include "search/tokenizer_private.h"

namespace {

using crashctl::search::Query;
using crashctl::search::Term;

using Row = std::vector<std::string>;

const std::vector<Row>& FixedRows() {
  static const std::vector<Row> rows = {
      {"TypeError: Cannot read property 'id' of undefined", "checkout/cart.js",
       "", "Cannot read property 'id' of undefined"},
      {"ConnectionError: connection refused", "db.pool.acquire",
       "ECONNREFUSED 127.0.0.1:5432", "connection refused"},
      {"KeyError: 'order_id'", "orders.views", "order_id missing", ""},
      {"this OR that AND NOT NEAR(a, b)", "title: oom", "\"*^:()", ""},
      {"L'École est fermée", "café.naïve", "Straße 日本語のエラー", "emoji😀ok"},
  };
  return rows;
}

constexpr int64_t kInputRowid = 1000;

struct Db {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* remove = nullptr;
  sqlite3_stmt* match = nullptr;
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "search_fuzzer: %s\n", what);
  std::abort();
}

Db* Open() {
  auto* d = new Db();
  if (sqlite3_open(":memory:", &d->db) != SQLITE_OK) Fail("open");
  std::string create =
      std::string(
          "CREATE VIRTUAL TABLE docs USING fts5(title, culprit, "
          "message, exception, tokenize = '") +
      crashctl::search::kFts5Tokenize + "')";
  if (sqlite3_exec(d->db, create.c_str(), nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    Fail("create");
  }
  if (sqlite3_prepare_v2(d->db,
                         "INSERT INTO docs(rowid, title, culprit, message, "
                         "exception) VALUES (?, ?, ?, ?, ?)",
                         -1, &d->insert, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db, "DELETE FROM docs WHERE rowid = ?", -1,
                         &d->remove, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(d->db, "SELECT rowid FROM docs WHERE docs MATCH ?", -1,
                         &d->match, nullptr) != SQLITE_OK) {
    Fail("prepare");
  }
  return d;
}

void Insert(Db* d, int64_t rowid, const Row& row) {
  sqlite3_reset(d->insert);
  sqlite3_bind_int64(d->insert, 1, rowid);
  for (int i = 0; i < 4; ++i) {
    const std::string& f = row[static_cast<size_t>(i)];
    sqlite3_bind_text(d->insert, i + 2, f.data(), static_cast<int>(f.size()),
                      SQLITE_STATIC);
  }
  if (sqlite3_step(d->insert) != SQLITE_DONE) Fail("insert");
}

Db* GetDb() {
  static Db* const d = [] {
    Db* db = Open();
    const std::vector<Row>& rows = FixedRows();
    for (size_t i = 0; i < rows.size(); ++i) {
      Insert(db, static_cast<int64_t>(i + 1), rows[i]);
    }
    return db;
  }();
  return d;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

void CheckQuery(std::string_view text, const Query& q) {
  if (text.size() > crashctl::search::kMaxQueryBytes) Fail("too long");
  if (q.terms.empty() || q.terms.size() > crashctl::search::kMaxTerms) {
    Fail("term count");
  }
  bool positive = false;
  for (const Term& t : q.terms) {
    if (!t.negated) positive = true;
    if (t.words.empty()) Fail("no words");
    if (t.kind == Term::kWord && t.words.size() != 1) Fail("word");
    if (t.kind == Term::kPhrase && t.words.size() < 2) Fail("phrase");
    if (t.kind == Term::kPrefix &&
        CodePoints(t.words.back()) < crashctl::search::kMinPrefixChars) {
      Fail("prefix");
    }
    for (const std::string& w : t.words) {
      if (w.empty()) Fail("empty word");
      std::vector<std::string> again = crashctl::search::Tokenize(w);
      if (again.size() != 1 || again[0] != w) Fail("word not idempotent");
    }
  }
  if (!positive) Fail("only exclusions");
}

void CheckTsQuery(const std::string& ts) {
  if (ts.empty()) Fail("empty tsquery");
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < ts.size(); ++i) {
    char c = ts[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '\'') {
        if (i + 1 < ts.size() && ts[i + 1] == '\'') {
          ++i;
        } else {
          quoted = false;
        }
      }
    } else if (c == '\'') {
      quoted = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) Fail("tsquery parentheses");
    }
  }
  if (quoted || depth != 0) Fail("tsquery unbalanced");
}

// A tsvector literal as ToPostgresTsVector writes it: 'word':p1,p2 ...,
// words in byte order, positions ascending in 1..16383, at most 256 each,
// no word over 2046 bytes, and the size PostgreSQL counts under its limit.
void CheckTsVector(const std::string& tv) {
  size_t i = 0;
  size_t size = 0;
  std::string previous;
  bool first = true;
  while (i < tv.size()) {
    if (!first) {
      if (tv[i] != ' ') Fail("tsvector separator");
      ++i;
    }
    if (i >= tv.size() || tv[i] != '\'') Fail("tsvector quote");
    std::string word;
    for (++i;; ++i) {
      if (i >= tv.size()) Fail("tsvector unterminated");
      if (tv[i] == '\'' || tv[i] == '\\') {
        if (tv[i] == '\'' && (i + 1 >= tv.size() || tv[i + 1] != '\'')) break;
        if (i + 1 >= tv.size() || tv[i + 1] != tv[i]) Fail("tsvector escape");
        ++i;
      }
      word.push_back(tv[i]);
    }
    ++i;  // the closing quote
    if (word.empty() || word.size() > crashctl::search::kPostgresMaxLexemeBytes)
      Fail("tsvector word size");
    if (!first && !(previous < word)) Fail("tsvector order");
    size_t count = 0;
    long last = 0;
    while (i < tv.size() && (tv[i] == ':' || tv[i] == ',')) {
      ++i;
      long p = 0;
      size_t digits = 0;
      while (i < tv.size() && tv[i] >= '0' && tv[i] <= '9' && digits < 6) {
        p = p * 10 + (tv[i] - '0');
        ++i;
        ++digits;
      }
      if (p <= last || p > crashctl::search::kPostgresMaxPosition)
        Fail("tsvector position");
      last = p;
      ++count;
    }
    if (count == 0 || count > crashctl::search::kPostgresMaxPositions)
      Fail("tsvector position count");
    size += ((word.size() + 1) & ~size_t{1}) + 2 + 2 * count;
    previous = word;
    first = false;
  }
  if (size > crashctl::search::kPostgresMaxTsVectorBytes) Fail("tsvector size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // The words of ASCII text by hand and by SQLite.
  if (crashctl::search::internal::IsAscii(input) &&
      crashctl::search::internal::Unicode61Status().ok()) {
    std::vector<std::string> by_hand;
    std::vector<std::string> by_sqlite;
    crashctl::search::internal::TokenizeAscii(input, &by_hand);
    if (!crashctl::search::internal::TokenizeUnicode61(input, &by_sqlite) ||
        by_hand != by_sqlite) {
      Fail("ASCII rule differs from unicode61");
    }
  }

  // The input as a row: four fields split at '\n'.
  Row row(4);
  size_t field = 0;
  for (char c : input) {
    if (c == '\n' && field < 3) {
      ++field;
    } else {
      row[field].push_back(c);
    }
  }
  {
    Query fixed;
    if (!crashctl::search::ParseQuery("conn* -x \"a b\" order_id", &fixed)
             .ok()) {
      Fail("fixed query");
    }
    std::vector<std::string_view> fields(row.begin(), row.end());
    (void)crashctl::search::Matches(fixed, fields);
    CheckTsVector(crashctl::search::ToPostgresTsVector(fields));
  }

  Query q;
  if (!crashctl::search::ParseQuery(input, &q).ok()) return 0;
  CheckQuery(input, q);
  CheckTsQuery(crashctl::search::ToPostgresTsQuery(q));

  Db* d = GetDb();
  Insert(d, kInputRowid, row);
  std::string expression = crashctl::search::ToFts5Match(q);
  sqlite3_reset(d->match);
  sqlite3_bind_text(d->match, 1, expression.data(),
                    static_cast<int>(expression.size()), SQLITE_STATIC);
  std::set<int64_t> by_fts5;
  int rc;
  while ((rc = sqlite3_step(d->match)) == SQLITE_ROW) {
    by_fts5.insert(sqlite3_column_int64(d->match, 0));
  }
  if (rc != SQLITE_DONE) Fail("FTS5 refused the expression");
  sqlite3_reset(d->match);

  std::set<int64_t> by_matches;
  const std::vector<Row>& rows = FixedRows();
  for (size_t i = 0; i <= rows.size(); ++i) {
    const Row& r = i < rows.size() ? rows[i] : row;
    std::vector<std::string_view> fields(r.begin(), r.end());
    if (crashctl::search::Matches(q, fields)) {
      by_matches.insert(i < rows.size() ? static_cast<int64_t>(i + 1)
                                        : kInputRowid);
    }
  }
  if (by_fts5 != by_matches) Fail("FTS5 and Matches disagree");

  sqlite3_reset(d->remove);
  sqlite3_bind_int64(d->remove, 1, kInputRowid);
  if (sqlite3_step(d->remove) != SQLITE_DONE) Fail("delete");
  return 0;
}
