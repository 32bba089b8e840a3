// The full-text query language of the REST API (`GET /api/v1/groups?query=`,
// `GET /api/v1/events?query=`), defined here once so that every storage
// backend means the same by a query: the backends only translate a parsed
// Query (SQLite: ToFts5Match; PostgreSQL: ToPostgresTsQuery, matched
// against rows stored with ToPostgresTsVector), and Matches is the reference
// semantics they must agree with. docs/rest-api-search.md is
// the user's version of this comment.
//
// THE LANGUAGE
//
//   query  := blank* term (blank+ term)* blank*      (terms may also abut a
//                                                      closing '"')
//   term   := ['-'] ( '"' chars-but-'"' '"'           a phrase
//                   | bare ['*'] )                     a word, or a prefix
//   bare   := one or more characters other than blanks and '"'
//   blank  := ASCII space, \t, \n, \v, \f, \r, or a Unicode space separator
//             (U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
//             U+205F, U+3000)
//
// - Terms are ANDed: `Timeout checkout` matches what contains both words.
// - The text of a term is split into words by Tokenize (below). A bare term
//   of one word matches that word; a bare term that splits into several
//   (`order_id`, `foo.bar`, `x-y`) and a quoted phrase (`"connection
//   refused"`) match their words in sequence, next to each other, inside one
//   field (title, culprit, message or an exception value).
// - `prefix*` matches a word starting with the prefix; the last word before
//   the '*' must have at least 2 characters (code points, counted after
//   folding: `é*` is 1), else the query is an error. `foo.ba*` is the phrase
//   "foo" then a word starting with "ba". '*' anywhere else in a bare term
//   (`*foo`, `a*b`, `foo**`, `*` alone) is an error; inside quotes it is
//   punctuation like any other.
// - A leading '-' excludes: `-term`, `-"phrase"`, `-prefix*` (only the first
//   '-' is the operator; `--x` is `-x`). Rows matching any exclusion are
//   dropped.
// - Everything else is literal: FTS5's and tsquery's operators (`OR`, `AND`,
//   `NOT`, `NEAR`, `^`, `:`, `(`, `)`, `+`, `{`, `&`, `|`, `!`, `<->`) are
//   words or punctuation, never operators; a column filter such as
//   `title:oom` is the words "title" and "oom".
// - A term with no word in it (`:`, `-`, `""`, `"!!"`, an emoji) is ignored:
//   it can neither match nor exclude anything.
//
// Errors (ParseQuery returns Status::Invalid whose message is meant for the
// 400 answer, and leaves *out unchanged):
//   - more than kMaxQueryBytes (256) bytes of query text;
//   - text that is not UTF-8;
//   - a '"' with no closing '"';
//   - '*' not at the end of a bare term, or a prefix shorter than 2;
//   - more than kMaxTerms (16) terms (ignored terms are not counted);
//   - an empty query (nothing, or only blanks), or one whose terms all have
//     no word in them;
//   - a query made only of exclusions: "everything except x" is most of the
//     database, and neither FTS5 (whose NOT needs a left side) nor a tsquery
//     index can answer it without reading every row.
//
// WORDS (Tokenize)
//
// Exactly SQLite FTS5's "unicode61" tokenizer with the option
// "remove_diacritics 2" and no other option (kFts5Tokenize): a word is a run
// of characters of the Unicode 6.1 categories L*, N* and Co; everything else
// (punctuation including '_' and '-', symbols including emoji, spaces,
// controls) separates words. Words are case-folded (simple lower case; 'ß'
// stays 'ß'), and Latin letters lose their diacritics ("École" -> "ecole",
// a combining accent is dropped; 'ł', 'ø' and Greek or Cyrillic accents
// stay). For ASCII that is: runs of [A-Za-z0-9], lower-cased
// ("TypeError:" -> "typeerror", "order_id" -> "order" "id", "0x1F" -> "0x1f",
// "don't" -> "don" "t"). Scripts without spaces are not segmented: "日本語"
// is one word. ASCII text is tokenized here by hand; any other text by
// SQLite's own unicode61 code (libsqlite3, through the fts5_api of a private
// in-memory connection), so the two can never disagree. Should SQLite have no
// FTS5, non-ASCII text falls back to the ASCII rule with every byte >= 0x80
// kept as part of a word (and ParseQuery refuses non-ASCII queries with
// Status::Unavailable).
//
// Thread-safety: every function here is safe to call from any thread at the
// same time; Term and Query are plain values.
#ifndef CRASHCTL_SEARCH_QUERY_H_
#define CRASHCTL_SEARCH_QUERY_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl {
namespace search {

// Bounds of a query (ParseQuery refuses more, naming the limit).
constexpr size_t kMaxQueryBytes = 256;
constexpr size_t kMaxTerms = 16;
constexpr size_t kMinPrefixChars = 2;

// The `tokenize` option the SQLite backend's FTS5 table must be created
// with, so that the rows are split into words as Tokenize splits queries:
//   CREATE VIRTUAL TABLE ... USING fts5(..., tokenize = 'unicode61
//   remove_diacritics 2')
inline constexpr const char kFts5Tokenize[] = "unicode61 remove_diacritics 2";

struct Term {
  enum Kind {
    kWord,    // words.size() == 1: a word equal to words[0]
    kPhrase,  // words.size() >= 2: those words in sequence in one field
    kPrefix,  // words.size() >= 1: words[0..n-2] in sequence, then a word
              // starting with words[n-1]
  };
  Kind kind = kWord;
  // Tokenize output: folded words, never empty, never containing a
  // separator. (Matches compares them as they are; a hand-made Term with
  // other words means something else to the backends.)
  std::vector<std::string> words;
  bool negated = false;  // an exclusion (-term)

