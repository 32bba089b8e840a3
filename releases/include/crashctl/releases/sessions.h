// Release health: Sentry `session` and `sessions` envelope items, the
// SessionTracker that turns session updates into one count per session, and
// the crash-free arithmetic of GET /api/v1/releases. docs/release-health.md.
//
// Contract:
// - Parsers never throw. Bad input returns Status::Invalid (or TooLarge) with
//   a one-line message naming the field, fit for a 400 answer; *out is then
//   unspecified. Rules follow Sentry's Relay: `attrs.release` is required
//   (<= 200 bytes, not ".", ".." or "latest", no '/', '\\' or control
//   characters); an invalid `environment` is dropped, not refused; `started`
//   and `timestamp` must lie within 5 days before and 60 s after `now` (after
//   clock-drift correction from the envelope's `sent_at`); `timestamp` before
//   `started` becomes `started`.
// - Times are Unix epoch seconds (double). Nothing here reads the clock:
//   `now` is always a parameter.
// - Memory is bounded: strings are capped (see the constants), an aggregates
//   item holds at most kMaxAggregates entries, a SessionTracker at most
//   max_open open sessions and max_closed closed ones.
//
// Thread-safety: the free functions are pure and reentrant. SessionTracker is
// not thread-safe: one owner, or a mutex around every call.
#ifndef CRASHCTL_RELEASES_SESSIONS_H_
#define CRASHCTL_RELEASES_SESSIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl::releases {

// Bounds (bytes). Longer values: release is refused, environment dropped, the
// others cut at a UTF-8 boundary.
inline constexpr size_t kMaxReleaseBytes = 200;
inline constexpr size_t kMaxEnvironmentBytes = 64;
inline constexpr size_t kMaxDistinctIdBytes = 256;
inline constexpr size_t kMaxUserAgentBytes = 512;
inline constexpr size_t kMaxIpAddressBytes = 64;
// A `session`/`sessions` payload larger than this is refused (TooLarge).
inline constexpr size_t kMaxSessionPayloadBytes = 1 << 20;
// Entries of one `sessions` item.
inline constexpr size_t kMaxAggregates = 10000;
// Relay's limits: sessions older than this are refused (max_session_secs_in_
// past), and so are times further than kMaxFutureSeconds ahead.
inline constexpr int64_t kDefaultMaxSessionAgeSeconds = 5 * 24 * 3600;
inline constexpr int64_t kMaxFutureSeconds = 60;
// Relay corrects client clocks only when they are off by at least this much.
inline constexpr int64_t kMinClockDriftSeconds = 55 * 60;

// A session's status as sent. `unhandled` (newer SDKs) reads as kErrored.
enum class SessionStatus { kOk, kExited, kCrashed, kAbnormal, kErrored };
// "ok", "exited", "crashed", "abnormal", "errored".
const char* SessionStatusName(SessionStatus status);

// What a finished session is counted as: the `status` label of
// crashctl_sessions_total. A session that exits with errors > 0 (or reports
// `errored`) is kErrored, as Sentry counts it.
enum class CountedStatus { kExited, kErrored, kCrashed, kAbnormal };
// "exited", "errored", "crashed", "abnormal".
const char* CountedStatusName(CountedStatus status);

struct SessionAttributes {
  std::string release;      // required, validated
  std::string environment;  // "" when absent or invalid
  std::string ip_address;   // as sent, cut; not for storage (privacy)
  std::string user_agent;   // as sent, cut
};

struct ParseOptions {
  double now = 0;  // when crashctl received the item
  // The envelope header's `sent_at`, when present: when the client clock
  // differs from `now` by kMinClockDriftSeconds or more, every time of the
  // item is shifted by (now - sent_at), as Relay does.
  std::optional<double> sent_at;
  int64_t max_age_seconds = kDefaultMaxSessionAgeSeconds;
};

// One `session` item.
struct SessionUpdate {
  // 32 lower-case hex digits (a UUID, dashes removed); "" when the payload
  // has none (allowed by Sentry for a session sent once, already ended).
  std::string sid;
  std::string distinct_id;  // `did` as sent ("" when absent), cut
  std::optional<uint64_t> seq;
  bool init = false;
  double started = 0;
  double timestamp = 0;  // `now` when absent
  std::optional<double> duration;
  SessionStatus status = SessionStatus::kOk;
  uint64_t errors = 0;  // forced to >= 1 for crashed sessions
  SessionAttributes attrs;
};

