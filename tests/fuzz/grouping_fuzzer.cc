// libFuzzer target: grouping/grouping.h. The input is parsed as an event
// (NormalizeEvent -> ComputeGrouping) and also handed as a raw string to the
// message, function and filename normalisers. ComputeGrouping must be
// deterministic and always give a 32-hex fingerprint and a known method.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "crashctl/grouping/grouping.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/model/event.h"

namespace {

bool IsFingerprint(const std::string& fp) {
  if (fp.size() != 32) return false;
  for (char c : fp) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);

  crashctl::model::Event event;
  std::string error;
  if (crashctl::ingest::NormalizeEvent(input, 1, 1.7e9, &event, &error)) {
    crashctl::model::GroupingResult a =
        crashctl::grouping::ComputeGrouping(event);
    crashctl::model::GroupingResult b =
        crashctl::grouping::ComputeGrouping(event);
    if (!IsFingerprint(a.fingerprint)) std::abort();
    if (a.fingerprint != b.fingerprint || a.components != b.components ||
        a.title != b.title || a.culprit != b.culprit) {
      std::abort();
    }
    if (a.method != "fingerprint" && a.method != "stacktrace" &&
        a.method != "exception" && a.method != "message") {
      std::abort();
    }
  }

  crashctl::grouping::NormalizeMessage(input);
  crashctl::grouping::NormalizeFunction(input);
  crashctl::grouping::NormalizeFilename(input);
  for (auto language : {crashctl::grouping::FunctionLanguage::kNative,
                        crashctl::grouping::FunctionLanguage::kJavaScript,
                        crashctl::grouping::FunctionLanguage::kPython,
                        crashctl::grouping::FunctionLanguage::kGo,
                        crashctl::grouping::FunctionLanguage::kOther}) {
    crashctl::grouping::NormalizeFrameFunction(input, language);
  }
  crashctl::grouping::LanguageForPlatform(input);
  return 0;
}
