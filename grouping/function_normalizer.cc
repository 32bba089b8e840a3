// NormalizeFunction and NormalizeFrameFunction: demangling and the removal of
// everything in a function name that varies between builds or call sites.

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "crashctl/grouping/grouping.h"
#include "crashctl/util/strings.h"

namespace crashctl {
namespace grouping {
namespace {

// Mangled names longer than this are not demangled (the demangler is
// recursive; hostile input must not exhaust the stack or the time budget).
constexpr size_t kMaxDemangleLength = 4096;

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '$';
}

bool IsMangled(const std::string& s) {
  return util::StartsWith(s, "_Z") || util::StartsWith(s, "__Z");
}

// Returns the demangled name, or "" when `mangled` is not a valid symbol.
// The SDK has its own (sdk/support, with Rust's schemes through libiberty):
// it is installed into users' programs without any server library, and the
// server has no Rust symbols to demangle (the supervisor sends them
// demangled); this one also bounds the input, as grouping sees untrusted
// names.
std::string Demangle(const std::string& mangled) {
  if (mangled.size() > kMaxDemangleLength) return "";
  const char* name = mangled.c_str();
  if (util::StartsWith(mangled, "__Z")) ++name;  // Mach-O extra underscore
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  if (status != 0 || out == nullptr) return "";
  return out.get();
}

// Skips a balanced group opened by s[i] (one of "(<[{"); returns the index
// just past its closing character, or s.size() when it is not closed.
size_t SkipGroup(const std::string& s, size_t i) {
  int depth = 0;
  for (size_t j = i; j < s.size(); ++j) {
    char c = s[j];
    if (c == '(' || c == '<' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == '>' || c == ']' || c == '}') {
      if (--depth == 0) return j + 1;
    }
  }
  return s.size();
}

bool IsOperatorSymbol(char c) {
  switch (c) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '^':
    case '&':
    case '|':
    case '~':
    case '!':
    case '=':
    case '<':
    case '>':
    case ',':
      return true;
    default:
      return false;
  }
}

// If `s` has the keyword "operator" at `i`, appends the operator's name to
// `out` ("operator<<", "operator()", "operator new[]", "operator bool") and
// returns the index after it; otherwise returns `i`.
size_t CopyOperatorName(const std::string& s, size_t i, std::string* out) {
  static const char kKeyword[] = "operator";
  constexpr size_t kLen = sizeof(kKeyword) - 1;
  if (s.compare(i, kLen, kKeyword) != 0) return i;
  if (i > 0 && IsIdentChar(s[i - 1])) return i;
  size_t j = i + kLen;
  if (j < s.size() && IsIdentChar(s[j]) && s.compare(j, 1, " ") != 0) {
    return i;  // an identifier such as "operators"
  }
  std::string name = "operator";
  while (j < s.size() && s[j] == ' ') ++j;
  if (s.compare(j, 2, "()") == 0 || s.compare(j, 2, "[]") == 0) {
    name += s.substr(j, 2);
    j += 2;
  } else if (j < s.size() && IsOperatorSymbol(s[j])) {
    size_t k = j;
    while (k < s.size() && IsOperatorSymbol(s[k]) && k - j < 3) ++k;
    name += s.substr(j, k - j);
    j = k;
  } else {
    // "new", "delete", "new[]", a conversion ("operator unsigned int",
    // "operator std::string") or a literal ("operator\"\" _km").
    name += ' ';
    size_t k = j;
    while (k < s.size() && s[k] != '(' && s[k] != '<' && s[k] != '[') ++k;
    std::string rest = s.substr(j, k - j);
    while (!rest.empty() && rest.back() == ' ') rest.pop_back();
    name += rest;
    j = k;
    if (s.compare(j, 2, "[]") == 0) {
      name += "[]";
      j += 2;
    }
  }
  *out += name;
  return j;
}

bool IsQualifierAt(const std::string& s, size_t i, size_t* end) {
  static const char* const kQualifiers[] = {
      "const", "volatile", "noexcept", "&&", "&", "transaction_safe"};
  for (const char* q : kQualifiers) {
    size_t len = std::char_traits<char>::length(q);
    if (s.compare(i, len, q) == 0 &&
        (i + len >= s.size() || !IsIdentChar(s[i + len]) || q[0] == '&')) {
      *end = i + len;
      return true;
    }
  }
  return false;
}

// Removes anonymous namespaces, template arguments, argument lists, cv/ref
// qualifiers, "[clone .x]" and "[abi:cxx11]" tags, lambda numbering and the
// return type from a demangled C++ name.
std::string StripCxxName(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t name_start = 0;  // start of the qualified name in `out`
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    size_t after_op = CopyOperatorName(s, i, &out);
    if (after_op != i) {
      i = after_op;
      continue;
    }
    if (s.compare(i, 21, "(anonymous namespace)") == 0) {
      i += 21;
      if (s.compare(i, 2, "::") == 0) i += 2;
      continue;
    }
    if (c == '<') {
      i = SkipGroup(s, i);
      continue;
    }
    if (c == '(') {
      i = SkipGroup(s, i);
      // Qualifiers after an argument list: "() const &", "() noexcept".
      for (int guard = 0; guard < 8; ++guard) {
        size_t j = i;
        while (j < s.size() && s[j] == ' ') ++j;
        size_t q_end = 0;
        if (!IsQualifierAt(s, j, &q_end)) break;
        i = q_end;
      }
      continue;
    }
    if (c == '[') {
      i = SkipGroup(s, i);
      while (!out.empty() && out.back() == ' ') out.pop_back();
      continue;
    }
    if (c == '{') {
      // "{lambda(int)#1}" -> "{lambda}", "{unnamed type#2}" -> "{unnamed
      // type}".
      size_t close = SkipGroup(s, i);
      size_t k = i + 1;
      while (k < close && s[k] != '(' && s[k] != '#' && s[k] != '}') ++k;
      out += s.substr(i, k - i);
      out += '}';
      i = close;
      continue;
    }
    if (c == ' ') {
      // A space outside any group separates the return type (or a
      // qualifier) from the name: keep only what follows it.
      size_t j = i;
      while (j < s.size() && s[j] == ' ') ++j;
      if (j < s.size() && s[j] != '[') {
        out.erase(name_start);
        name_start = out.size();
      }
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  out.erase(0, name_start);
  // Strip pointer/reference symbols left by a return type ("char* foo").
  size_t first = out.find_first_not_of("*& ");
  if (first == std::string::npos) return std::string();
  out.erase(0, first);
  while (!out.empty() && (out.back() == ' ' || out.back() == ':')) {
    out.pop_back();
  }
  // Rust legacy symbols end in a hash: "core::ptr::drop_in_place::h0123..".
  if (out.size() > 19 && out.compare(out.size() - 19, 3, "::h") == 0 &&
      out.find_first_not_of("0123456789abcdef", out.size() - 16) ==
          std::string::npos) {
    out.erase(out.size() - 19);
  }
  return out;
}

// GCC clone suffixes on a raw symbol: "foo.cold", "_Z3foov.isra.0",
// "bar.constprop.0.isra.0", "baz.part.1", "qux.lto_priv.0".
std::string StripCloneSuffix(const std::string& s) {
  static const char* const kClones[] = {".cold",  ".isra",     ".constprop",
                                        ".part",  ".lto_priv", ".localalias",
                                        ".clone", ".llvm."};
  size_t cut = std::string::npos;
  for (const char* clone : kClones) {
    size_t pos = s.find(clone);
    if (pos != std::string::npos && pos > 0 && pos < cut) cut = pos;
  }
  return cut == std::string::npos ? s : s.substr(0, cut);
}

bool LooksLikeCxx(const std::string& s) {
  return s.find("::") != std::string::npos ||
         s.find("[clone") != std::string::npos ||
         (s.find('(') != std::string::npos && s.back() == ')') ||
         s.find(") const") != std::string::npos;
}

std::string NormalizeCxx(const std::string& function) {
  // Objective-C methods ("-[Foo bar:]") have no C++ noise to remove.
  if (util::StartsWith(function, "-[") || util::StartsWith(function, "+[")) {
    return function;
  }
  std::string name = function;
  if (IsMangled(name)) {
    std::string demangled = Demangle(name);
    if (demangled.empty()) demangled = Demangle(StripCloneSuffix(name));
    if (demangled.empty()) return StripCloneSuffix(name);
    name = demangled;
  } else {
    name = StripCloneSuffix(name);
  }
  std::string stripped = StripCxxName(name);
  return stripped.empty() ? name : stripped;
}

// V8 / SpiderMonkey names: "Object.<anonymous>" -> "<anonymous>",
// "async handler" -> "handler", "new Foo" -> "Foo", "Foo.bar [as baz]" ->
// "Foo.bar", "async Promise.all (index 0)" -> "Promise.all",
// "handler/<@" (Firefox) -> "handler".
std::string NormalizeJs(const std::string& function) {
  std::string s = function;
  size_t bracket = s.find(" [as ");
  if (bracket != std::string::npos) s.erase(bracket);
  size_t paren = s.find(" (");
  if (paren != std::string::npos) s.erase(paren);
  for (int guard = 0; guard < 4; ++guard) {
    if (util::StartsWith(s, "async ")) {
      s.erase(0, 6);
    } else if (util::StartsWith(s, "new ")) {
      s.erase(0, 4);
    } else if (util::StartsWith(s, "Object.")) {
      s.erase(0, 7);
    } else {
      break;
    }
  }
  size_t firefox = s.find_first_of("/@");
  if (firefox != std::string::npos && firefox > 0) s.erase(firefox);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.empty() ? function : s;
}

// Go: "github.com/acme/shop/handlers.(*Server).Handle" ->
// "handlers.(*Server).Handle".
std::string NormalizeGo(const std::string& function) {
  size_t slash = function.rfind('/');
  return slash == std::string::npos ? function : function.substr(slash + 1);
}

}  // namespace

FunctionLanguage LanguageForPlatform(const std::string& platform) {
  if (platform == "javascript" || platform == "node" ||
      platform == "typescript") {
    return FunctionLanguage::kJavaScript;
  }
  if (platform == "python") return FunctionLanguage::kPython;
  if (platform == "go") return FunctionLanguage::kGo;
  if (platform == "native" || platform == "c" || platform == "cpp" ||
      platform == "c++" || platform == "cocoa" || platform == "objc") {
    return FunctionLanguage::kNative;
  }
  return FunctionLanguage::kOther;
}

std::string NormalizeFrameFunction(const std::string& function,
                                   FunctionLanguage language) {
  if (function.empty()) return function;
  if (IsMangled(function)) return NormalizeCxx(function);
  switch (language) {
    case FunctionLanguage::kNative:
      return NormalizeCxx(function);
    case FunctionLanguage::kJavaScript:
      return NormalizeJs(function);
    case FunctionLanguage::kGo:
      return NormalizeGo(function);
    case FunctionLanguage::kPython:
      return function;
    case FunctionLanguage::kOther:
      break;
  }
  return NormalizeFunction(function);
}

std::string NormalizeFunction(const std::string& function) {
  if (IsMangled(function) || LooksLikeCxx(function)) {
    return NormalizeCxx(function);
  }
  return function;
}

}  // namespace grouping
}  // namespace crashctl
