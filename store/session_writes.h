// Release health writes shared by both stores (docs/release-health.md):
// the merge of one envelope's session updates into the stored records
// (releases::MergeSessionUpdate, eviction beyond sessions.max_open), and the
// tally of what that adds to the release tables, summed per row so that a
// store writes each row once and in key order (concurrent writers then lock
// rows in one order and do not deadlock). Also the cursor of ListReleases.
// Private to store/ (SQLite and PostgreSQL stores).
//
// Thread-safety: ReleaseTally is a plain value; MergeSessionWrite runs on
// the caller's thread inside the caller's open transaction.
#ifndef CRASHCTL_STORE_SESSION_WRITES_H_
#define CRASHCTL_STORE_SESSION_WRITES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "crashctl/model/write.h"
#include "crashctl/releases/sessions.h"
#include "crashctl/store/store.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

// Open sessions one update evicts at most (after sessions.max_open was
// lowered, the excess goes over several writes and the expiry passes).
constexpr int64_t kMaxEvictionsPerUpdate = 1000;

// What a transaction adds to the release tables.
struct ReleaseTally {
  // (project_id, release, environment)
  using ReleaseKey = std::tuple<int64_t, std::string, std::string>;
  // (project_id, release, environment, status name | distinct_id_hash)
  using RowKey = std::tuple<int64_t, std::string, std::string, std::string>;
  struct Touch {
    double first_seen = 0;
    double last_seen = 0;
    int64_t errors = 0;
    bool set = false;
    void Add(double first, double last, int64_t n);
  };
  std::map<RowKey, int64_t> sessions;   // release_sessions.count += n
  std::map<RowKey, bool> users;         // release_users, crashed
  std::map<ReleaseKey, Touch> touches;  // releases: seen, errors += n

  bool empty() const {
    return sessions.empty() && users.empty() && touches.empty();
  }
  // One count: its sessions, its user (crashed when it crashed) and the
  // release seen from its start until `now`. Nothing for quantity 0.
  void AddCount(const releases::SessionCount& count, double now);
  // The record's release seen from its start until `now`.
  void Seen(const releases::SessionRecord& record, double now);
  // The stored (not duplicate) error events of a batch with a release,
  // counted on their release at their timestamps.
  void AddEvents(const std::vector<model::WriteItem>& items,
                 const std::vector<model::WriteOutcome>& outcomes);
};

// The session records of one store, inside its open transaction.
class SessionRecords {
 public:
  virtual ~SessionRecords() = default;
  // The record of (project_id, sid), nullopt when none; a store with
  // several writers locks it until the transaction ends.
  virtual Status Load(int64_t project_id, const std::string& sid,
                      std::optional<releases::SessionRecord>* out) = 0;
  // How many records are open (as stored, before this transaction).
  virtual Status CountOpen(int64_t* out) = 0;
  // At most `limit` open records with the earliest deadlines (locked; a
  // store with several writers skips those another holds).
  virtual Status EarliestOpen(int64_t limit,
                              std::vector<releases::SessionRecord>* out) = 0;
  // Writes `record` (insert or replace), with its RecordDeadline.
  virtual Status Store(const releases::SessionRecord& record) = 0;
};

// Closes each of `closing` (open records) as abnormal for `reason`,
// writes it to `records`, and adds its count to `*tally` and `*applied`:
// evictions and the expiry pass. Stops at the first failed write.
Status CloseAbnormally(std::vector<releases::SessionRecord>* closing,
                       releases::SessionCount::Reason reason,
                       const releases::TrackerOptions& options, double now,
                       SessionRecords* records, ReleaseTally* tally,
                       std::vector<releases::SessionCount>* applied);

// Merges write.updates into `records` (eviction beyond options.max_open
// first), then takes write.aggregate_counts: `*tally` gets what to add,
// `*applied` every count in order, `*open_delta` the change in open records.
// On failure the caller rolls back.
Status MergeSessionWrite(const SessionWrite& write, SessionRecords* records,
                         ReleaseTally* tally,
                         std::vector<releases::SessionCount>* applied,
                         int64_t* open_delta);

// Gives `*applied` to `*counts` (may be null) when `status` is OK, else
// clears `*counts`: what WriteSessions and ExpireSessions report.
void HandOverCounts(const Status& status,
                    std::vector<releases::SessionCount>* applied,
                    std::vector<releases::SessionCount>* counts);

// ListReleases cursors: base64url of "releases|<first_seen %.17g>|<project>|
// <release>" (the keyset of ORDER BY first_seen DESC, project_id DESC,
// release DESC).
std::string EncodeReleaseCursor(double first_seen, int64_t project,
                                const std::string& release);
bool DecodeReleaseCursor(const std::string& text, double* first_seen,
                         int64_t* project, std::string* release);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_SESSION_WRITES_H_