Status ParseSessionUpdate(std::string_view json, const ParseOptions& options,
                          SessionUpdate* out);

// One entry of a `sessions` (aggregates) item: sessions that already ended.
struct SessionAggregate {
  double started = 0;
  std::string distinct_id;  // "" when absent
  uint32_t exited = 0;      // exited without errors
  uint32_t errored = 0;     // exited with errors (and `unhandled`)
  uint32_t abnormal = 0;
  uint32_t crashed = 0;
};

struct SessionAggregates {
  std::vector<SessionAggregate> aggregates;
  SessionAttributes attrs;
  // Entries dropped because `started` was out of range (Relay drops those
  // one by one). When every entry is dropped the item is refused instead.
  size_t dropped_out_of_range = 0;
};

Status ParseSessionAggregates(std::string_view json,
                              const ParseOptions& options,
                              SessionAggregates* out);

// A hash of a distinct id, 32 lower-case hex digits (SHA-256, first 16
// bytes), "" for "". Crash-free users are counted by these, so no user id is
// kept in memory, exported state or the database.
std::string HashDistinctId(std::string_view distinct_id);

// One session to count: add 1 to crashctl_sessions_total{project, release,
// environment, status}, and record distinct_id_hash as a user of the release
// (crashed when status is kCrashed).
struct SessionCount {
  enum class Reason {
    kEnded,      // an update with a terminal status (or a sid-less update)
    kTimedOut,   // no update for idle_timeout, or older than max_age
    kEvicted,    // closed early: the tracker was full
    kAggregate,  // from a `sessions` item
  };
  int64_t project_id = 0;
  std::string release;
  std::string environment;
  CountedStatus status = CountedStatus::kExited;
  std::string distinct_id_hash;  // "" when the session had no did
  double started = 0;
  std::optional<double> duration;  // as last reported
  uint64_t quantity = 1;           // > 1 only for aggregates
  Reason reason = Reason::kEnded;
};

// The counts of a `sessions` item (one SessionCount per non-zero status of
// each entry). Pure.
std::vector<SessionCount> CountAggregates(int64_t project_id,
                                          const SessionAggregates& aggregates);

// The state of one session the tracker knows: open (not counted yet) or
// closed (counted; kept so that later updates of the sid are not counted
// again). What Export() returns and Import() takes; the integrator persists
// these rows, e.g. a table keyed by (project_id, sid).
struct SessionRecord {
  int64_t project_id = 0;
  std::string sid;               // 32 lower-case hex
  std::string distinct_id_hash;  // HashDistinctId(did), "" when none
  std::string release;
  std::string environment;
  double started = 0;
  double last_seen = 0;    // server time of the last applied update
  uint64_t order_key = 0;  // seq, else timestamp in ms, of that update
  uint64_t errors = 0;
  std::optional<double> duration;
  bool closed = false;
  // For closed records: when they are forgotten (started + max_age + 120 s,
  // after which Relay's age rule refuses every update of the sid anyway).
  double forget_at = 0;
};

struct TrackerOptions {
  size_t max_open = 100000;
  size_t max_closed = 100000;
  // An open session without an update for this long is closed as abnormal.
  double idle_timeout_seconds = 8 * 3600;
  // An open session whose `started` is older than this is closed as abnormal
  // (Relay refuses its updates from then on).
  double max_age_seconds = kDefaultMaxSessionAgeSeconds;
};

// The result of merging one update into what is known about its sid: the
// pure core of SessionTracker, for an integrator that keeps the records in a
// database (several replicas): read the record of (project, sid), call
// MergeSessionUpdate, write `record` (or nothing) and add `count` in one
// transaction.
struct MergeResult {
  enum class Action {
    kIgnore,  // nothing to write (duplicate, stale, or already counted)
    kStore,   // write `record` (open or closed)
  };
  Action action = Action::kIgnore;
  SessionRecord record;
  std::optional<SessionCount> count;
};

// Rules (docs/release-health.md, "Sessions: what is counted when"):
// - a terminal update (exited, crashed, abnormal, errored) of an open or
//   unknown sid counts it once, as its CountedStatus, and closes it;
// - any update of a closed sid is ignored;
// - a non-terminal (ok) update of an unknown sid opens it; of an open sid it
//   updates errors (never decreasing), duration and last_seen, unless it is
//   older (order key: seq, else timestamp) than the last applied one;
// - `init` is not trusted for counting (some SDKs send it on every update):
//   the sid decides;
// - release, environment, did and started are taken from the first update
//   seen (Sentry forbids changing them);
// - an update without sid is counted at once (exited/errored when ok), and
//   nothing is stored.
MergeResult MergeSessionUpdate(const std::optional<SessionRecord>& existing,
                               int64_t project_id, const SessionUpdate& update,
                               double now, const TrackerOptions& options);

