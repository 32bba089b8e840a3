// NormalizeFilename: reduces a frame's filename to a stable relative path.

#include <string>
#include <string_view>
#include <vector>

#include "crashctl/grouping/grouping.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace grouping {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// First position at or after `from` holding `a` or `b`, else npos. (A plain
// loop: string_view::find_first_of calls memchr once per character.)
size_t FindEither(std::string_view s, char a, char b, size_t from = 0) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == a || s[i] == b) return i;
  }
  return std::string_view::npos;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "pkg@1.2.3" -> "pkg", "y@v1.2.3" -> "y"; "@scope" is kept.
std::string_view StripVersion(std::string_view segment) {
  size_t at = segment.find('@', 1);
  if (at == std::string_view::npos || at + 1 >= segment.size()) return segment;
  char next = segment[at + 1];
  if (IsDigit(next) ||
      (next == 'v' && at + 2 < segment.size() && IsDigit(segment[at + 2]))) {
    return segment.substr(0, at);
  }
  return segment;
}

// A content hash as bundlers put in file names: 8+ alphanumerics that are
// all hex with a digit, or contain at least two digits.
bool IsHashLike(std::string_view part) {
  if (part.size() < 8) return false;
  int digits = 0;
  bool all_hex = true;
  for (char c : part) {
    if (!IsAlnum(c)) return false;
    if (IsDigit(c)) ++digits;
    if (!util::IsHexDigit(c)) all_hex = false;
  }
  return digits >= 2 || (all_hex && digits >= 1);
}

bool IsBundleExtension(std::string_view ext) {
  static const char* const kExts[] = {".js",  ".mjs",   ".cjs", ".jsx",
                                      ".ts",  ".tsx",   ".css", ".map",
                                      ".vue", ".svelte"};
  for (const char* e : kExts) {
    if (ext == e) return true;
  }
  return false;
}

// Appends `base` to `*out` without its bundler hash:
// "main.3f2a1b9c.js" -> "main.js", "index-BxR3k9aZ.js" -> "index.js",
// "vendors~main.a1b2c3d4.chunk.js" -> "vendors~main.chunk.js".
void AppendWithoutBundleHash(std::string_view base, std::string* out) {
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    out->append(base);
    return;
  }
  std::string_view ext = base.substr(dot);
  if (EndsWith(base, ".js.map")) ext = ".js.map";
  std::string_view stem = base.substr(0, base.size() - ext.size());
  if (!IsBundleExtension(ext == ".js.map" ? ".map" : ext)) {
    out->append(base);
    return;
  }
  const size_t mark = out->size();
  bool any = false;
  size_t i = 0;
  while (i <= stem.size()) {
    size_t j = FindEither(stem, '.', '-', i);
    if (j == std::string_view::npos) j = stem.size();
    std::string_view part = stem.substr(i, j - i);
    if (!IsHashLike(part)) {
      if (any) out->push_back(stem[i - 1]);
      out->append(part);
      any = any || !part.empty();
    }
    i = j + 1;
  }
  if (!any) {
    out->resize(mark);
    out->append(base);
    return;
  }
  out->append(ext);
}

}  // namespace

// Works on views of `filename` (one copy only when it has backslashes);
// this runs for every in-app frame of every event, on the ingest path.
std::string NormalizeFilename(const std::string& filename) {
  std::string_view path(filename);
  // Query string and fragment.
  size_t cut = FindEither(path, '?', '#');
  if (cut != std::string_view::npos) path = path.substr(0, cut);
  std::string slashed;
  if (path.find('\\') != std::string_view::npos) {
    slashed.assign(path);
    for (char& c : slashed) {
      if (c == '\\') c = '/';
    }
    path = slashed;
  }
  // "scheme://host/..." (webpack://, file://, app:///, http(s)://).
  size_t scheme = path.find("://");
  if (scheme != std::string_view::npos) {
    size_t host_end = path.find('/', scheme + 3);
    path = host_end == std::string_view::npos ? std::string_view()
                                              : path.substr(host_end);
  }
  // Windows drive letter.
  if (path.size() >= 2 && path[1] == ':' && IsAlnum(path[0])) {
    path.remove_prefix(2);
  }

  std::vector<std::string_view> segments;
  segments.reserve(16);
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (!seg.empty() && seg != "." && seg != "..") {
      segments.push_back(StripVersion(seg));
    }
    i = j + 1;
  }
  if (segments.empty()) return "";

  // Inside a package directory: keep the path relative to it.
  size_t keep_from = segments.size() >= 2 ? segments.size() - 2 : 0;
  for (size_t k = segments.size() - 1; k-- > 0;) {
    std::string_view seg = segments[k];
    if (seg == "node_modules" || seg == "site-packages" ||
        seg == "dist-packages" ||
        (seg == "mod" && k > 0 && segments[k - 1] == "pkg")) {
      keep_from = k + 1;
      break;
    }
  }
  std::string out;
  out.reserve(path.size());
  for (size_t k = keep_from; k < segments.size(); ++k) {
    if (!out.empty()) out += '/';
    if (k + 1 == segments.size()) {
      AppendWithoutBundleHash(segments[k], &out);
    } else {
      out.append(segments[k]);
    }
  }
  return out;
}

}  // namespace grouping
}  // namespace crashctl
