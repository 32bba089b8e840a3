#include "crashctl/store/pg/errors.h"

#include <string>

namespace crashctl {
namespace store {
namespace pg {
namespace {

constexpr std::string_view kSqlStatePrefix = "(SQLSTATE ";

bool IsSqlStateChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

}  // namespace

Status::Code CodeForSqlState(std::string_view state) {
  using Code = Status::Code;
  if (state.size() != 5) return Code::kUnavailable;
  std::string_view cls = state.substr(0, 2);
  if (state == "23505" || state == "23P01") return Code::kConflict;
  if (state == "25006") return Code::kUnavailable;
  if (state == "55P03" || state == "55006") return Code::kUnavailable;
  if (state == "40002") return Code::kInvalid;
  if (state == "57P04") return Code::kInternal;  // database dropped
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || cls == "40") {
    return Code::kUnavailable;
  }
  if (cls == "23" || cls == "22") return Code::kInvalid;
  if (cls == "54") return Code::kTooLarge;
  return Code::kInternal;
}

Status StatusFromSqlState(std::string_view sqlstate, std::string_view detail,
                          std::string_view context) {
  std::string message(context);
  if (!message.empty()) message += ": ";
  message += detail.empty() ? std::string_view("unknown error") : detail;
  if (!sqlstate.empty()) {
    message += " ";
    message += kSqlStatePrefix;
    message += sqlstate;
    message += ")";
  }
  Status::Code code =
      sqlstate.empty() ? Status::Code::kUnavailable : CodeForSqlState(sqlstate);
  if (sqlstate == "40001" || sqlstate == "40P01") {
    message += " ";
    message += kRetryableMarker;
  } else if (sqlstate == "40003") {
    message += " ";
    message += kUnknownOutcomeMarker;
  }
  return Status(code, std::move(message));
}

bool IsRetryable(const Status& status) {
  return status.code() == Status::Code::kUnavailable &&
         status.message().find(kRetryableMarker) != std::string::npos;
}

bool IsUnknownOutcome(const Status& status) {
  return status.code() == Status::Code::kUnavailable &&
         status.message().find(kUnknownOutcomeMarker) != std::string::npos;
}

Status MarkUnknownOutcome(const Status& status) {
  if (status.ok() || IsUnknownOutcome(status)) return status;
  return Status(Status::Code::kUnavailable,
                status.message() + " " + std::string(kUnknownOutcomeMarker));
}

std::string SqlStateOf(const Status& status) {
  const std::string& m = status.message();
  size_t pos = m.rfind(kSqlStatePrefix);
  if (pos == std::string::npos) return std::string();
  pos += kSqlStatePrefix.size();
  if (pos + 6 > m.size() || m[pos + 5] != ')') return std::string();
  for (size_t i = 0; i < 5; ++i) {
    if (!IsSqlStateChar(m[pos + i])) return std::string();
  }
  return m.substr(pos, 5);
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
