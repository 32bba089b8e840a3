// The two halves of search::Tokenize (crashctl/search/query.h), exposed for
// the tests and the fuzzer, which check that they agree.
//
// Thread-safety: all functions are safe from any thread.
#ifndef CRASHCTL_SEARCH_TOKENIZER_PRIVATE_H_
#define CRASHCTL_SEARCH_TOKENIZER_PRIVATE_H_

#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl {
namespace search {
namespace internal {

// True when every byte of `text` is below 0x80.
bool IsAscii(std::string_view text);

// The ASCII rule of unicode61: runs of [A-Za-z0-9] are tokens, folded to
// lower case; every other byte below 0x80 separates tokens. Bytes >= 0x80
// are kept inside tokens unchanged (this is only exact for ASCII text; for
// the rest Tokenize asks SQLite, and uses this only when SQLite cannot be
// asked: see Unicode61Status).
void TokenizeAscii(std::string_view text, std::vector<std::string>* out);

// SQLite's own FTS5 "unicode61" tokenizer with "remove_diacritics 2"
// (obtained through the fts5_api of a private in-memory connection, opened
// once per process). False when that tokenizer is unavailable
// (Unicode61Status says why); `out` is then untouched.
bool TokenizeUnicode61(std::string_view text, std::vector<std::string>* out);

// OK when SQLite's unicode61 tokenizer could be set up (the first call sets
// it up); otherwise why not (an SQLite without FTS5, out of memory).
const Status& Unicode61Status();

}  // namespace internal
}  // namespace search
}  // namespace crashctl

#endif  // CRASHCTL_SEARCH_TOKENIZER_PRIVATE_H_
