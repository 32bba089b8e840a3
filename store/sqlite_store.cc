// SqliteStore: opening, the write and read transaction runners, projects and
// maintenance. Events and groups are in sqlite_store_events.cc, crashes in
// sqlite_store_crashes.cc.
#include "sqlite_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "crashctl/store/backup.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/util/time.h"
#include "migrations.h"
#include "rows.h"

namespace crashctl {
namespace store {
namespace {

// Retention: at most this many batches per table per call (with 5000 rows a
// batch, 500 million rows), and this many incremental-vacuum steps.
constexpr int kMaxDeleteBatches = 100000;
constexpr int kMaxVacuumSteps = 100;
constexpr int kVacuumPagesPerStep = 2000;

}  // namespace

std::unique_ptr<Store> OpenSqlite(const std::string& path, std::string* error) {
  return SqliteStore::Open(path, SqliteStore::Options(), error);
}

std::unique_ptr<Store> OpenSqliteForIngest(const std::string& path,
                                           std::string* error) {
  SqliteStore::Options options;
  options.group_fold_interval = std::chrono::seconds(1);
  return SqliteStore::Open(path, options, error);
}

SqliteStore::SqliteStore(std::string path, const Options& options)
    : path_(std::move(path)),
      options_(options),
      readers_(path_,
               SqliteDb::Options{options.busy_timeout_ms, /*query_only=*/true},
               options.read_connections, options.read_wait),
      checkpointer_(path_, SqliteDb::Options{options.busy_timeout_ms, false},
                    options.checkpoint),
      folds_(GroupFolds::Options{options.group_fold_interval}) {}

SqliteStore::~SqliteStore() {
  const Status folded = FlushGroupCounters();
  if (!folded.ok()) {
    // Recovered from the events at the next start.
    spdlog::warn("store: closing {}: {}", path_, folded.message());
  }
  checkpointer_.Stop();
  // Lets SQLite refresh planner statistics it found useful; cheap.
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writer_ != nullptr) {
    writer_->Exec("PRAGMA optimize", "optimize");
    // The hook points at checkpointer_, which goes before writer_ does.
    sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
  }
  if (ingest_lock_fd_ >= 0) close(ingest_lock_fd_);  // releases the lock
}

std::unique_ptr<SqliteStore> SqliteStore::Open(const std::string& path,
                                               const Options& options,
                                               std::string* error) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      *error = "create directory " + parent.string() + ": " + ec.message();
      return nullptr;
    }
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  if (options.group_fold_interval.count() > 0 && !store->LockForIngest(error)) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(store->write_mu_);
  Status status = store->EnsureWriter();
  if (status.ok()) status = ApplyMigrations(store->writer_.get());
  if (status.ok() && options.group_fold_interval.count() > 0) {
    status = store->RecoverGroupCounters();
  }
  if (!status.ok()) {
    *error = "open store " + path + ": " + status.message();
    return nullptr;
  }
  store->checkpointer_.Start();
  spdlog::debug("store: opened {} (schema version {})", path,
                LatestSchemaVersion());
  return store;
}

Status SqliteStore::EnsureWriter() {
  if (writer_ != nullptr) return Status::Ok();
  Status status;
  writer_ = SqliteDb::Open(
      path_, SqliteDb::Options{options_.busy_timeout_ms, false}, &status);
  // Checkpoints happen beside the commits, not inside them.
  if (writer_ != nullptr) checkpointer_.InstallOn(writer_->handle());
  return status;
}

