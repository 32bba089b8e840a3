// search/: the query language (crashctl/search/query.h): parser, the FTS5
// and tsquery translations, and the reference matcher.
#include "crashctl/search/query.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crashctl/util/strings.h"
#include "tokenizer_private.h"

namespace crashctl {
namespace search {
namespace {

// Error messages quote at most this many bytes of the user's text.
constexpr size_t kMaxExcerptBytes = 40;

// Length of the UTF-8 sequence at s[pos] and its code point, or 0 when the
// bytes there are not one (overlong forms, surrogates and code points over
// U+10FFFF are not).
size_t DecodeUtf8(std::string_view s, size_t pos, char32_t* cp) {
  unsigned char b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  char32_t min;
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    min = 0x80;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    min = 0x800;
    value = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    min = 0x10000;
    value = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - pos < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    unsigned char b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return 0;
  }
  *cp = value;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp;
    size_t len = DecodeUtf8(s, pos, &cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

// Length of the blank at s[pos] (query.h lists them), or 0. `s` is valid
// UTF-8 and pos is at the start of a sequence.
size_t BlankAt(std::string_view s, size_t pos) {
  char32_t cp;
  size_t len = DecodeUtf8(s, pos, &cp);
  switch (cp) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return len;
    default:
      return cp >= 0x2000 && cp <= 0x200A ? len : 0;
  }
}

// Length of the (valid) UTF-8 sequence starting at s[pos].
size_t SequenceLength(std::string_view s, size_t pos) {
  char32_t cp;
  size_t len = DecodeUtf8(s, pos, &cp);
  return len == 0 ? 1 : len;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// `s` quoted for an error message, cut to kMaxExcerptBytes.
std::string Quoted(std::string_view s) {
  std::string cut(s);
  util::TruncateUtf8(&cut, kMaxExcerptBytes);
  bool truncated = cut.size() < s.size();
  return "\"" + cut + (truncated ? "...\"" : "\"");
}

bool IsPrefix(const Term& t) { return t.kind == Term::kPrefix; }

// Does `t` (ignoring negation) match within `tokens`?
bool TermMatchesField(const Term& t, const std::vector<std::string>& tokens) {
  const std::vector<std::string>& words = t.words;
  if (words.empty() || words.size() > tokens.size()) return false;
  for (size_t i = 0; i + words.size() <= tokens.size(); ++i) {
    size_t j = 0;
    for (; j < words.size(); ++j) {
      const std::string& token = tokens[i + j];
      bool prefix = IsPrefix(t) && j + 1 == words.size();
      if (prefix ? !util::StartsWith(token, words[j]) : token != words[j]) {
        break;
      }
    }
    if (j == words.size()) return true;
  }
  return false;
}

bool HasPositive(const Query& q) {
  for (const Term& t : q.terms) {
    if (!t.negated) return true;
  }
  return false;
}

// An FTS5 string: double-quoted, '"' doubled. FTS5 tokenizes it again with
// the table's tokenizer, which gives back `words` (they are Tokenize output,
// and Tokenize is idempotent on its own words).
std::string Fts5Term(const Term& t) {
  std::string out = "\"";
  for (size_t i = 0; i < t.words.size(); ++i) {
    if (i > 0) out.push_back(' ');
    for (char c : t.words[i]) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
  }
  out.push_back('"');
  if (IsPrefix(t)) out += " *";
  return out;
}

// A quoted tsquery/tsvector lexeme: ' and \ doubled (their own quoting; the
// text is bound as a parameter, so SQL quoting does not come into it).
std::string PostgresLexeme(const std::string& word, bool prefix) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  if (prefix) out += ":*";
  return out;
}

std::string PostgresTerm(const Term& t) {
  std::string out = t.negated ? "!" : "";
  if (t.words.size() == 1) {
    return out + PostgresLexeme(t.words[0], IsPrefix(t));
  }
  out += "( ";
  for (size_t i = 0; i < t.words.size(); ++i) {
    if (i > 0) out += " <-> ";
    out += PostgresLexeme(t.words[i], IsPrefix(t) && i + 1 == t.words.size());
  }
  out += " )";
  return out;
}

}  // namespace

Status ParseQuery(std::string_view text, Query* out) {
  if (text.size() > kMaxQueryBytes) {
    return Status::Invalid(
        "query is " + std::to_string(text.size()) + " bytes long; at most " +
        std::to_string(kMaxQueryBytes) + " bytes are allowed");
  }
  if (!IsValidUtf8(text)) return Status::Invalid("query is not valid UTF-8");
  if (!internal::IsAscii(text) && !internal::Unicode61Status().ok()) {
    return internal::Unicode61Status().Annotate(
        "cannot split a non-ASCII query into words");
  }
  Query q;
  bool any_text = false;
  const size_t n = text.size();
  size_t pos = 0;
  // Every pass consumes at least one byte.
  while (pos < n) {
    if (size_t blank = BlankAt(text, pos)) {
      pos += blank;
      continue;
    }
    any_text = true;
    Term term;
    if (text[pos] == '-') {
      term.negated = true;
      ++pos;
    }
    if (pos < n && text[pos] == '"') {
      size_t close = text.find('"', pos + 1);
      if (close == std::string_view::npos) {
        return Status::Invalid(
            "unterminated phrase: the '\"' at character " +
            std::to_string(CountCodePoints(text.substr(0, pos)) + 1) +
            " has no closing '\"'");
      }
      term.words = Tokenize(text.substr(pos + 1, close - pos - 1));
      term.kind = term.words.size() == 1 ? Term::kWord : Term::kPhrase;
      pos = close + 1;
    } else {
      size_t begin = pos;
      while (pos < n && text[pos] != '"' && BlankAt(text, pos) == 0) {
        pos += SequenceLength(text, pos);
      }
      std::string_view bare = text.substr(begin, pos - begin);
      size_t star = bare.find('*');
      bool prefix = star != std::string_view::npos;
      if (prefix && star + 1 != bare.size()) {
        return Status::Invalid(
            "'*' is only allowed at the end of a word (a prefix search), not "
            "in " +
            Quoted(bare));
      }
      if (prefix) bare.remove_suffix(1);
      term.words = Tokenize(bare);
      if (prefix) {
        if (term.words.empty() ||
            CountCodePoints(term.words.back()) < kMinPrefixChars) {
          return Status::Invalid("prefix " + Quoted(std::string(bare) + "*") +
                                 " is too short: at least " +
                                 std::to_string(kMinPrefixChars) +
                                 " letters or digits must come before '*'");
        }
        term.kind = Term::kPrefix;
      } else {
        term.kind = term.words.size() == 1 ? Term::kWord : Term::kPhrase;
      }
    }
    if (term.words.empty()) continue;  // nothing to match or exclude
    if (q.terms.size() == kMaxTerms) {
      return Status::Invalid("query has more than " +
                             std::to_string(kMaxTerms) + " terms; at most " +
                             std::to_string(kMaxTerms) + " are allowed");
    }
    q.terms.push_back(std::move(term));
  }
  if (q.terms.empty()) {
    return Status::Invalid(
        any_text ? "query has no word to search for (punctuation and symbols "
                   "alone are not searched)"
                 : "query is empty");
  }
  if (!HasPositive(q)) {
    return Status::Invalid(
        "query has only exclusions (-term): add at least one word, phrase or "
        "prefix to search for; \"everything except\" is not a search");
  }
  *out = std::move(q);
  return Status::Ok();
}

std::string ToFts5Match(const Query& q) {
  std::string positives;
  std::string negatives;
  for (const Term& t : q.terms) {
    std::string& list = t.negated ? negatives : positives;
    if (!list.empty()) list += t.negated ? " OR " : " AND ";
    list += Fts5Term(t);
  }
  if (positives.empty()) return "";
  if (negatives.empty()) return positives;
  return "(" + positives + ") NOT (" + negatives + ")";
}

std::string ToPostgresTsQuery(const Query& q) {
  if (!HasPositive(q)) return "";
  std::string out;
  for (const Term& t : q.terms) {
    if (!out.empty()) out += " & ";
    out += PostgresTerm(t);
  }
  return out;
}

std::string ToPostgresTsVector(const std::vector<std::string_view>& fields) {
  std::map<std::string, std::vector<int>> positions;
  size_t size = 0;  // as PostgreSQL counts it (kPostgresMaxTsVectorBytes)
  int position = 0;
  for (std::string_view field : fields) {
    std::vector<std::string> words = Tokenize(field);
    if (words.empty()) continue;
    if (position > 0) ++position;  // the gap between fields
    for (std::string& word : words) {
      position = std::min(position + 1, kPostgresMaxPosition);
      if (word.size() > kPostgresMaxLexemeBytes) continue;
      auto it = positions.find(word);
      if (it == positions.end()) {
        size_t cost = ((word.size() + 1) & ~size_t{1}) + 2 + 2;
        if (size + cost > kPostgresMaxTsVectorBytes) continue;
        size += cost;
        it = positions.emplace(std::move(word), std::vector<int>{position})
                 .first;
        continue;
      }
      std::vector<int>& list = it->second;
      if (list.size() < kPostgresMaxPositions && list.back() != position &&
          size + 2 <= kPostgresMaxTsVectorBytes) {
        size += 2;
        list.push_back(position);
      }
    }
  }
  std::string out;
  for (const auto& [word, list] : positions) {
    if (!out.empty()) out.push_back(' ');
    out += PostgresLexeme(word, false);
    for (size_t i = 0; i < list.size(); ++i) {
      out.push_back(i == 0 ? ':' : ',');
      out += std::to_string(list[i]);
    }
  }
  return out;
}

bool Matches(const Query& q, const std::vector<std::string_view>& fields) {
  if (!HasPositive(q)) return false;
  std::vector<std::vector<std::string>> tokens;
  tokens.reserve(fields.size());
  for (std::string_view field : fields) tokens.push_back(Tokenize(field));
  for (const Term& t : q.terms) {
    bool found = false;
    for (const std::vector<std::string>& field : tokens) {
      if (TermMatchesField(t, field)) {
        found = true;
        break;
      }
    }
    if (found == t.negated) return false;
  }
  return true;
}

bool Matches(const Query& q, std::string_view document) {
  return Matches(q, std::vector<std::string_view>{document});
}

}  // namespace search
}  // namespace crashctl
