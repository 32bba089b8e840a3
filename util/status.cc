#include "crashctl/util/status.h"

#include "crashctl/util/enum_names.h"

namespace crashctl {

namespace {

constexpr util::EnumName<Status::Code> kCodeNames[] = {
    {Status::Code::kOk, "ok"},
    {Status::Code::kNotFound, "not found"},
    {Status::Code::kInvalid, "invalid"},
    {Status::Code::kConflict, "conflict"},
    {Status::Code::kTooLarge, "too large"},
    {Status::Code::kUnavailable, "unavailable"},
    {Status::Code::kInternal, "internal"},
};
static_assert(util::InEnumOrder(kCodeNames), "kCodeNames follows Status::Code");

}  // namespace

const char* Status::CodeName(Code code) {
  return util::NameOf(kCodeNames, code, "unknown");
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::Annotate(std::string_view context) const {
  if (ok() || context.empty()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace crashctl
