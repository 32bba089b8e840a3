// Status: the outcome of a fallible call, LevelDB style: OK, or an error code
// that tells the caller what to do (answer 404, 409, 503, ...) and a message
// that says what happened, with context.
//
// Every component returns Status from calls that can fail for a reason the
// caller must act on; a function that only computes a value returns it.
//
// Thread-safety: a Status is a plain value; copies may be used on any thread.
#ifndef CRASHCTL_UTIL_STATUS_H_
#define CRASHCTL_UTIL_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace crashctl {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,     // no such thing (a row, a file, a key)
    kInvalid,      // the caller's argument or input is wrong
    kConflict,     // it exists already, or changed meanwhile
    kTooLarge,     // over a size limit
    kUnavailable,  // cannot be done now (disk full, database down): retry
    kInternal,     // a bug or an unexpected failure
  };

  // OK.
  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, std::move(message));
  }
  static Status Invalid(std::string message) {
    return Status(Code::kInvalid, std::move(message));
  }
  static Status Conflict(std::string message) {
    return Status(Code::kConflict, std::move(message));
  }
  static Status TooLarge(std::string message) {
    return Status(Code::kTooLarge, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(Code::kUnavailable, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(Code::kInternal, std::move(message));
  }
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalid() const { return code_ == Code::kInvalid; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  // The message alone ("" when OK).
  const std::string& message() const { return message_; }
  // "OK", or the code's name and the message: "not found: group 7".
  std::string ToString() const;
  // The same code with `context` before the message: "reading group 7: ...".
  // OK stays OK.
  Status Annotate(std::string_view context) const;

  // The lower-case name of a code ("not found", "unavailable").
  static const char* CodeName(Code code);

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace crashctl

#endif  // CRASHCTL_UTIL_STATUS_H_
