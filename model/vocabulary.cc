#include "crashctl/model/vocabulary.h"

#include "crashctl/util/enum_names.h"

namespace crashctl {
namespace model {
namespace {

using util::EnumName;
using util::InEnumOrder;

constexpr EnumName<Level> kLevels[] = {
    {Level::kFatal, "fatal"},     {Level::kError, "error"},
    {Level::kWarning, "warning"}, {Level::kInfo, "info"},
    {Level::kDebug, "debug"},
};
static_assert(InEnumOrder(kLevels), "kLevels follows enum Level");

constexpr EnumName<GroupStatus> kGroupStatuses[] = {
    {GroupStatus::kUnresolved, "unresolved"},
    {GroupStatus::kResolved, "resolved"},
    {GroupStatus::kIgnored, "ignored"},
};
static_assert(InEnumOrder(kGroupStatuses),
              "kGroupStatuses follows enum GroupStatus");

constexpr EnumName<CrashType> kCrashTypes[] = {
    {CrashType::kOomKilled, "oom_killed"},
    {CrashType::kCrashLoop, "crash_loop"},
    {CrashType::kInitFailed, "init_failed"},
    {CrashType::kEvicted, "evicted"},
    {CrashType::kRestartThreshold, "restart_threshold"},
    {CrashType::kErrorExit, "error_exit"},
    {CrashType::kLivenessFailed, "liveness_failed"},
    {CrashType::kStartFailed, "start_failed"},
};
static_assert(InEnumOrder(kCrashTypes), "kCrashTypes follows enum CrashType");

constexpr EnumName<ItemType> kItemTypes[] = {
    {ItemType::kEvent, "event"},
    {ItemType::kTransaction, "transaction"},
    {ItemType::kSession, "session"},
    {ItemType::kSessions, "sessions"},
    {ItemType::kClientReport, "client_report"},
    {ItemType::kAttachment, "attachment"},
    {ItemType::kCheckIn, "check_in"},
    {ItemType::kUserReport, "user_report"},
    {ItemType::kFeedback, "feedback"},
    {ItemType::kProfile, "profile"},
    {ItemType::kReplayEvent, "replay_event"},
    {ItemType::kStatsd, "statsd"},
    {ItemType::kOther, "other"},
};
static_assert(InEnumOrder(kItemTypes), "kItemTypes follows enum ItemType");

// The All* lists live for the whole program (never destroyed: callers may
// use them from static destructors).
template <typename T, size_t N>
const std::vector<T>& Forever(const EnumName<T> (&table)[N]) {
  static const auto* all = new std::vector<T>(util::ValuesOf(table));
  return *all;
}

}  // namespace

const char* ToString(Level level) {
  return util::NameOf(kLevels, level, "error");
}
bool ParseLevel(std::string_view text, Level* out) {
  return util::ParseName(kLevels, text, out);
}
const std::vector<Level>& AllLevels() { return Forever(kLevels); }

const char* ToString(GroupStatus status) {
  return util::NameOf(kGroupStatuses, status, "unresolved");
}
bool ParseGroupStatus(std::string_view text, GroupStatus* out) {
  return util::ParseName(kGroupStatuses, text, out);
}
const std::vector<GroupStatus>& AllGroupStatuses() {
  return Forever(kGroupStatuses);
}

const char* ToString(CrashType type) {
  return util::NameOf(kCrashTypes, type, "error_exit");
}
bool ParseCrashType(std::string_view text, CrashType* out) {
  return util::ParseName(kCrashTypes, text, out);
}
const std::vector<CrashType>& AllCrashTypes() { return Forever(kCrashTypes); }

const char* ToString(ItemType type) {
  return util::NameOf(kItemTypes, type, "other");
}
ItemType ParseItemType(std::string_view text) {
  ItemType type = ItemType::kOther;
  util::ParseName(kItemTypes, text, &type);
  return type;
}
const std::vector<ItemType>& AllItemTypes() { return Forever(kItemTypes); }

}  // namespace model
}  // namespace crashctl
