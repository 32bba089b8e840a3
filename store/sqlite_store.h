// SqliteStore: the Store on one SQLite database file (see docs/storage.md).
//
// Writes go through one connection guarded by a mutex, each call in one
// IMMEDIATE transaction; SQLITE_BUSY (another process holding the write lock
// longer than the busy timeout) is retried a bounded number of times and
// counted. Reads use a bounded pool of query_only connections, each call in
// one read transaction (a consistent snapshot). After an I/O, disk-full or
// read-only error the transaction is rolled back (and the connection reopened
// after I/O errors), so the next call works once the condition clears.
//
// Thread-safety: every public method is safe to call from any thread.
#ifndef CRASHCTL_STORE_SQLITE_STORE_H_
#define CRASHCTL_STORE_SQLITE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crashctl/store/store.h"
#include "group_folds.h"
#include "read_pool.h"
#include "sqlite_db.h"
#include "wal_checkpointer.h"

namespace crashctl {
namespace store {

class SqliteStore : public Store {
 public:
  struct Options {
    int busy_timeout_ms = 5000;   // SQLite's own wait for a lock
    int max_busy_retries = 3;     // then the write fails with kUnavailable
    size_t read_connections = 4;  // read pool size
    std::chrono::milliseconds read_wait{10000};  // wait for a free reader
    int delete_batch = 5000;              // rows per retention transaction
    WalCheckpointer::Options checkpoint;  // WAL size that triggers one
    // How long group counters may wait in memory (GroupFolds); zero writes
    // them with every batch. Only the one process that ingests may defer
    // them: Open() then locks `<path>.ingest-lock` (a second such Open
    // fails) and recovers the counters a crash left unwritten.
    std::chrono::milliseconds group_fold_interval{0};
  };

  // Opens the database at `path` (creating its parent directory), applies
  // migrations. Returns null and sets `*error` on failure.
  static std::unique_ptr<SqliteStore> Open(const std::string& path,
                                           const Options& options,
                                           std::string* error);
  ~SqliteStore() override;

  Status CreateProject(const std::string& name, model::Project* out) override;
  Status ListProjects(std::vector<model::Project>* out) override;
  Status GetProject(int64_t id, model::Project* out) override;

  Status WriteEvents(const std::vector<model::WriteItem>& items,
                     std::vector<model::WriteOutcome>* outcomes) override;
  void PrepareWrite(model::WriteItem* item) const override;
  Status ListGroups(const GroupQuery& query,
                    model::Page<model::Group>* out) override;
  Status GetGroup(int64_t id, model::Group* out) override;
  Status SetGroupStatus(int64_t id, model::GroupStatus status,
                        model::Group* out) override;
  Status ListGroupEvents(int64_t group_id, int limit, const std::string& cursor,
                         model::Page<model::StoredEvent>* out) override;
  Status GetEvent(const std::string& event_id,
                  model::StoredEvent* out) override;
  Status ListGroupTraces(int64_t group_id, int max_events,
                         std::vector<std::string>* trace_ids) override;
  Status CountGroups(std::vector<model::GroupCount>* out) override;
  Status FindGroupsForPod(const std::string& pod, double from, double to,
                          std::vector<int64_t>* group_ids) override;

  Status UpsertCrash(const model::Crash& crash, int64_t* id,
                     bool* inserted) override;
  Status GetCrashByKey(const std::string& dedup_key,
                       model::Crash* out) override;
  Status GetCrash(int64_t id, model::Crash* out) override;
  Status ListCrashes(const CrashQuery& query,
                     model::Page<model::Crash>* out) override;
  Status LinkCrashGroup(int64_t crash_id, int64_t group_id) override;

  Status WriteTransactions(
      const std::vector<model::StoredTransaction>& transactions,
      std::vector<bool>* stored) override;
  void PrepareTransactionWrite(model::StoredTransaction* item) const override;
  Status ListTransactions(const TransactionQuery& query,
                          model::Page<model::StoredTransaction>* out) override;
  Status TransactionSamples(const TransactionQuery& query, size_t max_rows,
                            std::vector<tracing::NamedSample>* out,
                            bool* truncated) override;
  // Decodes at most 20,000 spans a call in all (a trace may hold 1,000
  // transactions of 1,000 spans): a transaction past that budget comes
  // without its spans, their number added to spans_cut.
  Status GetTraceTransactions(
      const std::string& trace_id, size_t limit,
      std::vector<model::StoredTransaction>* out) override;
  Status ListTraceEvents(const std::string& trace_id, size_t limit,
                         std::vector<model::StoredEvent>* out) override;
  Status DeleteTransactionsOlderThan(double cutoff, int64_t* deleted) override;
  Status SaveTracingLabels(const std::string& json) override;
  Status LoadTracingLabels(std::string* json) override;