bool SqliteStore::LockForIngest(std::string* error) {
  const std::string lock_path = IngestLockPath(path_);
  ingest_lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ingest_lock_fd_ < 0) {
    *error = "open " + lock_path + ": " + std::strerror(errno);
    return false;
  }
  if (flock(ingest_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = errno == EWOULDBLOCK
                 ? "another process ingests into " + path_ +
                       " (is crashctl serve already running on it?)"
                 : "lock " + lock_path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

Status SqliteStore::RecoverGroupCounters() {
  SqliteDb* db = writer_.get();
  Status status = db->Exec("BEGIN IMMEDIATE", "recover group counters");
  int64_t folded = 0;
  if (status.ok()) status = folds_.Recover(db, &folded);
  if (status.ok()) status = db->Exec("COMMIT", "recover group counters");
  if (!status.ok()) {
    db->RollbackIfOpen();
    return status;
  }
  if (folded > 0) {
    spdlog::info(
        "store: {} events of the last run were not in their groups' "
        "counters yet; added",
        folded);
  }
  return status;
}

Status SqliteStore::FlushGroupCounters() {
  if (folds_size_.load(std::memory_order_acquire) == 0) {
    return Status::Ok();
  }
  return Write(
      "write group counters",
      [this](SqliteDb* db) {
        return folds_.Write(db, {}, /*all=*/true, GroupFolds::Clock::now());
      },
      [this] { CommitFolds(); });
}

void SqliteStore::CommitFolds() {
  folds_.Commit();
  folds_size_.store(folds_.size(), std::memory_order_release);
}

void SqliteStore::FoldBeforeRead() {
  const Status status = FlushGroupCounters();
  if (!status.ok()) spdlog::warn("store: {}", status.message());
}

Status SqliteStore::Write(const std::string& what, const Body& body,
                          const std::function<void()>& committed) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // Bounded: one attempt plus max_busy_retries.
  for (int attempt = 0;; ++attempt) {
    Status status = EnsureWriter();
    if (!status.ok()) {
      return status.Annotate(what);
    }
    SqliteDb* db = writer_.get();
    db->ClearError();
    checkpointer_.CheckpointIfDue(db->handle());
    status = db->Exec("BEGIN IMMEDIATE", what + ": begin");
    if (status.ok()) status = body(db);
    if (status.ok()) status = db->Exec("COMMIT", what + ": commit");
    if (status.ok()) {
      if (committed) committed();
      return status;
    }

    int rc = db->last_rc();
    if (!db->RollbackIfOpen() || NeedsReopen(rc)) {
      // The connection may be in a bad state: start afresh next time.
      writer_.reset();
    }
    if (IsBusyCode(rc) && attempt < options_.max_busy_retries) {
      busy_retries_.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("store: {}: database busy, retry {}", what, attempt + 1);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(10 * (attempt + 1)));
      continue;
    }
    if (status.code() == Status::Code::kUnavailable) {
      spdlog::warn("store: {}", status.message());
    }
    return status;
  }
}

Status SqliteStore::Read(const std::string& what, const Body& body) {
  ReadPool::Lease lease;
  Status status = readers_.Acquire(&lease);
  if (!status.ok()) {
    return status.Annotate(what);
  }
  SqliteDb* db = lease.db();
  db->ClearError();
  status = db->Exec("BEGIN", what + ": begin");
  if (status.ok()) status = body(db);
  if (status.ok()) {
    status = db->Exec("COMMIT", what + ": commit");
  }
  if (!status.ok()) {
    if (!db->RollbackIfOpen() || NeedsReopen(db->last_rc())) lease.Discard();
  }
  return status;
}

Status SqliteStore::ExecOnWriter(const std::string& sql) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Status status = EnsureWriter();
  if (!status.ok()) return status;
  writer_->ClearError();
  return writer_->Exec(sql, "exec on writer");
}

// --- projects ---------------------------------------------------------------

