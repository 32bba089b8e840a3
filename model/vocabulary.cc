#include "crashctl/model/vocabulary.h"

namespace crashctl {
namespace model {
namespace {

template <typename T>
bool ParseFrom(std::string_view text, const std::vector<T>& all, T* out) {
  for (T value : all) {
    if (text == ToString(value)) {
      *out = value;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* ToString(Level level) {
  switch (level) {
    case Level::kFatal:
      return "fatal";
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "error";
}

bool ParseLevel(std::string_view text, Level* out) {
  return ParseFrom(text, AllLevels(), out);
}

const std::vector<Level>& AllLevels() {
  static const auto* all =
      new std::vector<Level>{Level::kFatal, Level::kError, Level::kWarning,
                             Level::kInfo, Level::kDebug};
  return *all;
}

const char* ToString(GroupStatus status) {
  switch (status) {
    case GroupStatus::kUnresolved:
      return "unresolved";
    case GroupStatus::kResolved:
      return "resolved";
    case GroupStatus::kIgnored:
      return "ignored";
  }
  return "unresolved";
}

bool ParseGroupStatus(std::string_view text, GroupStatus* out) {
  return ParseFrom(text, AllGroupStatuses(), out);
}

const std::vector<GroupStatus>& AllGroupStatuses() {
  static const auto* all = new std::vector<GroupStatus>{
      GroupStatus::kUnresolved, GroupStatus::kResolved, GroupStatus::kIgnored};
  return *all;
}

const char* ToString(CrashType type) {
  switch (type) {
    case CrashType::kOomKilled:
      return "oom_killed";
    case CrashType::kCrashLoop:
      return "crash_loop";
    case CrashType::kInitFailed:
      return "init_failed";
    case CrashType::kEvicted:
      return "evicted";
    case CrashType::kRestartThreshold:
      return "restart_threshold";
    case CrashType::kErrorExit:
      return "error_exit";
    case CrashType::kLivenessFailed:
      return "liveness_failed";
    case CrashType::kStartFailed:
      return "start_failed";
  }
  return "error_exit";
}

bool ParseCrashType(std::string_view text, CrashType* out) {
  return ParseFrom(text, AllCrashTypes(), out);
}

const std::vector<CrashType>& AllCrashTypes() {
  static const auto* all = new std::vector<CrashType>{
      CrashType::kOomKilled,        CrashType::kCrashLoop,
      CrashType::kInitFailed,       CrashType::kEvicted,
      CrashType::kRestartThreshold, CrashType::kErrorExit,
      CrashType::kLivenessFailed,   CrashType::kStartFailed};
  return *all;
}

const char* ToString(ItemType type) {
  switch (type) {
    case ItemType::kEvent:
      return "event";
    case ItemType::kTransaction:
      return "transaction";
    case ItemType::kSession:
      return "session";
    case ItemType::kSessions:
      return "sessions";
    case ItemType::kClientReport:
      return "client_report";
    case ItemType::kAttachment:
      return "attachment";
    case ItemType::kCheckIn:
      return "check_in";
    case ItemType::kUserReport:
      return "user_report";
    case ItemType::kFeedback:
      return "feedback";
    case ItemType::kProfile:
      return "profile";
    case ItemType::kReplayEvent:
      return "replay_event";
    case ItemType::kStatsd:
      return "statsd";
    case ItemType::kOther:
      return "other";
  }
  return "other";
}

ItemType ParseItemType(std::string_view text) {
  ItemType type = ItemType::kOther;
  ParseFrom(text, AllItemTypes(), &type);
  return type;
}

const std::vector<ItemType>& AllItemTypes() {
  static const auto* all = new std::vector<ItemType>{
      ItemType::kEvent,    ItemType::kTransaction,  ItemType::kSession,
      ItemType::kSessions, ItemType::kClientReport, ItemType::kAttachment,
      ItemType::kCheckIn,  ItemType::kUserReport,   ItemType::kFeedback,
      ItemType::kProfile,  ItemType::kReplayEvent,  ItemType::kStatsd,
      ItemType::kOther};
  return *all;
}

}  // namespace model
}  // namespace crashctl