  Status DeleteOlderThan(double cutoff, int64_t* deleted) override;
  Status DeleteOldestEvents(int64_t limit, int64_t* deleted) override;
  Status UsedBytes(int64_t* bytes) override;
  Status IntegrityCheck() override;
  Stats GetStats() override;
  Status HealthProbe() override;
  Status Maintain(Maintenance when) override;

  // --- release health (sessions; store/sqlite_store_sessions.cc) ---
  Status WriteSessions(const SessionWrite& write,
                       std::vector<releases::SessionCount>* counts) override;
  Status ExpireSessions(double now, const releases::TrackerOptions& options,
                        size_t max_items,
                        std::vector<releases::SessionCount>* counts,
                        size_t* handled) override;
  Status ListReleases(const ReleaseQuery& query,
                      model::Page<model::ReleaseSummary>* out) override;
  Status RecentReleases(
      size_t per_project,
      std::vector<std::pair<int64_t, std::string>>* out) override;
  // --- cron monitors (monitors helper; sqlite_store_monitors.cc) ---------
  Status ApplyCheckIn(int64_t project_id, const releases::CheckIn& check_in,
                      int64_t now, size_t max_monitors_per_project,
                      MonitorUpdate* out) override;
  Status TickMonitors(int64_t now, size_t max_monitors,
                      std::vector<MonitorUpdate>* out) override;
  Status NextMonitorDeadline(std::optional<int64_t>* out) override;
  Status ListMonitors(const MonitorQuery& query,
                      model::Page<model::Monitor>* out) override;
  Status GetMonitor(int64_t id, model::Monitor* out) override;
  Status ListMonitorCheckIns(int64_t monitor_id, int limit,
                             const std::string& cursor,
                             model::Page<model::MonitorCheckIn>* out) override;
  // --- attachments and feedback (ingest, sqlite_store_attachments.cc) ----
  // Bytes are written in chunks with sqlite3_blob_write, from `data` or the
  // spool file (attachment_bytes.h); at most kMaxAttachmentBytes each,
  // kMaxAttachmentsPerEvent listed.
  Status WriteAttachments(
      const std::vector<model::Attachment>& attachments) override;
  Status ListAttachments(const std::string& event_id,
                         std::vector<model::Attachment>* out) override;
  Status GetAttachment(const std::string& event_id,
                       const std::string& attachment_id,
                       model::Attachment* out) override;
  Status WriteFeedback(const std::vector<model::Feedback>& feedback) override;
  Status ListEventFeedback(const std::string& event_id, size_t limit,
                           std::vector<model::Feedback>* out) override;
  Status ListGroupFeedback(int64_t group_id, size_t limit,
                           std::vector<model::Feedback>* out) override;

  // --- search, stats, tags (issue 19; sqlite_store_search.cc) -----------
  Status ListEvents(const EventQuery& query,
                    model::Page<model::StoredEvent>* out) override;
  Status GroupStats(const StatsQuery& query,
                    std::vector<model::StatBucket>* out) override;
  Status GroupTags(int64_t group_id, size_t top,
                   std::vector<model::TagSummary>* out) override;
  // --- bulk changes, merge, deletes (sqlite_store_admin.cc); keys and
  // project deletes (sqlite_store_keys.cc) --------------------------------
  Status SetGroupsStatus(const std::vector<int64_t>& ids,
                         model::GroupStatus status,
                         std::vector<model::Group>* out) override;
  Status MergeGroups(int64_t into, const std::vector<int64_t>& from,
                     model::Group* out) override;
  Status DeleteGroup(int64_t id) override;
  Status DeleteEvents(const EventDeletion& which, int64_t* deleted) override;
  Status DeleteProject(int64_t id) override;
  Status ListKeys(int64_t project_id,
                  std::vector<model::ProjectKey>* out) override;
  Status ListAllKeys(std::vector<model::ProjectKey>* out) override;
  Status CreateKey(int64_t project_id, const std::string& label,
                   int64_t rate_limit_per_minute,
                   model::ProjectKey* out) override;
  Status UpdateKey(int64_t project_id, int64_t key_id, const KeyUpdate& update,
                   model::ProjectKey* out) override;
  Status DeleteKey(int64_t project_id, int64_t key_id) override;

  // Size of the database files (main + WAL) in bytes.
  int64_t SizeBytes() const;
  // Writes the group counters GroupFolds holds (Maintain(kIdle)).
  Status FlushGroupCounters();

  // Runs `sql` on the write connection (outside any transaction). For tests
  // and maintenance: e.g. "PRAGMA max_page_count=N" to simulate a full disk,
  // "PRAGMA query_only=ON" to simulate a read-only database.
  Status ExecOnWriter(const std::string& sql);