Status SqliteStore::CreateProject(const std::string& name,
                                  model::Project* out) {
  const std::string invalid = model::ProjectNameError(name);
  if (!invalid.empty()) return MakeStatus(Status::Code::kInvalid, invalid);
  model::Project project;
  project.name = name;
  project.created_at = util::NowSeconds();
  Status status = RandomHexKey(&project.public_key, "create project");
  if (!status.ok()) return status;
  status = Write("create project", [&](SqliteDb* db) {
    Status st;
    SqliteStmt exists;
    if (!db->Prepare("SELECT 1 FROM projects WHERE name = ?1", &exists, &st)) {
      return st;
    }
    exists.Bind(1, name);
    int rc = exists.Step();
    if (rc == SQLITE_ROW) {
      return MakeStatus(Status::Code::kConflict,
                        "project '" + name + "' already exists");
    }
    if (rc != SQLITE_DONE) return db->LastStatus("create project: lookup");
    SqliteStmt insert;
    if (!db->Prepare("INSERT INTO projects (name, public_key, created_at) "
                     "VALUES (?1, ?2, ?3)",
                     &insert, &st)) {
      return st;
    }
    insert.Bind(1, name)
        .Bind(2, project.public_key)
        .Bind(3, project.created_at);
    if (insert.Run() != SQLITE_DONE) {
      return db->LastStatus("create project '" + name + "'");
    }
    project.id = db->LastInsertRowid();
    // Its first key (the DSN key ingest accepts).
    model::ProjectKey key;
    key.project_id = project.id;
    key.public_key = project.public_key;
    key.label = "Default";
    key.created_at = project.created_at;
    return InsertProjectKey(db, &key);
  });
  if (status.ok() && out != nullptr) *out = project;
  return status;
}

Status SqliteStore::ListProjects(std::vector<model::Project>* out) {
  std::vector<model::Project> projects;
  Status status = Read("list projects", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kProjectColumns +
                         " FROM projects ORDER BY id",
                     &stmt, &st)) {
      return st;
    }
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      projects.emplace_back();
      ReadProject(stmt, &projects.back());
    }
    if (rc != SQLITE_DONE) return db->LastStatus("list projects");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(projects);
  return status;
}

Status SqliteStore::GetProject(int64_t id, model::Project* out) {
  return Read("get project", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kProjectColumns +
                         " FROM projects WHERE id = ?1",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, id);
    st = StepToRow(db, &stmt, "get project",
                   "project " + std::to_string(id) + " not found");
    if (!st.ok()) return st;
    ReadProject(stmt, out);
    return Status::Ok();
  });
}

// --- maintenance ------------------------------------------------------------

template <typename Param>
Status SqliteStore::DeleteInBatches(const char* what, const char* sql,
                                    Param param, int64_t* count,
                                    int64_t max_rows) {
  const int batch = options_.delete_batch > 0 ? options_.delete_batch : 5000;
  int64_t done = 0;
  for (int i = 0; i < kMaxDeleteBatches && done < max_rows; ++i) {
    const int64_t want = std::min<int64_t>(batch, max_rows - done);
    int changes = 0;
    Status status = Write(what, [&](SqliteDb* db) {
      Status st;
      SqliteStmt stmt;
      if (!db->Prepare(sql, &stmt, &st)) return st;
      stmt.Bind(1, param).Bind(2, want);
      if (stmt.Run() != SQLITE_DONE) return db->LastStatus(what);
      changes = db->Changes();
      return Status::Ok();
    });
    if (!status.ok()) return status;
    done += changes;
    *count += changes;
    if (changes < want) break;
  }
  return Status::Ok();
}

// Also used by sqlite_store_attachments.cc.
template Status SqliteStore::DeleteInBatches<double>(const char*, const char*,
                                                     double, int64_t*, int64_t);

Status SqliteStore::DeleteHoursBefore(double cutoff) {
  // Group by group along the primary key (group_id, hour): each batch
  // costs the groups plus the rows it deletes, not a scan of every row.
  int64_t hours = 0;
  return DeleteInBatches(
      "retention: hourly counts",
      "DELETE FROM group_hours WHERE (group_id, hour) IN (SELECT h.group_id, "
      "h.hour FROM groups g JOIN group_hours h ON h.group_id = g.id "
      "AND h.hour < ?1 LIMIT ?2)",
      static_cast<int64_t>(std::floor(cutoff / 3600)), &hours);
}

