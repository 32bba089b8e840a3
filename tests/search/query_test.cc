// search/: the parser (valid and invalid queries, with the error texts),
// the tokenizer, the reference matcher and the FTS5 / tsquery strings.
#include "crashctl/search/query.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "search/tokenizer_private.h"
#include "tests/search/search_test_util.h"

namespace crashctl {
namespace search {
namespace {

using testing::Describe;

std::string Parsed(std::string_view text) {
  Query q;
  Status s = ParseQuery(text, &q);
  if (!s.ok()) return "error: " + s.message();
  return Describe(q);
}

std::string Words(std::string_view text) {
  std::string out;
  for (const std::string& w : Tokenize(text)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// --- Tokenize -------------------------------------------------------------

TEST(TokenizeTest, AsciiIsRunsOfLettersAndDigitsLowerCased) {
  EXPECT_EQ(Words("TypeError: Cannot read property 'id' of undefined"),
            "typeerror cannot read property id of undefined");
  EXPECT_EQ(Words("order_id"), "order id");  // '_' separates (as unicode61)
  EXPECT_EQ(Words("foo.bar(baz.js:12)"), "foo bar baz js 12");
  EXPECT_EQ(Words("x-y don't 0x1F 123abc"), "x y don t 0x1f 123abc");
  EXPECT_EQ(Words("$var #tag @user a|b a+b ~`%^*"), "var tag user a b a b");
  EXPECT_EQ(Words(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(Words(""), "");
  EXPECT_EQ(Words(" \t\r\n!?"), "");
}

TEST(TokenizeTest, NonAsciiIsSqliteUnicode61WithoutDiacritics) {
  ASSERT_TRUE(internal::Unicode61Status().ok())
      << internal::Unicode61Status().ToString();
  EXPECT_EQ(Words("Café naïve ÉCOLE"), "cafe naive ecole");
  EXPECT_EQ(Words("e\xCC\x81"
                  "cole"),
            "ecole");                    // combining acute accent dropped
  EXPECT_EQ(Words("Straße"), "straße");  // simple case folding: ß stays
  EXPECT_EQ(Words("日本語のエラー"), "日本語のエラー");  // no segmentation
  EXPECT_EQ(Words("emoji😀ok"), "emoji ok");              // symbols separate
  EXPECT_EQ(Words("a\xC2\xA0"
                  "b «c» d—e …f"),
            "a b c d e f");
  // Only Latin letters lose their diacritics (and not ł, ø).
  EXPECT_EQ(Words("ΣΊΣΥΦΟΣ Ёлка Łódź Ørsted Tiếng Việt"),
            "σίσυφοσ ёлка łodz ørsted tieng viet");
  EXPECT_EQ(Words("½ ² Ⅻ"), "½ ² ⅻ");  // N* are word characters
}

TEST(TokenizeTest, AsciiRuleAgreesWithSqliteOnEveryAsciiByte) {
  ASSERT_TRUE(internal::Unicode61Status().ok());
  for (int c = 0; c < 0x80; ++c) {
    std::string text = "Ab";
    text.push_back(static_cast<char>(c));
    text += "Cd";
    std::vector<std::string> by_hand;
    std::vector<std::string> by_sqlite;
    internal::TokenizeAscii(text, &by_hand);
    ASSERT_TRUE(internal::TokenizeUnicode61(text, &by_sqlite));
    EXPECT_EQ(by_hand, by_sqlite) << "byte " << c;
  }
}

TEST(TokenizeTest, WordsTokenizeToThemselves) {
  // ToFts5Match relies on it: FTS5 tokenizes the quoted words again.
  for (std::string_view text : {"ǅemo İstanbul ﬁle Ⅻ ΣΊΣΥΦΟΣ Ǆ ẞ",
                                "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "ÀÉÎÕÜ ÿ Œuvre"}) {
    for (const std::string& w : Tokenize(text)) {
      EXPECT_EQ(Tokenize(w), std::vector<std::string>{w}) << w;
    }
  }
}

TEST(TokenizeTest, SafeFromManyThreadsAtOnce) {
  const std::string text = "Ünïcödé École 日本語 ConnectionError: refusé";
  const std::vector<std::string> want = Tokenize(text);
  ASSERT_EQ(want.size(), 5u);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (Tokenize(text) != want) ++wrong[t];
        Query q;
        if (!ParseQuery("école -timeout \"日本語\"", &q).ok() ||
            !Matches(q, text)) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

// --- ParseQuery: valid ----------------------------------------------------

struct ParseCase {
  const char* text;
  const char* want;  // Describe() of the query, or "error: <message>"
};

class ParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseTest, Parses) {
  EXPECT_EQ(Parsed(GetParam().text), GetParam().want)
      << "query: " << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ParseTest,
    ::testing::Values(
        ParseCase{"Timeout checkout", "w:timeout w:checkout"},
        ParseCase{"\"connection refused\"", "p:connection,refused"},
        ParseCase{"conn*", "x:conn"}, ParseCase{"ab*", "x:ab"},
        ParseCase{"a -term", "w:a -w:term"},
        ParseCase{"a -\"b c\"", "w:a -p:b,c"},
        ParseCase{"a -conn*", "w:a -x:conn"}, ParseCase{"x -x", "w:x -w:x"},
        ParseCase{"-x a", "-w:x w:a"}, ParseCase{"TypeError:", "w:typeerror"},
        ParseCase{"order_id", "p:order,id"}, ParseCase{"foo.ba*", "x:foo,ba"},
        ParseCase{"order_id*", "x:order,id"}, ParseCase{"foo.*", "x:foo"},
        ParseCase{"\"one\"", "w:one"},
        ParseCase{"\"conn*\"", "w:conn"},  // '*' in quotes: punctuation
        ParseCase{"\"-x\" a", "w:x w:a"},  // '-' in quotes too
        ParseCase{"--x a", "-w:x w:a"},
        ParseCase{"a - b", "w:a w:b"},  // a lone '-' has no word: ignored
        ParseCase{"a : b", "w:a w:b"}, ParseCase{"a \"\" \"!!\" 😀", "w:a"},
        ParseCase{"\"a\"b", "w:a w:b"},
        ParseCase{"foo\"bar baz\"", "w:foo p:bar,baz"},
        ParseCase{"  a\t\nb\r\f\v ", "w:a w:b"},
        ParseCase{"a\xC2\xA0"
                  "b\xE3\x80\x80"
                  "c",
                  "w:a w:b w:c"},
        ParseCase{"OR", "w:or"}, ParseCase{"a OR b", "w:a w:or w:b"},
        ParseCase{"NOT x AND y", "w:not w:x w:and w:y"},
        ParseCase{"NEAR(a b, 2)", "p:near,a w:b w:2"},
        ParseCase{"title:oom", "p:title,oom"},
        ParseCase{"{title culprit}: x", "w:title w:culprit w:x"},
        ParseCase{"^start a+b (c)", "w:start p:a,b w:c"},
        ParseCase{"xy:* & !y | z <-> w", "x:xy w:y w:z w:w"},
        ParseCase{"';DROP TABLE groups;--", "w:drop w:table w:groups"},
        ParseCase{"École CAFÉ*", "w:ecole x:cafe"},
        ParseCase{"日本語", "w:日本語"}, ParseCase{"日本*", "x:日本"},
        ParseCase{"\"Connection  REFUSED\"", "p:connection,refused"},
        ParseCase{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                  "w:1 w:2 w:3 w:4 w:5 w:6 w:7 w:8 w:9 w:10 w:11 w:12 w:13 "
                  "w:14 w:15 w:16"},
        // Ignored terms do not count against the 16.
        ParseCase{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 : ! ?",
                  "w:1 w:2 w:3 w:4 w:5 w:6 w:7 w:8 w:9 w:10 w:11 w:12 w:13 "
                  "w:14 w:15 w:16"}));

INSTANTIATE_TEST_SUITE_P(
    Invalid, ParseTest,
    ::testing::Values(
        ParseCase{"", "error: query is empty"},
        ParseCase{" \t\r\n", "error: query is empty"},
        ParseCase{":::",
                  "error: query has no word to search for (punctuation "
                  "and symbols alone are not searched)"},
        ParseCase{"- \"\" 😀",
                  "error: query has no word to search for "
                  "(punctuation and symbols alone are not "
                  "searched)"},
        ParseCase{"*",
                  "error: prefix \"*\" is too short: at least 2 letters "
                  "or digits must come before '*'"},
        ParseCase{"x:*",
                  "error: prefix \"x:*\" is too short: at least 2 "
                  "letters or digits must come before '*'"},
        ParseCase{"a*",
                  "error: prefix \"a*\" is too short: at least 2 "
                  "letters or digits must come before '*'"},
        ParseCase{"x -é*",
                  "error: prefix \"é*\" is too short: at least 2 "
                  "letters or digits must come before '*'"},
        ParseCase{"foo.b*",
                  "error: prefix \"foo.b*\" is too short: at least "
                  "2 letters or digits must come before '*'"},
        ParseCase{"*foo",
                  "error: '*' is only allowed at the end of a word (a "
                  "prefix search), not in \"*foo\""},
        ParseCase{"a*b",
                  "error: '*' is only allowed at the end of a word (a "
                  "prefix search), not in \"a*b\""},
        ParseCase{"foo**",
                  "error: '*' is only allowed at the end of a word "
                  "(a prefix search), not in \"foo**\""},
        ParseCase{"\"a\"*",
                  "error: prefix \"*\" is too short: at least 2 "
                  "letters or digits must come before '*'"},
        ParseCase{"\"unterminated",
                  "error: unterminated phrase: the '\"' at "
                  "character 1 has no closing '\"'"},
        ParseCase{"é -\"b",
                  "error: unterminated phrase: the '\"' at "
                  "character 4 has no closing '\"'"},
        ParseCase{"\"",
                  "error: unterminated phrase: the '\"' at character 1 "
                  "has no closing '\"'"},
        ParseCase{"-x",
                  "error: query has only exclusions (-term): add at "
                  "least one word, phrase or prefix to search for; "
                  "\"everything except\" is not a search"},
        ParseCase{"-x -\"a b\" -conn* : -",
                  "error: query has only "
                  "exclusions (-term): add at least "
                  "one word, phrase or prefix to "
                  "search for; \"everything "
                  "except\" is not a search"},
        ParseCase{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
                  "error: query has more than 16 terms; at most 16 are "
                  "allowed"},
        ParseCase{"\xFF", "error: query is not valid UTF-8"},
        ParseCase{"a \xC0\xAF", "error: query is not valid UTF-8"},  // overlong
        ParseCase{"\xED\xA0\x80", "error: query is not valid UTF-8"},  // UTF-16
        ParseCase{"caf\xC3", "error: query is not valid UTF-8"}));

TEST(ParseQueryTest, LengthLimitIsInBytes) {
  std::string at_limit(kMaxQueryBytes, 'a');
  EXPECT_EQ(Parsed(at_limit), "w:" + at_limit);
  EXPECT_EQ(Parsed(at_limit + "a"),
            "error: query is 257 bytes long; at most 256 bytes are allowed");
  // 86 three-byte characters are 258 bytes, though only 86 characters.
  std::string cjk;
  for (int i = 0; i < 86; ++i) cjk += "語";
  EXPECT_EQ(Parsed(cjk),
            "error: query is 258 bytes long; at most 256 bytes are allowed");
  EXPECT_EQ(Parsed(std::string(100000, '"')),
            "error: query is 100000 bytes long; at most 256 bytes are "
            "allowed");
}

TEST(ParseQueryTest, ErrorQuotesAtMost40BytesOfTheTerm) {
  std::string long_term = std::string(50, 'x') + "*y";
  EXPECT_EQ(Parsed(long_term),
            "error: '*' is only allowed at the end of a word (a prefix "
            "search), not in \"" +
                std::string(40, 'x') + "...\"");
}

TEST(ParseQueryTest, ErrorLeavesOutputUnchanged) {
  Query q;
  ASSERT_TRUE(ParseQuery("kept", &q).ok());
  Status s = ParseQuery("-x", &q);
  EXPECT_TRUE(s.IsInvalid());
  EXPECT_EQ(Describe(q), "w:kept");
  EXPECT_TRUE(ParseQuery("\"", &q).IsInvalid());
  EXPECT_EQ(Describe(q), "w:kept");
}

TEST(ParseQueryTest, ErrorsAreInvalid) {
  Query q;
  for (std::string_view text : {"", "*", "-x", "\"", "a*b", "\xFF"}) {
    EXPECT_EQ(ParseQuery(text, &q).code(), Status::Code::kInvalid) << text;
  }
}

// --- Matches ----------------------------------------------------------------

struct MatchCase {
  const char* query;
  std::vector<std::string> fields;
  bool want;
};

class MatchesTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MatchesTest, Matches) {
  const MatchCase& c = GetParam();
  Query q;
  ASSERT_TRUE(ParseQuery(c.query, &q).ok()) << c.query;
  std::vector<std::string_view> fields(c.fields.begin(), c.fields.end());
  EXPECT_EQ(Matches(q, fields), c.want) << "query: " << c.query;
}

INSTANTIATE_TEST_SUITE_P(
    Semantics, MatchesTest,
    ::testing::Values(
        // AND of terms, in any field, any order.
        MatchCase{"timeout checkout", {"Checkout failed: Timeout"}, true},
        MatchCase{"timeout checkout", {"Timeout", "in checkout()"}, true},
        MatchCase{"timeout checkout", {"Timeout in cart"}, false},
        // Case and diacritics do not matter; punctuation separates.
        MatchCase{"TYPEERROR", {"TypeError: x is undefined"}, true},
        MatchCase{"ecole", {"L'École est fermée"}, true},
        MatchCase{"\"école fermee\"", {"L'École est fermée"}, false},
        MatchCase{"\"ecole est\"", {"L'École est fermée"}, true},
        // Phrases: in sequence, adjacent, within one field.
        MatchCase{"\"connection refused\"",
                  {"ECONNREFUSED: connection "
                   "refused"},
                  true},
        MatchCase{"\"connection refused\"", {"connection was refused"}, false},
        MatchCase{"\"connection refused\"", {"refused connection"}, false},
        MatchCase{"\"connection refused\"", {"connection", "refused"}, false},
        MatchCase{"order_id", {"KeyError: 'order_id'"}, true},
        MatchCase{"order_id", {"order id"}, true},  // same words
        MatchCase{"order_id", {"id order"}, false},
        MatchCase{"foo.bar", {"at foo.bar(baz.js:12)"}, true},
        // A word is a whole word; a prefix is the start of one.
        MatchCase{"conn", {"connection refused"}, false},
        MatchCase{"conn*", {"connection refused"}, true},
        MatchCase{"conn*", {"conn reset"}, true},
        MatchCase{"conn*", {"reconnect"}, false},
        MatchCase{"foo.ba*", {"foo.bar()"}, true},
        MatchCase{"foo.ba*", {"foo qux.bar()"}, false},
        MatchCase{"CAFÉ*", {"cafeteria"}, true},
        // Exclusions.
        MatchCase{"error -timeout", {"error: disk full"}, true},
        MatchCase{"error -timeout", {"error", "timeout"}, false},
        MatchCase{"error -\"disk full\"", {"error: disk is full"}, true},
        MatchCase{"error -\"disk full\"", {"error: disk full"}, false},
        MatchCase{"error -dis*", {"error: disk full"}, false},
        MatchCase{"x -x", {"x"}, false},
        // Operators of the backends are plain words.
        MatchCase{"OR", {"this OR that"}, true},
        MatchCase{"a OR b", {"a b"}, false},
        MatchCase{"NEAR(a", {"near a"}, true},
        MatchCase{"title:oom", {"oom", "title"}, false},
        MatchCase{"title:oom", {"title: OOM killed"}, true},
        // Scripts without spaces: whole runs only, or a prefix.
        MatchCase{"日本語", {"日本語のエラー"}, false},
        MatchCase{"日本*", {"日本語のエラー"}, true},
        MatchCase{"straße", {"STRASSE"}, false},
        MatchCase{"straße", {"Straße"}, true}));

TEST(MatchesTest, QueryWithoutPositiveTermMatchesNothing) {
  Query q;
  q.terms.push_back(Term{Term::kWord, {"x"}, true});
  EXPECT_FALSE(Matches(q, "anything"));
  EXPECT_FALSE(Matches(Query{}, "anything"));
}

TEST(MatchesTest, SingleFieldOverloadAndEmptyFields) {
  Query q;
  ASSERT_TRUE(ParseQuery("a b", &q).ok());
  EXPECT_TRUE(Matches(q, "b a"));
  EXPECT_FALSE(Matches(q, std::vector<std::string_view>{}));
  EXPECT_FALSE(Matches(q, ""));
}

TEST(MatchesTest, LongDocument) {
  std::string doc;
  for (int i = 0; i < 20000; ++i) doc += "word" + std::to_string(i) + " ";
  doc += "needle in haystack";
  Query q;
  ASSERT_TRUE(ParseQuery("\"needle in\" word199*", &q).ok());
  EXPECT_TRUE(Matches(q, doc));
  ASSERT_TRUE(ParseQuery("\"needle haystack\"", &q).ok());
  EXPECT_FALSE(Matches(q, doc));
}

// --- ToFts5Match / ToPostgresTsQuery
// ------------------------------------------

struct TranslateCase {
  const char* query;
  const char* fts5;
  const char* tsquery;
};

class TranslateTest : public ::testing::TestWithParam<TranslateCase> {};

TEST_P(TranslateTest, Translates) {
  Query q;
  ASSERT_TRUE(ParseQuery(GetParam().query, &q).ok()) << GetParam().query;
  EXPECT_EQ(ToFts5Match(q), GetParam().fts5);
  EXPECT_EQ(ToPostgresTsQuery(q), GetParam().tsquery);
}

INSTANTIATE_TEST_SUITE_P(
    Queries, TranslateTest,
    ::testing::Values(
        TranslateCase{"timeout", "\"timeout\"", "'timeout'"},
        TranslateCase{"Timeout checkout", "\"timeout\" AND \"checkout\"",
                      "'timeout' & 'checkout'"},
        TranslateCase{"timeout \"connection refused\" conn* -x -\"a b\"",
                      "(\"timeout\" AND \"connection refused\" AND \"conn\" *) "
                      "NOT (\"x\" OR \"a b\")",
                      "'timeout' & ( 'connection' <-> 'refused' ) & "
                      "'conn':* & !'x' & !( 'a' <-> 'b' )"},
        TranslateCase{"-x a", "(\"a\") NOT (\"x\")", "!'x' & 'a'"},
        TranslateCase{"foo.ba* -order_id*",
                      "(\"foo ba\" *) NOT (\"order id\" *)",
                      "( 'foo' <-> 'ba':* ) & !( 'order' <-> 'id':* )"},
        TranslateCase{"OR AND NOT NEAR",
                      "\"or\" AND \"and\" AND \"not\" AND "
                      "\"near\"",
                      "'or' & 'and' & 'not' & 'near'"},
        TranslateCase{"title:x ^a", "\"title x\" AND \"a\"",
                      "( 'title' <-> 'x' ) & 'a'"},
        TranslateCase{"it's", "\"it s\"", "( 'it' <-> 's' )"},
        TranslateCase{"Ünïcödé 日本*", "\"unicode\" AND \"日本\" *",
                      "'unicode' & '日本':*"}));

TEST(TranslateTest, HandMadeWordsAreQuotedAllTheSame) {
  // ParseQuery never makes such words; the strings stay well-formed.
  Query q;
  q.terms.push_back(Term{Term::kPhrase, {"a\"b", "c'd\\e"}, false});
  EXPECT_EQ(ToFts5Match(q), "\"a\"\"b c'd\\e\"");
  EXPECT_EQ(ToPostgresTsQuery(q), "( 'a\"b' <-> 'c''d\\\\e' )");
}

TEST(TranslateTest, NoPositiveTermGivesEmptyString) {
  Query q;
  EXPECT_EQ(ToFts5Match(q), "");
  EXPECT_EQ(ToPostgresTsQuery(q), "");
  q.terms.push_back(Term{Term::kWord, {"x"}, true});
  EXPECT_EQ(ToFts5Match(q), "");
  EXPECT_EQ(ToPostgresTsQuery(q), "");
}

}  // namespace
}  // namespace search
}  // namespace crashctl

namespace crashctl {
namespace search {
namespace {

std::string TsVector(std::vector<std::string_view> fields) {
  return ToPostgresTsVector(fields);
}

TEST(PostgresTsVectorTest, WordsWithPositionsAndAGapBetweenFields) {
  EXPECT_EQ(TsVector({"Connection refused", "db.pool"}),
            "'connection':1 'db':4 'pool':5 'refused':2");
  EXPECT_EQ(TsVector({"a a A", "", ":::", "a"}), "'a':1,2,3,5");
  EXPECT_EQ(TsVector({"L'École", "日本語 OR"}),
            "'ecole':2 'l':1 'or':5 '日本語':4");
  EXPECT_EQ(TsVector({}), "");
  EXPECT_EQ(TsVector({"", "!!"}), "");
}

TEST(PostgresTsVectorTest, KeepsWithinPostgresLimits) {
  // A word over 2047 bytes is left out but keeps its position.
  std::string long_word(kPostgresMaxLexemeBytes + 1, 'x');
  std::string at_limit(kPostgresMaxLexemeBytes, 'y');
  EXPECT_EQ(TsVector({"a " + long_word + " b " + at_limit}),
            "'a':1 'b':3 '" + at_limit + "':4");
  // Positions stop at 16383; a word keeps at most 256 positions.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "w ";
  many += "last";
  std::string got = TsVector({many});
  EXPECT_EQ(got.substr(0, 13), "'last':16383 ");
  std::string want = "'w':1";
  for (int i = 2; i <= 256; ++i) want += "," + std::to_string(i);
  EXPECT_EQ(got.substr(13), want);
}

// The size PostgreSQL 15's tsvector input counts (tsvector.c, uniqueentry):
// each word's length rounded up to even, 2 bytes of position count, 2 per
// position.
size_t PostgresSize(const std::string& tsvector) {
  size_t size = 0;
  for (size_t pos = 0; (pos = tsvector.find('\'', pos)) != std::string::npos;) {
    size_t end = tsvector.find('\'', pos + 1);
    size_t len = end - pos - 1;
    size_t next = tsvector.find(' ', end);
    if (next == std::string::npos) next = tsvector.size();
    size_t positions = 1;
    for (size_t i = end; i < next; ++i) positions += tsvector[i] == ',';
    size += ((len + 1) & ~size_t{1}) + 2 + 2 * positions;
    pos = next;
  }
  return size;
}

TEST(PostgresTsVectorTest, StaysUnderPostgresSizeLimit) {
  // 140,000 distinct words would be about 2 MB to PostgreSQL.
  std::string text;
  for (int i = 0; i < 140000; ++i) text += "word" + std::to_string(i) + " ";
  std::string got = TsVector({text});
  size_t size = PostgresSize(got);
  EXPECT_LE(size, kPostgresMaxTsVectorBytes);
  EXPECT_GT(size, kPostgresMaxTsVectorBytes - 20);
  EXPECT_EQ(got.find("'word139999'"), std::string::npos);
  EXPECT_NE(got.find("'word0':1 "), std::string::npos);
  EXPECT_EQ(PostgresSize("'ab':1 'abc':2,3"), 2 + 2 + 2 + 4 + 2 + 4);
}

}  // namespace
}  // namespace search
}  // namespace crashctl
