// MergeSessionUpdate (the counting rules) and SessionTracker (a bounded
// in-memory table of SessionRecords indexed by deadline).
#include <algorithm>
#include <cmath>
#include <limits>

#include "crashctl/releases/sessions.h"
#include "crashctl/util/strings.h"
#include "json_util.h"

namespace crashctl::releases {
namespace {

// Closed records outlive the last moment Relay's age rule lets an update of
// the sid through (started + max_age, plus the 60 s of future tolerance).
constexpr double kForgetSlackSeconds = 120;

uint64_t OrderKey(const SessionUpdate& u) {
  if (u.seq) return *u.seq;
  const double ms = std::floor(u.timestamp * 1000.0);
  if (!(ms > 0)) return 0;
  if (ms >= 18446744073709551615.0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(ms);
}

CountedStatus Counted(SessionStatus status, uint64_t errors) {
  switch (status) {
    case SessionStatus::kCrashed:
      return CountedStatus::kCrashed;
    case SessionStatus::kAbnormal:
      return CountedStatus::kAbnormal;
    case SessionStatus::kErrored:
      return CountedStatus::kErrored;
    case SessionStatus::kOk:
    case SessionStatus::kExited:
      break;
  }
  return errors > 0 ? CountedStatus::kErrored : CountedStatus::kExited;
}

SessionCount CountOf(const SessionRecord& r, CountedStatus status,
                     SessionCount::Reason reason) {
  SessionCount c;
  c.project_id = r.project_id;
  c.release = r.release;
  c.environment = r.environment;
  c.status = status;
  c.distinct_id_hash = r.distinct_id_hash;
  c.started = r.started;
  c.duration = r.duration;
  c.reason = reason;
  return c;
}

void Close(SessionRecord* r, const TrackerOptions& options) {
  r->closed = true;
  r->forget_at = r->started + options.max_age_seconds + kForgetSlackSeconds;
}

// `update` ends the session `r`: its count, then `r` closed.
SessionCount End(SessionRecord* r, const SessionUpdate& update,
                 const TrackerOptions& options) {
  SessionCount c = CountOf(*r, Counted(update.status, r->errors),
                           SessionCount::Reason::kEnded);
  Close(r, options);
  return c;
}

bool ValidRecord(const SessionRecord& r) {
  auto finite = [](double d) { return std::isfinite(d); };
  return util::IsLowerHex(r.sid, 32) &&
         (r.distinct_id_hash.empty() ||
          util::IsLowerHex(r.distinct_id_hash, 32)) &&
         internal::ReleaseProblem(r.release).empty() &&
         internal::EnvironmentProblem(r.environment).empty() &&
         finite(r.started) && finite(r.last_seen) && finite(r.forget_at) &&
         (!r.duration || finite(*r.duration));
}

}  // namespace

MergeResult MergeSessionUpdate(const std::optional<SessionRecord>& existing,
                               int64_t project_id, const SessionUpdate& update,
                               double now, const TrackerOptions& options) {
  MergeResult result;
  const bool terminal = update.status != SessionStatus::kOk;
  if (existing && existing->closed) return result;  // counted already

  if (!existing) {
    SessionRecord r;
    r.project_id = project_id;
    r.sid = update.sid;
    r.distinct_id_hash = HashDistinctId(update.distinct_id);
    r.release = update.attrs.release;
    r.environment = update.attrs.environment;
    r.started = update.started;
    r.last_seen = now;
    r.order_key = OrderKey(update);
    r.errors = update.errors;
    r.duration = update.duration;
    if (update.sid.empty()) {
      // Nothing can ever update a session without sid: it is final as sent.
      result.count = CountOf(r, Counted(update.status, r.errors),
                             SessionCount::Reason::kEnded);
      return result;
    }
    if (terminal) result.count = End(&r, update, options);
    result.action = MergeResult::Action::kStore;
    result.record = std::move(r);
    return result;
  }

  SessionRecord r = *existing;
  const uint64_t key = OrderKey(update);
  const bool stale = key < r.order_key;
  // An older ok update (reordered on the network) carries nothing new; an
  // end is never dropped, whatever its order.
  if (stale && !terminal) return result;
  r.errors = std::max(r.errors, update.errors);
  if (!stale) r.order_key = key;
  if (update.duration && (!stale || terminal)) r.duration = update.duration;
  r.last_seen = std::max(r.last_seen, now);
  if (terminal) result.count = End(&r, update, options);
  result.action = MergeResult::Action::kStore;
  result.record = std::move(r);
  return result;
}

SessionCount CloseAbnormal(SessionRecord* record, SessionCount::Reason reason,
                           const TrackerOptions& options) {
  SessionCount c = CountOf(*record, CountedStatus::kAbnormal, reason);
  Close(record, options);
  return c;
}

double RecordDeadline(const SessionRecord& record,
                      const TrackerOptions& options) {
  if (record.closed) return record.forget_at;
  return std::min(record.last_seen + options.idle_timeout_seconds,
                  record.started + options.max_age_seconds);
}

SessionTracker::SessionTracker(const TrackerOptions& options)
    : options_(options) {
  options_.max_open = std::max<size_t>(options_.max_open, 1);
  options_.max_closed = std::max<size_t>(options_.max_closed, 1);
}

SessionTracker::~SessionTracker() = default;

size_t SessionTracker::open_count() const { return open_by_deadline_.size(); }

size_t SessionTracker::closed_count() const {
  return closed_by_deadline_.size();
}

void SessionTracker::Erase(std::map<Key, SessionRecord>::iterator it) {
  const Deadline d{RecordDeadline(it->second, options_), it->first};
  (it->second.closed ? closed_by_deadline_ : open_by_deadline_).erase(d);
  entries_.erase(it);
}

void SessionTracker::MakeRoomForClosed() {
  while (closed_by_deadline_.size() >= options_.max_closed) {
    const Key key = closed_by_deadline_.begin()->second;
    Erase(entries_.find(key));
  }
}

void SessionTracker::MakeRoomForOpen(std::vector<SessionCount>* counts) {
  while (open_by_deadline_.size() >= options_.max_open) {
    const Key key = open_by_deadline_.begin()->second;
    auto it = entries_.find(key);
    SessionRecord record = it->second;
    Erase(it);
    counts->push_back(
        CloseAbnormal(&record, SessionCount::Reason::kEvicted, options_));
    Insert(std::move(record), counts);
  }
}

void SessionTracker::Insert(SessionRecord record,
                            std::vector<SessionCount>* counts) {
  if (record.closed) {
    MakeRoomForClosed();
  } else {
    MakeRoomForOpen(counts);
  }
  Key key{record.project_id, record.sid};
  const double deadline = RecordDeadline(record, options_);
  (record.closed ? closed_by_deadline_ : open_by_deadline_)
      .emplace(deadline, key);
  entries_.emplace(std::move(key), std::move(record));
}

void SessionTracker::Apply(int64_t project_id, const SessionUpdate& update,
                           double now, std::vector<SessionCount>* counts) {
  std::optional<SessionRecord> existing;
  auto it = entries_.end();
  if (!update.sid.empty()) {
    it = entries_.find(Key{project_id, update.sid});
    if (it != entries_.end()) existing = it->second;
  }
  MergeResult merged =
      MergeSessionUpdate(existing, project_id, update, now, options_);
  if (merged.action == MergeResult::Action::kStore) {
    if (it != entries_.end()) Erase(it);
    Insert(std::move(merged.record), counts);
  }
  if (merged.count) counts->push_back(std::move(*merged.count));
}

size_t SessionTracker::Expire(double now, std::vector<SessionCount>* counts,
                              size_t max_items) {
  size_t handled = 0;
  while (handled < max_items && !open_by_deadline_.empty() &&
         open_by_deadline_.begin()->first < now) {
    const Key key = open_by_deadline_.begin()->second;
    auto it = entries_.find(key);
    SessionRecord record = it->second;
    Erase(it);
    counts->push_back(
        CloseAbnormal(&record, SessionCount::Reason::kTimedOut, options_));
    Insert(std::move(record), counts);
    ++handled;
  }
  while (handled < max_items && !closed_by_deadline_.empty() &&
         closed_by_deadline_.begin()->first < now) {
    const Key key = closed_by_deadline_.begin()->second;
    Erase(entries_.find(key));
    ++handled;
  }
  return handled;
}

std::vector<SessionRecord> SessionTracker::Export() const {
  std::vector<SessionRecord> out;
  out.reserve(entries_.size());
  for (const auto& [key, record] : entries_) out.push_back(record);
  return out;
}

SessionTracker::ImportResult SessionTracker::Import(
    const std::vector<SessionRecord>& records, double now) {
  (void)now;  // records past their deadline wait for Expire(now)
  ImportResult result;
  for (const SessionRecord& r : records) {
    if (!ValidRecord(r) || entries_.count(Key{r.project_id, r.sid}) != 0) {
      ++result.skipped_invalid;
      continue;
    }
    Insert(r, &result.counts);
    ++result.imported;
  }
  return result;
}

}  // namespace crashctl::releases
