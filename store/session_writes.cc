#include "session_writes.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <utility>

#include "cursor.h"
#include "rows.h"

namespace crashctl {
namespace store {

using releases::SessionCount;
using releases::SessionRecord;

void ReleaseTally::Touch::Add(double first, double last, int64_t n) {
  if (!set || first < first_seen) first_seen = first;
  if (!set || last > last_seen) last_seen = last;
  errors += n;
  set = true;
}

void ReleaseTally::AddCount(const SessionCount& count, double now) {
  if (count.quantity == 0) return;
  int64_t& n = sessions[{count.project_id, count.release, count.environment,
                         releases::CountedStatusName(count.status)}];
  const uint64_t room = static_cast<uint64_t>(INT64_MAX - n);
  n += static_cast<int64_t>(std::min<uint64_t>(count.quantity, room));
  if (!count.distinct_id_hash.empty()) {
    bool& crashed = users[{count.project_id, count.release, count.environment,
                           count.distinct_id_hash}];
    crashed = crashed || count.status == releases::CountedStatus::kCrashed;
  }
  const double started = FiniteOr(count.started, now);
  touches[{count.project_id, count.release, count.environment}].Add(
      std::min(started, now), now, 0);
}

void ReleaseTally::Seen(const SessionRecord& record, double now) {
  const double started = FiniteOr(record.started, now);
  touches[{record.project_id, record.release, record.environment}].Add(
      std::min(started, now), now, 0);
}

void ReleaseTally::AddEvents(const std::vector<model::WriteItem>& items,
                             const std::vector<model::WriteOutcome>& outcomes) {
  for (size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
    const model::Event& event = items[i].event;
    if (outcomes[i].duplicate || event.release.empty()) continue;
    const double received = FiniteOr(event.received, 0);
    const double timestamp = FiniteOr(event.timestamp, received);
    touches[{event.project_id, event.release, event.environment}].Add(
        timestamp, timestamp, 1);
  }
}

Status CloseAbnormally(std::vector<SessionRecord>* closing,
                       SessionCount::Reason reason,
                       const releases::TrackerOptions& options, double now,
                       SessionRecords* records, ReleaseTally* tally,
                       std::vector<SessionCount>* applied) {
  for (SessionRecord& record : *closing) {
    SessionCount count = releases::CloseAbnormal(&record, reason, options);
    Status st = records->Store(record);
    if (!st.ok()) return st;
    tally->AddCount(count, now);
    applied->push_back(std::move(count));
  }
  return Status::Ok();
}

Status MergeSessionWrite(const SessionWrite& write, SessionRecords* records,
                         ReleaseTally* tally,
                         std::vector<SessionCount>* applied,
                         int64_t* open_delta) {
  const releases::TrackerOptions& options = write.options;
  const double now = FiniteOr(write.now, 0);
  *open_delta = 0;
  // Open records as stored (read when a session first opens).
  std::optional<int64_t> stored_open;
  Status st;
  for (const releases::SessionUpdate& update : write.updates) {
    std::optional<SessionRecord> existing;
    if (!update.sid.empty()) {
      st = records->Load(write.project_id, update.sid, &existing);
      if (!st.ok()) return st;
    }
    releases::MergeResult merged = releases::MergeSessionUpdate(
        existing, write.project_id, update, now, options);
    if (merged.action == releases::MergeResult::Action::kStore) {
      const bool was_open = existing.has_value() && !existing->closed;
      const bool opens = !was_open && !merged.record.closed;
      if (opens) {
        if (!stored_open.has_value()) {
          int64_t open = 0;
          st = records->CountOpen(&open);
          if (!st.ok()) return st;
          stored_open = open;
        }
        const int64_t open = *stored_open + *open_delta;
        // Make room: the earliest deadline is closed as abnormal.
        const int64_t max_open =
            static_cast<int64_t>(std::max<size_t>(options.max_open, 1));
        if (open >= max_open) {
          std::vector<SessionRecord> victims;
          st = records->EarliestOpen(
              std::min<int64_t>(open - max_open + 1, kMaxEvictionsPerUpdate),
              &victims);
          if (!st.ok()) return st;
          st = CloseAbnormally(&victims, SessionCount::Reason::kEvicted,
                               options, now, records, tally, applied);
          if (!st.ok()) return st;
          *open_delta -= static_cast<int64_t>(victims.size());
        }
        ++*open_delta;
      } else if (was_open && merged.record.closed) {
        --*open_delta;
      }
      st = records->Store(merged.record);
      if (!st.ok()) return st;
      tally->Seen(merged.record, now);
    }
    if (merged.count.has_value()) {
      tally->AddCount(*merged.count, now);
      applied->push_back(std::move(*merged.count));
    }
  }
  for (const SessionCount& count : write.aggregate_counts) {
    tally->AddCount(count, now);
    applied->push_back(count);
  }
  return Status::Ok();
}

void HandOverCounts(const Status& status, std::vector<SessionCount>* applied,
                    std::vector<SessionCount>* counts) {
  if (counts == nullptr) return;
  if (status.ok()) {
    *counts = std::move(*applied);
  } else {
    counts->clear();
  }
}

std::string EncodeReleaseCursor(double first_seen, int64_t project,
                                const std::string& release) {
  char head[96];
  std::snprintf(head, sizeof(head), "releases|%.17g|%" PRId64 "|", first_seen,
                project);
  return Base64UrlEncode(std::string(head) + release);
}

bool DecodeReleaseCursor(const std::string& text, double* first_seen,
                         int64_t* project, std::string* release) {
  std::string data;
  if (!Base64UrlDecode(text, &data)) return false;
  const std::string prefix = "releases|";
  if (data.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t a = prefix.size();
  const size_t b = data.find('|', a);
  if (b == std::string::npos) return false;
  const size_t c = data.find('|', b + 1);
  if (c == std::string::npos) return false;
  try {
    size_t used = 0;
    const std::string fs = data.substr(a, b - a);
    *first_seen = std::stod(fs, &used);
    if (used != fs.size() || !std::isfinite(*first_seen)) return false;
    const std::string pr = data.substr(b + 1, c - b - 1);
    *project = std::stoll(pr, &used);
    if (used != pr.size()) return false;
  } catch (...) {
    return false;
  }
  *release = data.substr(c + 1);
  return !release->empty();
}

}  // namespace store
}  // namespace crashctl
