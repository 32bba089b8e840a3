// Scrubber: removes secrets from what crashctl stores, as Sentry's default
// server-side data scrubbing does, before anything is written.
//
// Two kinds of rules:
// - keys: a value stored under a key whose lower-cased name contains one of
//   the secret words (password, passwd, secret, api_key, apikey, token,
//   auth, credential, private_key, session, cookie, ... and the configured
//   extra keys) is replaced as a whole by "[Filtered]"; the JSON walker in
//   ingest/ applies this to every object member and every [key, value] pair
//   of an event (request headers and cookies included).
// - text: in free text (messages, URLs and query strings, log lines)
//   * the credential after "Bearer", "Basic", "Token" or "Digest",
//   * the value of `key=value` and `key: value` where the key is a secret
//     word (`password=hunter2`, `?api_key=...&`, `"token": "..."`),
//   * credit-card numbers (13-19 digits, optionally grouped by spaces or
//     dashes, with a card network's prefix and a valid Luhn check digit)
//   are replaced by "[Filtered]".
//
// Thread-safety: immutable after construction; safe to use from any number
// of threads.
#ifndef CRASHCTL_SCRUB_SCRUBBER_H_
#define CRASHCTL_SCRUB_SCRUBBER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace scrub {

// The replacement of every scrubbed value.
inline constexpr std::string_view kFiltered = "[Filtered]";

struct Options {
  bool defaults = true;                 // privacy.scrub_defaults
  std::vector<std::string> extra_keys;  // privacy.scrub_keys (substrings)
};

class Scrubber {
 public:
  explicit Scrubber(Options options = Options());

  // Whether any rule is on (false only with defaults off and no extra keys).
  bool enabled() const { return !words_.empty(); }

  // True when a value under `key` must be filtered.
  bool IsSecretKey(std::string_view key) const;

  // Applies the text rules to `text`; returns the number of replacements
  // (0: `text` is unchanged). Linear in the length of `text`.
  size_t ScrubText(std::string* text) const;

  // Whether ScrubText would change `text`; cheaper (no copy) when it would
  // not, which is the common case.
  bool TextNeedsScrubbing(std::string_view text) const;

  // True for the names of Sentry event fields that hold code locations,
  // identifiers or enumerations, never personal data (relay's
  // `pii = "false"/"maybe"`: frame function, filename, module, line,
  // addresses, event and trace ids, level, platform, breadcrumb category,
  // ...): their own string values skip the text rules, as in Sentry's
  // default scrubbing. No such name is a secret key.
  static bool IsCodeField(std::string_view key);

 private:
  // Fills `*spans` with the [begin, end) byte ranges of `text` to replace.
  void FindSecrets(std::string_view text,
                   std::vector<std::pair<size_t, size_t>>* spans) const;

  std::vector<std::string> words_;  // lower-case secret words
  // An Aho-Corasick automaton over the words, for IsSecretKey, which runs
  // for every key of every event: one table lookup per character of the
  // key. Characters map to classes (letters, '_', '-', digits, '.', the
  // rest); a state is "final" when some word ends there.
  static constexpr int kClasses = 41;
  static constexpr uint16_t kFinal = 0x8000;  // bit set in transitions to
                                              // a state where a word ends
  std::vector<uint16_t> next_;  // state * kClasses + class -> state | kFinal
  bool defaults_;
};

// True when `digits` (13-19 decimal digits) looks like a payment card
// number: a card network's prefix and a valid Luhn check digit.
bool LooksLikeCardNumber(std::string_view digits);

}  // namespace scrub
}  // namespace crashctl

#endif  // CRASHCTL_SCRUB_SCRUBBER_H_
