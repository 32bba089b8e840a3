// Turns a std::exception (and its std::nested_exception chain) into Sentry
// exception values, root cause first.
// Thread-safety: thread-safe.
#ifndef CRASHCTL_SDK_SRC_EXCEPTION_CHAIN_H_
#define CRASHCTL_SDK_SRC_EXCEPTION_CHAIN_H_

#include <exception>
#include <vector>

#include "crashctl/sdk.h"

namespace crashctl {
namespace sdk {

// Types are the demangled dynamic types (typeid(e)). At most 16 levels.
// The last value (the outermost exception) has no frames yet.
std::vector<ExceptionValue> UnrollException(const std::exception& e);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_EXCEPTION_CHAIN_H_
