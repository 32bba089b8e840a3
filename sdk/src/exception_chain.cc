#include "exception_chain.h"

#include <algorithm>
#include <typeinfo>

#include "crashctl/sdk/support/util.h"

namespace crashctl {
namespace sdk {
namespace {

constexpr int kMaxDepth = 16;

void Unroll(const std::exception& e, int depth,
            std::vector<ExceptionValue>* out) {
  ExceptionValue v;
  v.type = Demangle(typeid(e).name());
  // std::throw_with_nested wraps the thrown type; show the user's type.
  const std::string kWrapper = "std::_Nested_exception<";
  if (v.type.rfind(kWrapper, 0) == 0 && v.type.back() == '>') {
    v.type =
        v.type.substr(kWrapper.size(), v.type.size() - kWrapper.size() - 1);
  }
  v.value = e.what();
  out->push_back(v);
  if (depth + 1 >= kMaxDepth) return;
  const auto* nested = dynamic_cast<const std::nested_exception*>(&e);
  if (nested == nullptr || nested->nested_ptr() == nullptr) return;
  try {
    nested->rethrow_nested();
  } catch (const std::exception& inner) {
    Unroll(inner, depth + 1, out);
  } catch (...) {
    ExceptionValue unknown;
    unknown.type = "unknown";
    unknown.value = "non-std::exception";
    out->push_back(unknown);
  }
}

}  // namespace

std::vector<ExceptionValue> UnrollException(const std::exception& e) {
  std::vector<ExceptionValue> outer_first;
  Unroll(e, 0, &outer_first);
  std::reverse(outer_first.begin(), outer_first.end());
  return outer_first;
}

}  // namespace sdk
}  // namespace crashctl