  bool operator==(const Term& o) const {
    return kind == o.kind && words == o.words && negated == o.negated;
  }
  bool operator!=(const Term& o) const { return !(*this == o); }
};

struct Query {
  // In the order written. ParseQuery gives 1..kMaxTerms terms, at least one
  // of them not negated.
  std::vector<Term> terms;

  bool operator==(const Query& o) const { return terms == o.terms; }
  bool operator!=(const Query& o) const { return !(*this == o); }
};

// Parses `text` (the decoded `query` parameter). OK and *out set, or
// Status::Invalid with a message for the 400 answer (e.g. `query is 300
// bytes long; at most 256 bytes are allowed`) and *out unchanged; or
// Status::Unavailable for a non-ASCII query when SQLite has no FTS5. Any
// bytes are accepted as input; nothing is thrown but std::bad_alloc.
Status ParseQuery(std::string_view text, Query* out);

// An FTS5 MATCH expression for `q`, to be bound as a parameter
// (`WHERE search MATCH ?`, never spliced into SQL). Every word is a
// double-quoted FTS5 string, so no user text is ever an FTS5 operator:
//   timeout "connection refused" conn* -x -"a b"
//   -> ("timeout" AND "connection refused" AND "conn" *) NOT ("x" OR "a b")
// It searches every indexed column of the table it is matched against.
// "" when `q` has no term that is not negated (ParseQuery never gives such a
// Query): match nothing, do not run it.
std::string ToFts5Match(const Query& q);

// A tsquery for `q`, every word a quoted lexeme:
//   -> 'timeout' & ( 'connection' <-> 'refused' ) & 'conn':* & !'x'
//      & !( 'a' <-> 'b' )
// Bind it as `$1::tsquery` against a tsvector made by ToPostgresTsVector:
// both then hold crashctl's words verbatim, and PostgreSQL agrees with
// Matches. It is also a valid argument of `to_tsquery('simple', $1)` (no
// stemming, no stop words), which passes each lexeme through PostgreSQL's
// parser again: the same for words of letters and digits, but a word with
// a character that parser does not count as a letter (e.g. '½') becomes
// a phrase or disappears. "" as for ToFts5Match.
std::string ToPostgresTsQuery(const Query& q);

// PostgreSQL's tsvector limits (PostgreSQL 15's tsvector input refuses more;
// ToPostgresTsVector keeps within them).
constexpr size_t kPostgresMaxLexemeBytes = 2046;  // longer words are left out
constexpr int kPostgresMaxPosition = 16383;       // later words are put there
constexpr size_t kPostgresMaxPositions = 256;     // per word; more are dropped
// The size PostgreSQL counts: per word its length rounded up to even, plus 2,
// plus 2 per position. Words or positions past it are left out.
constexpr size_t kPostgresMaxTsVectorBytes = 1048575;

// A tsvector literal of the words of `fields` (Tokenize of each), with
// their positions, to be stored as `$1::tsvector`:
//   {"Connection refused", "db.pool"}
//   -> 'connection':1 'db':4 'pool':5 'refused':2
// One position is skipped between fields, so that `<->` never joins the
// last word of a field to the first of the next. Words are listed in byte
// order. PostgreSQL's own to_tsvector must not be used on the raw text: its
// parser keeps "foo.bar", "x-y" or an e-mail address as one token where
// unicode61 splits them. Within the limits above PostgreSQL then matches as
// Matches does; past them (a word of over 2046 bytes, a row of over 16383
// words, a word repeated over 256 times, a row of over about 100,000
// distinct words) some words or positions are left out, and those words or
// phrases involving them may not be found.
std::string ToPostgresTsVector(const std::vector<std::string_view>& fields);

// The reference semantics: does a row whose searched fields are `fields`
// match `q`? Each term must match (or, negated, must not match) within one
// field; different terms may match in different fields. A query with no
// non-negated term matches nothing. Used by the tests and the in-memory
// store. Any bytes are accepted; nothing is thrown but std::bad_alloc.
bool Matches(const Query& q, const std::vector<std::string_view>& fields);
// The same for a row of one field.
bool Matches(const Query& q, std::string_view document);

// `text` split into folded words, as described above. Any bytes are
// accepted (invalid UTF-8 is tokenized as SQLite's unicode61 reads it);
// texts over 2^30 bytes that are not ASCII are tokenized up to there only.
std::vector<std::string> Tokenize(std::string_view text);

}  // namespace search
}  // namespace crashctl

#endif  // CRASHCTL_SEARCH_QUERY_H_