void SqliteStore::VacuumFreePages() {
  for (int i = 0; i < kMaxVacuumSteps; ++i) {
    int64_t free_pages = 0;
    Status status = Write("retention: vacuum", [&](SqliteDb* db) {
      Status st = db->Exec("PRAGMA incremental_vacuum(" +
                               std::to_string(kVacuumPagesPerStep) + ")",
                           "incremental_vacuum");
      if (!st.ok()) return st;
      SqliteStmt stmt;
      if (!db->Prepare("PRAGMA freelist_count", &stmt, &st)) return st;
      if (stmt.Step() != SQLITE_ROW) return db->LastStatus("freelist_count");
      free_pages = stmt.Int(0);
      return Status::Ok();
    });
    if (!status.ok()) {
      spdlog::warn("store: {}", status.message());
      break;
    }
    if (free_pages == 0) break;
  }
}

void SqliteStore::CompactSearchIndexes() {
  for (const char* table : {"event_search", "group_search"}) {
    // A negative page count also merges segments of different levels (what
    // 'optimize' does, one bounded step at a time); a step that changed
    // fewer than 2 rows found nothing left to merge (the FTS5 manual).
    const std::string merge = std::string("INSERT INTO ") + table + "(" +
                              table + ", rank) VALUES ('merge', -" +
                              std::to_string(kVacuumPagesPerStep) + ")";
    for (int i = 0; i < kMaxVacuumSteps; ++i) {
      int64_t changed = 0;
      Status status = Write("retention: merge search index", [&](SqliteDb* db) {
        const int before = sqlite3_total_changes(db->handle());
        Status st = db->Exec(merge, table);
        changed = sqlite3_total_changes(db->handle()) - before;
        return st;
      });
      if (!status.ok()) {
        spdlog::warn("store: {}", status.message());
        break;
      }
      if (changed < 2) break;
    }
  }
}

Status SqliteStore::DeleteOlderThan(double cutoff, int64_t* deleted) {
  int64_t events = 0, groups = 0, crashes = 0;
  if (deleted != nullptr) *deleted = 0;
  // Each statement deletes at most one batch; every batch is its own
  // transaction so ingestion is never blocked for long.
  Status status = DeleteInBatches(
      "retention: events",
      "DELETE FROM events WHERE id IN (SELECT id FROM events "
      "WHERE timestamp < ?1 AND id < (SELECT max(id) FROM events) "
      "LIMIT ?2)",
      cutoff, &events);
  if (deleted != nullptr) *deleted = events;
  if (!status.ok()) return status;
  // A group's events all have timestamps <= last_seen, so only groups
  // with last_seen < cutoff can have been emptied. Links go by cascade.
  status = DeleteInBatches(
      "retention: groups",
      "DELETE FROM groups WHERE id IN (SELECT g.id FROM groups g "
      "WHERE g.last_seen < ?1 AND NOT EXISTS "
      "(SELECT 1 FROM events e WHERE e.group_id = g.id) LIMIT ?2)",
      cutoff, &groups);
  if (!status.ok()) return status;
  // Hourly counts of the whole hours before the cutoff (those of the
  // groups just deleted went by cascade, with their tag counts).
  status = DeleteHoursBefore(cutoff);
  if (!status.ok()) return status;
  status = DeleteInBatches("retention: crashes",
                           "DELETE FROM crashes WHERE id IN (SELECT id FROM "
                           "crashes WHERE updated_at < ?1 LIMIT ?2)",
                           cutoff, &crashes);
  if (!status.ok()) return status;
  // Cron monitor check-in rows (monitors themselves stay: their state).
  int64_t checkins = 0;
  status = DeleteInBatches("retention: monitor check-ins",
                           "DELETE FROM monitor_checkins WHERE id IN (SELECT "
                           "id FROM monitor_checkins WHERE received < ?1 "
                           "LIMIT ?2)",
                           static_cast<int64_t>(cutoff), &checkins);
  if (!status.ok()) return status;
  if (checkins > 0) {
    spdlog::info("store: retention deleted {} monitor check-ins", checkins);
  }
  // Attachments and feedback of the deleted events went with them
  // (triggers); those without an event go by age.
  int64_t orphans = 0;
  status = DeleteOrphanItems(cutoff, &orphans);
  if (!status.ok()) return status;
  // Releases not seen since the cutoff, with their session counters and
  // users (trigger releases_delete_counts).
  int64_t releases = 0;
  status = DeleteInBatches("retention: releases",
                           "DELETE FROM releases WHERE (project_id, release, "
                           "environment) IN (SELECT project_id, release, "
                           "environment FROM releases WHERE last_seen < ?1 "
                           "LIMIT ?2)",
                           cutoff, &releases);
  if (!status.ok()) return status;
  if (releases > 0) {
    spdlog::info("store: retention deleted {} releases not seen since {:.0f}",
                 releases, cutoff);
  }

  if (events + groups + crashes + orphans > 0) {
    VacuumFreePages();
    spdlog::info(
        "store: retention deleted {} events, {} groups, {} crashes older "
        "than {:.0f}",
        events, groups, crashes, cutoff);
  }
  return Status::Ok();
}

