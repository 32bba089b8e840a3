#include "events.h"

#include <cstdio>

namespace crashctl {
namespace testing {

std::string HexEventId(uint32_t high, uint32_t low) {
  char buffer[33];
  snprintf(buffer, sizeof(buffer), "%08x%024x", high, low);
  return buffer;
}

std::string PythonExceptionEvent(const std::string& id, const std::string& type,
                                 const std::string& value,
                                 const std::string& function) {
  return R"({"event_id":")" + id +
         R"(","level":"error","platform":"python","exception":{"values":[{"type":")" +
         type + R"(","value":")" + value +
         R"(","stacktrace":{"frames":[{"module":"app","function":")" +
         function + R"(","in_app":true}]}}]}})";
}

}  // namespace testing
}  // namespace crashctl
