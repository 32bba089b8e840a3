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

std::string IncompressibleText(size_t size, int64_t seed) {
  std::string text(size, ' ');
  uint64_t state = static_cast<uint64_t>(seed) * 2654435761u + 1;
  for (char& c : text) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        [(state >> 58) & 63];
  }
  return text;
}

std::string EventJson(const std::string& id, const std::string& type,
                      const std::string& value) {
  return R"({"event_id":")" + id +
         R"(","platform":"python","level":"error","exception":{"values":[{"type":")" +
         type + R"(","value":")" + value +
         R"(","stacktrace":{"frames":[{"module":"shop.views","function":"checkout","lineno":12,"in_app":true}]}}]}})";
}

std::string Envelope(const std::string& id, const std::string& event) {
  return R"({"event_id":")" + id + R"("})" + "\n" + R"({"type":"event"})" +
         "\n" + event + "\n";
}

}  // namespace testing
}  // namespace crashctl
