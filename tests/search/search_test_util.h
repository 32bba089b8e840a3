// Helpers shared by the search tests: a Query written as a short string, so
// that table tests can state what a query parses to.
#ifndef CRASHCTL_TESTS_SEARCH_SEARCH_TEST_UTIL_H_
#define CRASHCTL_TESTS_SEARCH_SEARCH_TEST_UTIL_H_

#include <string>

#include "crashctl/search/query.h"

namespace crashctl {
namespace search {
namespace testing {

// "w:timeout p:connection,refused -x:conn": one item per term, '-' when
// negated, w/p/x for word/phrase/prefix, the words joined by ','.
inline std::string Describe(const Query& q) {
  std::string out;
  for (const Term& t : q.terms) {
    if (!out.empty()) out += ' ';
    if (t.negated) out += '-';
    out += t.kind == Term::kWord ? "w:" : t.kind == Term::kPhrase ? "p:" : "x:";
    for (size_t i = 0; i < t.words.size(); ++i) {
      if (i > 0) out += ',';
      out += t.words[i];
    }
  }
  return out;
}

}  // namespace testing
}  // namespace search
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_SEARCH_SEARCH_TEST_UTIL_H_
