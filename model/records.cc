#include "crashctl/model/records.h"

namespace crashctl {
namespace model {
namespace {

constexpr size_t kMaxName = 200;

}  // namespace

std::string ProjectNameError(const std::string& name) {
  if (name.find_first_not_of(" \t") == std::string::npos) {
    return "project name must not be empty";
  }
  if (name.size() > kMaxName) {
    return "project name is longer than " + std::to_string(kMaxName) + " bytes";
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return "project name must not contain control characters";
    }
  }
  return "";
}

}  // namespace model
}  // namespace crashctl
