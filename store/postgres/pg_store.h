// PostgresStore: the Store on PostgreSQL (crashctl/store/postgres.h,
// docs/postgres.md "The Store"). Internal to store/postgres; OpenPostgres
// makes one.
//
// Thread-safety: every method is safe to call from any number of threads at
// once: each leases a Connection from the bounded Pool for its duration.
// Concurrent WriteEvents (also from several processes) are race-free: a
// batch locks its groups' rows (in a fixed order, so writers do not
// deadlock) before it reads or changes them.
#ifndef CRASHCTL_STORE_POSTGRES_PG_STORE_H_
#define CRASHCTL_STORE_POSTGRES_PG_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/connection.h"
#include "crashctl/store/pg/migrations.h"
#include "crashctl/store/pg/pool.h"
#include "crashctl/store/postgres.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace store {

struct ReleaseTally;  // session_writes.h

namespace pg {

// The schema, in order (pg_schema.cc).
const std::vector<Migration>& StoreMigrations();

// Fills linked_crashes of groups[0..count) (crash ids, newest first, at
// most kMaxLinks each) with one query (pg_store_crashes.cc).
Status LoadGroupLinks(Connection* conn, model::Group* groups, size_t count);

// Writes what `tally` adds to the release tables: releases first, then the
// session counters and users, each in key order (pg_store_sessions.cc).
Status WriteReleaseTally(Connection* conn, const ReleaseTally& tally);

// "project N not found", and kNotFound with it when there is no project
// `id` (pg_store.cc).
std::string ProjectNotFound(int64_t id);
Status CheckProject(Connection* conn, int64_t id);

class PostgresStore : public Store {
 public:
  explicit PostgresStore(const PostgresOptions& options);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // Connects once and applies the migrations (see OpenPostgres).
  Status Open();

  // --- projects and keys --------------------------------------------------
  Status CreateProject(const std::string& name, model::Project* out) override;
  Status ListProjects(std::vector<model::Project>* out) override;
  Status GetProject(int64_t id, model::Project* out) override;
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

  // --- events and groups --------------------------------------------------
  Status WriteEvents(const std::vector<model::WriteItem>& items,
                     std::vector<model::WriteOutcome>* outcomes) override;
  void PrepareWrite(model::WriteItem* item) const override;
  Status ListGroups(const GroupQuery& query,
                    model::Page<model::Group>* out) override;
  Status GetGroup(int64_t id, model::Group* out) override;
  Status SetGroupStatus(int64_t id, model::GroupStatus status,
                        model::Group* out) override;
  Status SetGroupsStatus(const std::vector<int64_t>& ids,
                         model::GroupStatus status,
                         std::vector<model::Group>* out) override;
  Status ListGroupEvents(int64_t group_id, int limit, const std::string& cursor,
                         model::Page<model::StoredEvent>* out) override;
  Status GetEvent(const std::string& event_id,
                  model::StoredEvent* out) override;
  Status ListEvents(const EventQuery& query,
                    model::Page<model::StoredEvent>* out) override;
  Status CountGroups(std::vector<model::GroupCount>* out) override;
  Status FindGroupsForPod(const std::string& pod, double from, double to,
                          std::vector<int64_t>* group_ids) override;

  // --- crashes (pg_store_crashes.cc) -------------------------------------
  Status UpsertCrash(const model::Crash& crash, int64_t* id,
                     bool* inserted) override;
  Status GetCrashByKey(const std::string& dedup_key,
                       model::Crash* out) override;
  Status GetCrash(int64_t id, model::Crash* out) override;
  Status ListCrashes(const CrashQuery& query,
                     model::Page<model::Crash>* out) override;
  Status LinkCrashGroup(int64_t crash_id, int64_t group_id) override;

  // --- transactions (pg_store_transactions.cc) ----------------------------
  Status WriteTransactions(
      const std::vector<model::StoredTransaction>& transactions,
      std::vector<bool>* stored) override;
  void PrepareTransactionWrite(model::StoredTransaction* item) const override;
  Status ListTransactions(const TransactionQuery& query,
                          model::Page<model::StoredTransaction>* out) override;
  Status TransactionSamples(const TransactionQuery& query, size_t max_rows,
                            std::vector<tracing::NamedSample>* out,
                            bool* truncated) override;
  Status GetTraceTransactions(
      const std::string& trace_id, size_t limit,
      std::vector<model::StoredTransaction>* out) override;
  Status ListTraceEvents(const std::string& trace_id, size_t limit,
                         std::vector<model::StoredEvent>* out) override;
  Status DeleteTransactionsOlderThan(double cutoff, int64_t* deleted) override;
  Status SaveTracingLabels(const std::string& json) override;
  Status LoadTracingLabels(std::string* json) override;

  // --- cron monitors (pg_store_monitors.cc) ------------------------------
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

  // --- release health (pg_store_sessions.cc) -----------------------------
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

  // --- attachments and feedback (pg_store_attachments.cc) ---------------
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

  // --- maintenance and health --------------------------------------------
  Status DeleteOlderThan(double cutoff, int64_t* deleted) override;
  Status DeleteOldestEvents(int64_t limit, int64_t* deleted) override;
  Status UsedBytes(int64_t* bytes) override;
  Status IntegrityCheck() override;
  Stats GetStats() override;
  Status HealthProbe() override;
  Status Maintain(Maintenance when) override;

 private:
  // Leases a connection and runs `body` on it (no transaction).
  Status WithConnection(const std::string& what,
                        const std::function<Status(Connection*)>& body);
  // Leases a connection and runs `body` in one transaction (retried on
  // serialization failures and deadlocks).
  Status InTransaction(const std::string& what,
                       const std::function<Status(Connection*)>& body);
  // Runs `sql` (a DELETE of at most kDeleteBatch rows, with `params`) until
  // it deletes fewer, each in its own statement, bounded; `*deleted` sums
  // them. On `conn` when given, else on a connection leased per statement.
  Status DeleteInBatches(const std::string& what, const std::string& sql,
                         const Params& params, int64_t* deleted,
                         Connection* conn = nullptr);
  // Runs `body` on a connection holding the session advisory lock of
  // retention, so that one replica at a time deletes (two would contend
  // for the same rows); when another holds it, skips `body` (logged) and
  // returns OK. The lock goes with the connection if it breaks.
  Status WithRetentionLock(const std::string& what,
                           const std::function<Status(Connection*)>& body);
  // Deletes the groups left without events whose last_seen is before
  // `cutoff` (every such group when `cutoff` is +inf), in bounded batches.
  Status DeleteEmptyGroups(double cutoff, int64_t* deleted,
                           Connection* conn = nullptr);

  // The feedback of `where` ($1; $2 is the limit), newest first.
  Status ListFeedbackWhere(const std::string& where, const Params& params,
                           std::vector<model::Feedback>* out);
  // Fills in the group of feedback rows whose event is stored (written at
  // the same moment by another writer, so neither saw the other), bounded.
  Status RepairFeedbackGroups(int64_t* repaired);
  // Deletes attachments and feedback older than `cutoff` whose event is not
  // stored, in bounded batches (on `conn`).
  Status DeleteOrphanItems(double cutoff, int64_t* deleted, Connection* conn);

  const PostgresOptions options_;
  std::unique_ptr<Pool> pool_;
  std::atomic<int64_t> size_bytes_{0};      // from the last UsedBytes()
  std::atomic<double> size_checked_at_{0};  // by Maintain(kIdle)
  std::atomic<double> repaired_at_{0};      // RepairFeedbackGroups, Maintain
};

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_POSTGRES_PG_STORE_H_