  const std::string& path() const { return path_; }

 private:
  using Body = std::function<Status(SqliteDb*)>;

  SqliteStore(std::string path, const Options& options);

  // Runs `body` in BEGIN IMMEDIATE ... COMMIT on the write connection,
  // retrying on SQLITE_BUSY; rolls back on any failure. `committed`, if
  // set, runs under the write mutex once the transaction has committed.
  Status Write(const std::string& what, const Body& body,
               const std::function<void()>& committed = nullptr);
  // Takes an exclusive lock on `<path>.ingest-lock` for the store's
  // lifetime: one process may defer (and recover) group counters.
  bool LockForIngest(std::string* error);
  // After a transaction that wrote folds_ committed. Needs write_mu_.
  void CommitFolds();
  // Folds what a crash left out of the group counters. Needs write_mu_.
  Status RecoverGroupCounters();
  // Writes the group counters GroupFolds holds, if any, before a read of
  // groups; a failure is logged and the read goes on (slightly stale).
  void FoldBeforeRead();
  // Runs `body` in a read transaction on a pooled read connection.
  Status Read(const std::string& what, const Body& body);
  // Runs `sql` (binding ?1 = `param` and ?2 = the rows this batch may
  // delete: the delete batch size, less near `max_rows`) in one write
  // transaction per batch until a batch deletes fewer rows than it may or
  // `max_rows` are gone; adds the rows deleted to `*count`. Bounded.
  template <typename Param>
  Status DeleteInBatches(
      const char* what, const char* sql, Param param, int64_t* count,
      int64_t max_rows = std::numeric_limits<int64_t>::max());
  // Retention of group_hours: deletes the rows of the whole hours before
  // the one `cutoff` (epoch seconds) is in, in batches.
  Status DeleteHoursBefore(double cutoff);
  // Gives pages freed by deletes back to the file system (incremental
  // auto-vacuum), in bounded steps; failures are logged, not returned.
  void VacuumFreePages();
  // Merges the segments of the full-text indexes (event_search,
  // group_search) in bounded steps: FTS5 records a delete as a marker in a
  // new segment, so the space of deleted events comes back only when their
  // segments are merged. Failures are logged, not returned.
  void CompactSearchIndexes();
  // Inside WriteEvents' transaction: one upsert per distinct (project,
  // release, environment) of the batch's stored events into `releases`
  // (errors, first/last seen). store/sqlite_store_sessions.cc.
  static Status CountReleaseEvents(
      SqliteDb* db, const std::vector<model::WriteItem>& items,
      const std::vector<model::WriteOutcome>& outcomes);
  // Group changes and deletes (sqlite_store_admin.cc). Deletes events in
  // batches of options_.delete_batch, each batch its own write transaction
  // that first folds every pending group counter: `select` picks at most
  // `limit` event row ids (fewer: the last batch), `before` runs on them
  // (a JSON array of the ids) before they are deleted, `after` once they
  // are (`last`: in the last batch). Either may be null. Bounded: at most
  // kMaxDeleteBatches batches. `*count` += events deleted. `max_batch` > 0
  // makes the batches at most that large.
  using SelectEvents =
      std::function<Status(SqliteDb*, int limit, std::vector<int64_t>* ids)>;
  using BeforeDelete =
      std::function<Status(SqliteDb*, const std::string& json_ids)>;
  using AfterDelete = std::function<Status(SqliteDb*, bool last)>;
  Status DeleteEventBatches(const std::string& what, const SelectEvents& select,
                            const BeforeDelete& before,
                            const AfterDelete& after, int64_t* count,
                            int max_batch = 0);
  // Opens the write connection if it is closed. Needs write_mu_.
  Status EnsureWriter();
  // Retention of attachments and feedback whose event is gone or never came
  // (those of deleted events go by trigger): deletes those received before
  // `cutoff`, in batches (sqlite_store_attachments.cc).
  Status DeleteOrphanItems(double cutoff, int64_t* deleted);
  struct Key {
    std::string text;  // bound when not empty
    int64_t number = 0;
  };
  Status ListFeedbackWhere(const char* where, const Key& key, size_t limit,
                           std::vector<model::Feedback>* out);

  const std::string path_;
  const Options options_;
  std::mutex write_mu_;
  std::unique_ptr<SqliteDb> writer_;  // guarded by write_mu_
  ReadPool readers_;
  WalCheckpointer checkpointer_;
  GroupFolds folds_;                   // guarded by write_mu_
  std::atomic<size_t> folds_size_{0};  // folds_.size(), read unlocked
  int ingest_lock_fd_ = -1;
  std::atomic<int64_t> busy_retries_{0};
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_SQLITE_STORE_H_