Status SqliteStore::DeleteTransactionsOlderThan(double cutoff,
                                                int64_t* deleted) {
  int64_t transactions = 0;
  // Spans are a column of their row: they go with it. The
  // transactions_timestamp index serves the selection.
  Status status = DeleteInBatches(
      "retention: transactions",
      "DELETE FROM transactions WHERE id IN (SELECT id FROM transactions "
      "WHERE timestamp < ?1 LIMIT ?2)",
      cutoff, &transactions);
  if (deleted != nullptr) *deleted = transactions;
  if (!status.ok()) return status;
  if (transactions > 0) {
    VacuumFreePages();
    spdlog::info("store: retention deleted {} transactions older than {:.0f}",
                 transactions, cutoff);
  }
  return Status::Ok();
}

Status SqliteStore::DeleteOldestEvents(int64_t limit, int64_t* deleted) {
  int64_t events = 0, groups = 0, crashes = 0;
  *deleted = 0;
  if (limit <= 0) return Status::Ok();
  // In batches of at most delete_batch rows, each its own transaction; the
  // last batch takes only what is left of `limit`; the newest event stays.
  // The events_timestamp index serves the ORDER BY. (These statements use
  // ?2 only; binding ?1 is harmless.)
  Status status =
      DeleteInBatches("size retention: events",
                      "DELETE FROM events WHERE id IN (SELECT id FROM events "
                      "WHERE id < (SELECT max(id) FROM events) "
                      "ORDER BY timestamp, id LIMIT ?2)",
                      int64_t{0}, &events, limit);
  *deleted = events;
  if (!status.ok() || events == 0) return status;
  // Emptied groups may have any last_seen (an old event can be the only one
  // of a group seen recently): look at every group, a batch at a time.
  // Links go by cascade.
  status = DeleteInBatches(
      "size retention: groups",
      "DELETE FROM groups WHERE id IN (SELECT g.id FROM groups g "
      "WHERE NOT EXISTS "
      "(SELECT 1 FROM events e WHERE e.group_id = g.id) LIMIT ?2)",
      int64_t{0}, &groups);
  if (!status.ok()) return status;
  // Crashes older than every event left go with them.
  status = DeleteInBatches(
      "size retention: crashes",
      "DELETE FROM crashes WHERE id IN (SELECT id FROM crashes WHERE "
      "updated_at < (SELECT min(timestamp) FROM events) "
      "LIMIT ?2)",
      0.0, &crashes);
  if (!status.ok()) return status;
  // Attachments and feedback of the deleted events went with them
  // (triggers); those without an event, older than every event left, too.
  double oldest = 0, oldest_timestamp = 0;
  status = Read("size retention: oldest event", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    // By `received` (crashctl's clock), as the orphans are compared: an
    // event's own timestamp may be far in the past.
    if (!db->Prepare("SELECT coalesce(min(received), 0), "
                     "coalesce(min(timestamp), 0) FROM events",
                     &stmt, &st)) {
      return st;
    }
    if (stmt.Step() != SQLITE_ROW) return db->LastStatus("oldest event");
    oldest = stmt.Double(0);
    oldest_timestamp = stmt.Double(1);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  // Hourly counts of the hours before the oldest event left.
  status = DeleteHoursBefore(oldest_timestamp);
  if (!status.ok()) return status;
  int64_t orphans = 0;
  status = DeleteOrphanItems(oldest, &orphans);
  if (!status.ok()) return status;
  CompactSearchIndexes();
  VacuumFreePages();
  spdlog::info(
      "store: size retention deleted the {} oldest events, {} groups, {} "
      "crashes",
      events, groups, crashes);
  return Status::Ok();
}

Status SqliteStore::UsedBytes(int64_t* bytes) {
  return Read("used bytes", [&](SqliteDb* db) {
    int64_t values[3] = {0, 0, 0};
    const char* pragmas[3] = {"PRAGMA page_count", "PRAGMA freelist_count",
                              "PRAGMA page_size"};
    for (int i = 0; i < 3; ++i) {
      Status st;
      SqliteStmt stmt;
      if (!db->Prepare(pragmas[i], &stmt, &st)) return st;
      if (stmt.Step() != SQLITE_ROW) return db->LastStatus(pragmas[i]);
      values[i] = stmt.Int(0);
    }
    *bytes = (values[0] - values[1]) * values[2];
    return Status::Ok();
  });
}

int64_t SqliteStore::SizeBytes() const {
  int64_t total = 0;
  for (const std::string& file : {path_, path_ + "-wal"}) {
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

Store::Stats SqliteStore::GetStats() {
  Stats stats;
  stats.size_bytes = SizeBytes();
  stats.write_retries = busy_retries_.load(std::memory_order_relaxed);
  stats.deferred_updates = folds_size_.load(std::memory_order_acquire);
  return stats;
}

Status SqliteStore::Maintain(Maintenance when) {
  if (when == Maintenance::kIdle) return FlushGroupCounters();
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writer_ != nullptr) checkpointer_.CheckpointIfDue(writer_->handle());
  return Status::Ok();
}

Status SqliteStore::HealthProbe() {
  return Write("probe write", [](SqliteDb* db) {
    // Rewrites the header's application_id with its own value: page 1 is
    // dirtied, so COMMIT appends a WAL frame and syncs it, as a real write
    // would; no data changes.
    Status st;
    int64_t id = 0;
    {
      SqliteStmt stmt;
      if (!db->Prepare("PRAGMA application_id", &stmt, &st)) return st;
      if (stmt.Step() != SQLITE_ROW) return db->LastStatus("probe write");
      id = stmt.Int(0);
    }
    return db->Exec("PRAGMA application_id=" + std::to_string(id),
                    "probe write");
  });
}

Status SqliteStore::IntegrityCheck() {
  return Read("integrity check", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("PRAGMA integrity_check(20)", &stmt, &st)) return st;
    std::string problems;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      std::string line = stmt.Text(0);
      if (line == "ok") continue;
      if (!problems.empty()) problems += "; ";
      problems += line;
    }
    if (rc != SQLITE_DONE) return db->LastStatus("integrity check");
    if (!problems.empty()) {
      return MakeStatus(Status::Code::kInternal,
                        "integrity check failed: " + problems);
    }
    return Status::Ok();
  });
}

}  // namespace store
}  // namespace crashctl
