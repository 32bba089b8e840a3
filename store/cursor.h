// Keyset-pagination cursors: opaque to clients, base64url (no padding) of
// "<sort>|<value>|<id>", where <value> is the sort key of the last row of
// the previous page and <id> its row id. Values are printed with full
// precision (%.17g) so the cursor compares exactly against the stored REAL.
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_STORE_CURSOR_H_
#define CRASHCTL_STORE_CURSOR_H_

#include <cstdint>
#include <string>

#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

struct Cursor {
  std::string sort;  // e.g. "last_seen", "count", "timestamp", "updated_at"
  double value = 0;
  int64_t id = 0;
};

std::string EncodeCursor(const Cursor& cursor);

// Parses `text` into `*cursor`. Returns false (and sets `*error`) when it is
// not valid base64url, not of the form above, or its sort is not
// `want_sort`.
bool DecodeCursor(const std::string& text, const std::string& want_sort,
                  Cursor* cursor, std::string* error);

// A page's cursor parameter: "" is the first page (*has_cursor false);
// else it must decode as a cursor of `want_sort` (kInvalid with the reason
// otherwise).
Status ParsePageCursor(const std::string& text, const std::string& want_sort,
                       Cursor* cursor, bool* has_cursor);

// The next_cursor after a page whose last row has sort value `value` and id
// `id`.
std::string CursorAfter(const std::string& sort, double value, int64_t id);

// base64url without padding; exposed for tests.
std::string Base64UrlEncode(const std::string& data);
bool Base64UrlDecode(const std::string& text, std::string* data);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_CURSOR_H_
