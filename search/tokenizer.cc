// search::Tokenize: the ASCII rule by hand, the rest by SQLite's own
// unicode61 tokenizer (tokenizer_private.h).
#include <sqlite3.h>

#include <climits>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crashctl/search/query.h"
#include "tokenizer_private.h"

namespace crashctl {
namespace search {
namespace internal {
namespace {

// Longer texts are tokenized up to here only: xTokenize takes an int length,
// and SQLite refuses strings over SQLITE_MAX_LENGTH (10^9 by default), so no
// FTS5 row can hold more.
constexpr size_t kMaxTokenizeBytes = size_t{1} << 30;

// The unicode61 tokenizer of a private in-memory connection. The connection
// is only used to reach the fts5_api; it is never closed (the object lives
// until the process exits, so no tokenization can outlive it). Tokenizer
// instances are made per call: an instance has a scratch buffer, so it
// cannot be shared between threads, while xCreate/xTokenize/xDelete on
// separate instances touch no shared state but sqlite3_malloc (thread-safe).
struct Unicode61 {
  sqlite3* db = nullptr;
  fts5_tokenizer methods{};
  void* user_data = nullptr;
  Status status;
};

const char* const kArgs[] = {"remove_diacritics", "2"};

Unicode61* Load() {
  auto* u = new Unicode61();
  int rc = sqlite3_open_v2(":memory:", &u->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    u->status = Status::Unavailable(
        std::string("opening an in-memory SQLite database for the unicode61 "
                    "tokenizer: ") +
        sqlite3_errstr(rc));
    return u;
  }
  fts5_api* fts5 = nullptr;
  sqlite3_stmt* stmt = nullptr;
  rc = sqlite3_prepare_v2(u->db, "SELECT fts5(?1)", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, &fts5, "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (fts5 == nullptr || fts5->iVersion < 2) {
    u->status = Status::Unavailable(
        std::string("this SQLite has no FTS5 (SELECT fts5(?1): ") +
        sqlite3_errmsg(u->db) + ")");
    return u;
  }
  rc = fts5->xFindTokenizer(fts5, "unicode61", &u->user_data, &u->methods);
  if (rc != SQLITE_OK) {
    u->status = Status::Unavailable(
        std::string("FTS5 has no unicode61 tokenizer: ") + sqlite3_errstr(rc));
    return u;
  }
  // One instance now, so that a bad argument shows at once and not on the
  // first non-ASCII document.
  Fts5Tokenizer* tok = nullptr;
  rc = u->methods.xCreate(u->user_data, const_cast<const char**>(kArgs), 2,
                          &tok);
  if (rc != SQLITE_OK) {
    u->status = Status::Unavailable(
        std::string("FTS5 refuses unicode61 remove_diacritics 2: ") +
        sqlite3_errstr(rc));
    return u;
  }
  u->methods.xDelete(tok);
  return u;
}

Unicode61* Get() {
  static Unicode61* const instance = Load();  // thread-safe initialisation
  return instance;
}

int OnToken(void* ctx, int flags, const char* token, int size, int /*start*/,
            int /*end*/) {
  // unicode61 reports no colocated tokens (synonyms); skip any all the same.
  if ((flags & FTS5_TOKEN_COLOCATED) != 0) return SQLITE_OK;
  try {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(
        token, static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

}  // namespace

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void TokenizeAscii(std::string_view text, std::vector<std::string>* out) {
  std::string token;
  for (char c : text) {
    unsigned char b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b >= 0x80) {
      token.push_back(c);
    } else if (b >= 'A' && b <= 'Z') {
      token.push_back(static_cast<char>(b - 'A' + 'a'));
    } else if (!token.empty()) {
      out->push_back(std::move(token));
      token.clear();
    }
  }
  if (!token.empty()) out->push_back(std::move(token));
}

bool TokenizeUnicode61(std::string_view text, std::vector<std::string>* out) {
  Unicode61* u = Get();
  if (!u->status.ok()) return false;
  if (text.size() > kMaxTokenizeBytes) text = text.substr(0, kMaxTokenizeBytes);
  Fts5Tokenizer* tok = nullptr;
  if (u->methods.xCreate(u->user_data, const_cast<const char**>(kArgs), 2,
                         &tok) != SQLITE_OK) {
    return false;
  }
  std::vector<std::string> tokens;
  int rc = u->methods.xTokenize(tok, &tokens, FTS5_TOKENIZE_DOCUMENT,
                                text.empty() ? "" : text.data(),
                                static_cast<int>(text.size()), OnToken);
  u->methods.xDelete(tok);
  if (rc != SQLITE_OK) return false;
  out->insert(out->end(), std::make_move_iterator(tokens.begin()),
              std::make_move_iterator(tokens.end()));
  return true;
}

const Status& Unicode61Status() { return Get()->status; }

}  // namespace internal

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  if (internal::IsAscii(text) || !internal::TokenizeUnicode61(text, &out)) {
    internal::TokenizeAscii(text, &out);
  }
  return out;
}

}  // namespace search
}  // namespace crashctl
