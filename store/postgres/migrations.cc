#include "crashctl/store/pg/migrations.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace crashctl {
namespace store {
namespace pg {
namespace {

// Statements as upper-case words; literals, quoted identifiers, comments
// and dollar-quoted bodies are left out (a quoted identifier becomes "\"").
std::vector<std::vector<std::string>> Words(std::string_view sql) {
  std::vector<std::vector<std::string>> statements(1);
  const size_t n = sql.size();
  size_t i = 0;
  auto is_word_start = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  auto is_word_char = [&](char c) {
    return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
  };
  while (i < n) {
    char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 0;
      while (i < n) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '\'') {
      // E'...' strings take backslash escapes.
      bool escapes = !statements.back().empty() && i > 0 &&
                     (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                     statements.back().back() == "E";
      if (escapes) statements.back().pop_back();
      ++i;
      while (i < n) {
        if (escapes && sql[i] == '\\') {
          i += 2;
        } else if (sql[i] == '\'') {
          if (i + 1 < n && sql[i + 1] == '\'') {
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          ++i;
        }
      }
    } else if (c == '"') {
      ++i;
      while (i < n) {
        if (sql[i] == '"') {
          if (i + 1 < n && sql[i + 1] == '"') {
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          ++i;
        }
      }
      statements.back().push_back("\"");
    } else if (c == '$' && i + 1 < n &&
               (sql[i + 1] == '$' || is_word_start(sql[i + 1]))) {
      size_t end = i + 1;
      while (end < n && sql[end] != '$' && is_word_char(sql[end])) ++end;
      if (end < n && sql[end] == '$') {
        std::string_view tag = sql.substr(i, end - i + 1);
        size_t close = sql.find(tag, end + 1);
        i = close == std::string_view::npos ? n : close + tag.size();
      } else {
        i = end;
      }
    } else if (is_word_start(c)) {
      size_t start = i;
      while (i < n && is_word_char(sql[i])) ++i;
      std::string word(sql.substr(start, i - start));
      for (char& ch : word) {
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
      }
      statements.back().push_back(std::move(word));
    } else if (c == ';') {
      if (!statements.back().empty()) statements.emplace_back();
      ++i;
    } else {
      ++i;
    }
  }
  if (statements.back().empty()) statements.pop_back();
  return statements;
}

// "" or the reason a statement cannot run inside the runner's transaction.
std::string TransactionProblem(const std::vector<std::string>& words) {
  static const std::set<std::string> kControl = {
      "BEGIN", "COMMIT",    "ROLLBACK", "END",   "START",
      "ABORT", "SAVEPOINT", "RELEASE",  "VACUUM"};
  if (words.empty()) return std::string();
  if (kControl.count(words[0])) return words[0] + " statement";
  if (words[0] == "PREPARE" && words.size() > 1 && words[1] == "TRANSACTION") {
    return "PREPARE TRANSACTION";
  }
  if (std::find(words.begin(), words.end(), "CONCURRENTLY") != words.end()) {
    return "CONCURRENTLY (cannot run inside a transaction)";
  }
  if (words.size() > 1 && (words[0] == "CREATE" || words[0] == "ALTER") &&
      (words[1] == "DATABASE" || words[1] == "SYSTEM")) {
    return words[0] + " " + words[1];
  }
  return std::string();
}

std::string Checksum(std::string_view sql) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : sql) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(hash));
  return buf;
}

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version bigint PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

// Versions and checksums recorded; an absent table records nothing.
Status ReadRecorded(Connection* conn, std::map<int64_t, std::string>* out) {
  out->clear();
  Result exists;
  Status st = conn->Exec("SELECT to_regclass('schema_migrations') IS NOT NULL",
                         &exists);
  if (!st.ok()) return st;
  bool present = false;
  st = exists.Bool(0, 0, &present);
  if (!st.ok() || !present) return st;
  Result rows;
  st = conn->Exec("SELECT version, checksum FROM schema_migrations", &rows);
  if (!st.ok()) return st;
  for (int r = 0; r < rows.rows(); ++r) {
    int64_t version = 0;
    st = rows.Int(r, 0, &version);
    if (!st.ok()) return st;
    (*out)[version] = rows.Text(r, 1);
  }
  return Status::Ok();
}

void Summarise(const std::vector<Migration>& migrations,
               const std::map<int64_t, std::string>& recorded,
               MigrateReport* report) {
  std::map<int64_t, const Migration*> known;
  for (const Migration& m : migrations) known[m.version] = &m;
  report->database_version = recorded.empty() ? 0 : recorded.rbegin()->first;
  report->database_newer = false;
  report->warnings.clear();
  for (const auto& [version, checksum] : recorded) {
    auto it = known.find(version);
    if (it == known.end()) {
      report->database_newer = true;
      continue;
    }
    if (checksum != Checksum(it->second->sql)) {
      report->warnings.push_back(
          "migration " + std::to_string(version) + " (" + it->second->name +
          ") was recorded with another checksum: a released migration was "
          "edited");
    }
  }
}

}  // namespace

std::string ContractViolation(std::string_view sql) {
  for (const std::vector<std::string>& w : Words(sql)) {
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string& word = w[i];
      if (word == "DROP" || word == "RENAME" || word == "TRUNCATE") return word;
      if (word == "DELETE" && i + 1 < w.size() && w[i + 1] == "FROM") {
        return "DELETE FROM";
      }
      if (word == "SET" && i + 2 < w.size() && w[i + 1] == "NOT" &&
          w[i + 2] == "NULL") {
        return "SET NOT NULL";
      }
      if (word == "ALTER" && i > 0) {
        size_t j = i + 1;
        if (j < w.size() && w[j] == "COLUMN") ++j;
        ++j;  // the column's name
        if (j < w.size() && w[j] == "TYPE") return "ALTER COLUMN ... TYPE";
        if (j + 2 < w.size() && w[j] == "SET" && w[j + 1] == "DATA" &&
            w[j + 2] == "TYPE") {
          return "ALTER COLUMN ... SET DATA TYPE";
        }
      }
    }
  }
  return std::string();
}

