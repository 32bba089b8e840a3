// Spellings of a closed enum, kept in one table per enum:
//
//   constexpr util::EnumName<Color> kColors[] = {
//       {Color::kRed, "red"}, {Color::kGreen, "green"}};
//   static_assert(util::InEnumOrder(kColors), "kColors follows enum Color");
//   const char* ToString(Color c) { return util::NameOf(kColors, c, "red"); }
//
// The table lists every enumerator once, in declaration order, starting at 0;
// InEnumOrder checks that at compile time, so a table that skips or reorders
// an enumerator does not build (the check a switch's -Wswitch used to give).
//
// Thread-safety: pure functions over constant tables, safe from any thread.
#ifndef CRASHCTL_UTIL_ENUM_NAMES_H_
#define CRASHCTL_UTIL_ENUM_NAMES_H_

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace util {

template <typename T>
using EnumName = std::pair<T, const char*>;

// True when table[i] names the enumerator with value i, for every i.
template <typename T, size_t N>
constexpr bool InEnumOrder(const EnumName<T> (&table)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(table[i].first) != i) return false;
  }
  return true;
}

// The spelling of `value`; `fallback` for a value outside the table (an
// integer cast into the enum).
template <typename T, size_t N>
const char* NameOf(const EnumName<T> (&table)[N], T value,
                   const char* fallback) {
  const size_t i = static_cast<size_t>(value);
  return i < N ? table[i].second : fallback;
}

// The value spelled exactly `text` (or, with ignore_case, equal ignoring
// ASCII case); false, leaving *out alone, when there is none.
template <typename T, size_t N>
bool ParseName(const EnumName<T> (&table)[N], std::string_view text, T* out,
               bool ignore_case = false) {
  for (const auto& entry : table) {
    if (ignore_case ? EqualsIgnoreCase(text, entry.second)
                    : text == entry.second) {
      *out = entry.first;
      return true;
    }
  }
  return false;
}

// Every value of the table, in order.
template <typename T, size_t N>
std::vector<T> ValuesOf(const EnumName<T> (&table)[N]) {
  std::vector<T> values;
  values.reserve(N);
  for (const auto& entry : table) values.push_back(entry.first);
  return values;
}

}  // namespace util
}  // namespace crashctl

#endif  // CRASHCTL_UTIL_ENUM_NAMES_H_