// The count for an open record closed as abnormal (timeout or eviction), and
// the record turned closed. Pure.
SessionCount CloseAbnormal(SessionRecord* record, SessionCount::Reason reason,
                           const TrackerOptions& options);

// When an open record times out: min(last_seen + idle_timeout, started +
// max_age). For closed records: forget_at.
double RecordDeadline(const SessionRecord& record,
                      const TrackerOptions& options);

// In-memory sessions of one replica, bounded. Eviction: when max_open open
// sessions are known and a new one arrives, the open session with the
// earliest deadline (RecordDeadline) is closed as abnormal first (counted
// with Reason::kEvicted) and kept as a closed record; when max_closed closed
// records are known, the one forgotten soonest goes first (a later duplicate
// update of that sid would then be counted again).
class SessionTracker {
 public:
  explicit SessionTracker(const TrackerOptions& options = {});
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;
  ~SessionTracker();

  // Applies one parsed update; appends what to count to *counts (nothing,
  // the session itself, and/or sessions evicted to make room).
  void Apply(int64_t project_id, const SessionUpdate& update, double now,
             std::vector<SessionCount>* counts);

  // Closes the open sessions whose deadline is before `now` as abnormal and
  // forgets closed records past forget_at; appends the counts. Handles at
  // most `max_items` records per call (the rest waits for the next call),
  // so one call's work is bounded. Returns how many were handled.
  size_t Expire(double now, std::vector<SessionCount>* counts,
                size_t max_items = 10000);

  // Every record, open and closed, in no particular order.
  std::vector<SessionRecord> Export() const;

  struct ImportResult {
    size_t imported = 0;
    size_t skipped_invalid = 0;  // bad sid, empty release, duplicate key...
    std::vector<SessionCount> counts;  // open records evicted for room
  };
  // Adds records (e.g. those persisted by another run) to what is known;
  // records of a key already known are skipped. Records past their deadline
  // are closed by the next Expire(now).
  ImportResult Import(const std::vector<SessionRecord>& records, double now);

  size_t open_count() const;
  size_t closed_count() const;
  const TrackerOptions& options() const { return options_; }

 private:
  using Key = std::pair<int64_t, std::string>;
  using Deadline = std::pair<double, Key>;

  void Insert(SessionRecord record, std::vector<SessionCount>* counts);
  void Erase(std::map<Key, SessionRecord>::iterator it);
  void MakeRoomForOpen(std::vector<SessionCount>* counts);
  void MakeRoomForClosed();

  TrackerOptions options_;
  std::map<Key, SessionRecord> entries_;
  std::set<Deadline> open_by_deadline_;
  std::set<Deadline> closed_by_deadline_;
};

// Crash-free arithmetic for GET /api/v1/releases, over counts the integrator
// keeps per (project, release[, environment]).
struct ReleaseHealthCounts {
  uint64_t exited = 0;
  uint64_t errored = 0;
  uint64_t crashed = 0;
  uint64_t abnormal = 0;
  uint64_t users = 0;          // distinct distinct_id_hash values
  uint64_t crashed_users = 0;  // of those, users with a crashed session
};

struct ReleaseHealth {
  uint64_t sessions = 0;  // exited + errored + crashed + abnormal
  // 100 * (1 - crashed / sessions); std::nullopt when sessions == 0.
  std::optional<double> crash_free_sessions_percent;
  // 100 * (1 - crashed_users / users); std::nullopt when users == 0.
  std::optional<double> crash_free_users_percent;
  // 100 * exited / sessions: sessions without any error, crash or abnormal
  // end (Sentry's "healthy"); std::nullopt when sessions == 0.
  std::optional<double> healthy_sessions_percent;
};

// Pure. crashed_users is clamped to users. Abnormal sessions are not crashes
// (as in Sentry) but are not healthy either.
ReleaseHealth ComputeReleaseHealth(const ReleaseHealthCounts& counts);

}  // namespace crashctl::releases

#endif  // CRASHCTL_RELEASES_SESSIONS_H_