Status ValidateMigrations(const std::vector<Migration>& migrations) {
  int64_t previous = 0;
  for (const Migration& m : migrations) {
    std::string what =
        "migration " + std::to_string(m.version) + " (" + m.name + ")";
    if (m.version <= previous) {
      return Status::Invalid(what +
                             ": versions must be positive and "
                             "strictly increasing (previous " +
                             std::to_string(previous) + ")");
    }
    previous = m.version;
    if (m.name.empty()) return Status::Invalid(what + ": no name");
    auto statements = Words(m.sql);
    if (statements.empty()) return Status::Invalid(what + ": no SQL");
    for (const auto& words : statements) {
      std::string problem = TransactionProblem(words);
      if (!problem.empty()) {
        return Status::Invalid(what + ": " + problem +
                               " (each migration runs inside one transaction "
                               "of the runner)");
      }
    }
    if (!m.contract) {
      std::string violation = ContractViolation(m.sql);
      if (!violation.empty()) {
        return Status::Invalid(
            what + ": " + violation +
            " in an expand-only migration: removing or changing what a "
            "running older release uses waits for a later release (mark it "
            "contract)");
      }
    }
  }
  return Status::Ok();
}

Status ApplyMigrations(Connection* conn,
                       const std::vector<Migration>& migrations,
                       const MigrateOptions& options, MigrateReport* report) {
  MigrateReport local;
  if (report == nullptr) report = &local;
  *report = MigrateReport();
  Status st = ValidateMigrations(migrations);
  if (!st.ok()) return st;

  std::map<int64_t, std::string> recorded;
  st = ReadRecorded(conn, &recorded);
  if (!st.ok()) return st.Annotate("read schema_migrations");
  bool pending = false;
  for (const Migration& m : migrations) {
    if (!recorded.count(m.version)) pending = true;
  }
  if (!pending) {
    Summarise(migrations, recorded, report);
    for (const std::string& warning : report->warnings) {
      spdlog::warn("postgres: {}", warning);
    }
    return Status::Ok();
  }

  const int saved_timeout = conn->query_timeout_ms();
  conn->set_query_timeout_ms(
      std::max(options.lock_timeout_ms, options.statement_timeout_ms) + 10000);
  for (const Migration& m : migrations) {
    if (recorded.count(m.version)) continue;
    std::string what =
        "migration " + std::to_string(m.version) + " (" + m.name + ")";
    bool skipped = false;
    st = conn->Begin();
    if (st.ok()) {
      st = conn->Exec("SET LOCAL lock_timeout = " +
                      std::to_string(std::max(0, options.lock_timeout_ms)));
    }
    if (st.ok()) {
      st = conn->Exec("SELECT pg_advisory_xact_lock($1)",
                      Params().Int(options.lock_key));
    }
    if (st.ok()) st = conn->ExecScript(kCreateTable);
    if (st.ok()) {
      Result row;
      st = conn->Exec("SELECT 1 FROM schema_migrations WHERE version = $1",
                      Params().Int(m.version), &row);
      skipped = st.ok() && row.rows() > 0;
    }
    if (st.ok() && !skipped) {
      st =
          conn->Exec("SET LOCAL statement_timeout = " +
                     std::to_string(std::max(0, options.statement_timeout_ms)));
    }
    if (st.ok() && !skipped) st = conn->ExecScript(m.sql);
    if (st.ok() && !skipped) {
      st = conn->Exec(
          "INSERT INTO schema_migrations (version, name, checksum) "
          "VALUES ($1, $2, $3)",
          Params().Int(m.version).Text(m.name).Text(Checksum(m.sql)));
    }
    if (st.ok()) st = skipped ? conn->Rollback() : conn->Commit();
    if (!st.ok()) {
      conn->Rollback();
      conn->set_query_timeout_ms(saved_timeout);
      return st.Annotate(what);
    }
    if (skipped) {
      spdlog::info("postgres: {} was applied by another process", what);
    } else {
      spdlog::info("postgres: applied schema {}", what);
      report->applied.push_back(m.version);
    }
  }
  conn->set_query_timeout_ms(saved_timeout);
  st = ReadRecorded(conn, &recorded);
  if (!st.ok()) return st.Annotate("read schema_migrations");
  Summarise(migrations, recorded, report);
  for (const std::string& warning : report->warnings) {
    spdlog::warn("postgres: {}", warning);
  }
  return Status::Ok();
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
