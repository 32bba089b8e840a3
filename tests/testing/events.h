// Test support: Sentry event bodies for load and durability tests.
//
// Thread-safety: functions are reentrant.
#ifndef CRASHCTL_TESTS_TESTING_EVENTS_H_
#define CRASHCTL_TESTS_TESTING_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace crashctl {
namespace testing {

// A 32-hex-digit event id: `high` in the first 8 digits, `low` in the
// other 24 ("%08x%024x"), so distinct pairs give distinct ids.
std::string HexEventId(uint32_t high, uint32_t low);

// A Python error event (Sentry store JSON) with event id `id` and one
// exception `type`: `value` whose single in-app frame is app.`function`.
std::string PythonExceptionEvent(const std::string& id, const std::string& type,
                                 const std::string& value,
                                 const std::string& function);

// A Python error event (Sentry store JSON) with event id `id` and one
// exception `type`: `value` with one in-app frame (shop.views.checkout).
std::string EventJson(const std::string& id, const std::string& type,
                      const std::string& value);
// An envelope of one event item holding `event` (its header names `id`).
std::string Envelope(const std::string& id, const std::string& event);

// `size` characters from 64 symbols (A-Z a-z 0-9 + /), chosen
// pseudo-randomly from `seed`: they survive compression at ~6 bits each, so
// stored payloads keep a predictable size. Safe inside JSON strings.
std::string IncompressibleText(size_t size, int64_t seed);

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_EVENTS_H_
