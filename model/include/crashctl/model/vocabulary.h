// The closed vocabularies crashctl stores, filters on and exports as metric
// labels: each an enum with one ToString (the spelling in the database, the
// REST API and on /metrics) and one Parse (exact spelling; false for
// anything else).
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_MODEL_VOCABULARY_H_
#define CRASHCTL_MODEL_VOCABULARY_H_

#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace model {

// Sentry event levels.
enum class Level { kFatal, kError, kWarning, kInfo, kDebug };
const char* ToString(Level level);
bool ParseLevel(std::string_view text, Level* out);
const std::vector<Level>& AllLevels();  // most severe first

// A group's status.
enum class GroupStatus { kUnresolved, kResolved, kIgnored };
const char* ToString(GroupStatus status);
bool ParseGroupStatus(std::string_view text, GroupStatus* out);
const std::vector<GroupStatus>& AllGroupStatuses();

// What the Kubernetes watcher records (CONTRACT.md,
// crashctl_pod_crashes_total).
enum class CrashType {
  kOomKilled,
  kCrashLoop,
  kInitFailed,
  kEvicted,
  kRestartThreshold,
  kErrorExit,
  kLivenessFailed,
  kStartFailed,
};
const char* ToString(CrashType type);
bool ParseCrashType(std::string_view text, CrashType* out);
const std::vector<CrashType>& AllCrashTypes();

// Sentry envelope item types; kOther for any type crashctl does not know
// (accepted and counted, CONTRACT.md).
enum class ItemType {
  kEvent,
  kTransaction,
  kSession,
  kSessions,
  kClientReport,
  kAttachment,
  kCheckIn,
  kUserReport,
  kFeedback,
  kProfile,
  kReplayEvent,
  kStatsd,
  kOther,
};
const char* ToString(ItemType type);
// Never fails: unknown spellings are kOther.
ItemType ParseItemType(std::string_view text);
const std::vector<ItemType>& AllItemTypes();

// The spellings of `values`, in order (for OpenAPI enums, error messages).
template <typename T>
std::vector<const char*> Spellings(const std::vector<T>& values) {
  std::vector<const char*> out;
  out.reserve(values.size());
  for (T value : values) out.push_back(ToString(value));
  return out;
}
// "a, b, c".
template <typename T>
std::string JoinedSpellings(const std::vector<T>& values) {
  std::string out;
  for (T value : values) {
    if (!out.empty()) out += ", ";
    out += ToString(value);
  }
  return out;
}

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_VOCABULARY_H_
