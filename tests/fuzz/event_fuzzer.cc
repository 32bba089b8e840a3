// libFuzzer target: ingest/normalize.h NormalizeEvent (and ParseTimestamp)
// on arbitrary bytes. On success the event must honour the model's
// invariants (core/event.h): a 32-lowercase-hex event id, the raw JSON kept
// as received or, when rewritten (depth cut, scrubbed, time replaced), valid
// JSON no deeper than the limit, with a timestamp within the bounds.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crashctl/ingest/normalize.h"
#include "crashctl/model/event.h"

namespace {

bool IsEventId(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  crashctl::model::Event event;
  std::string error;
  crashctl::ingest::NormalizeReport report;
  const crashctl::ingest::NormalizeOptions options;
  constexpr double kNow = 1.7e9;
  if (crashctl::ingest::NormalizeEvent(json, 7, kNow, options, &event, &report,
                                       &error)) {
    if (!IsEventId(event.event_id)) std::abort();
    if (event.project_id != 7) std::abort();
    if (event.timestamp > kNow + options.max_future_seconds ||
        event.timestamp < kNow - options.max_past_seconds) {
      std::abort();
    }
    if (!report.rewritten() && event.raw_json != json) std::abort();
    if (report.rewritten()) {
      rapidjson::Document doc;
      doc.Parse<rapidjson::kParseIterativeFlag>(event.raw_json.data(),
                                                event.raw_json.size());
      if (doc.HasParseError() || !doc.IsObject()) std::abort();
      int depth = 0, deepest = 0;
      bool in_string = false;
      for (size_t i = 0; i < event.raw_json.size(); ++i) {
        const char c = event.raw_json[i];
        if (in_string) {
          if (c == '\\') ++i;
          if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          deepest = std::max(deepest, ++depth);
        } else if (c == '}' || c == ']') {
          --depth;
        }
      }
      if (deepest > options.max_depth) std::abort();
    }
  } else if (error.empty()) {
    std::abort();
  }
  double ts = 0;
  crashctl::ingest::ParseTimestamp(json.substr(0, 64), &ts);
  return 0;
}
