// Grouping: decides which issue (group) an event belongs to.
//
// Deterministic and pure: the same event always yields the same result, on any
// machine, in any build. Thread-safe (no shared state).
#ifndef CRASHCTL_GROUPING_GROUPING_H_
#define CRASHCTL_GROUPING_GROUPING_H_

#include <string>
#include <vector>

#include "crashctl/model/event.h"
#include "crashctl/model/write.h"

namespace crashctl {
namespace grouping {

// Computes the group of `event` (docs/grouping.md states the rules in
// full). Rules, first match wins:
//  1. a client fingerprint (`{{ default }}` expands to the computed default);
//  2. the stack traces of the exception chain (in-app frames only when there
//     are any; module or normalised filename plus normalised function);
//  3. exception type plus normalised value;
//  4. the normalised message.
model::GroupingResult ComputeGrouping(const model::Event& event);

// Replaces variable parts of a message with placeholders: numbers ("<int>",
// "<float>", "<version>"), "0x.." and long hex words ("<hex>"), UUIDs
// ("<uuid>"), IPv4/IPv6 addresses ("<ip>"), emails ("<email>"), URLs
// ("<url>"), ISO dates and date-times ("<date>"), times ("<time>") and
// quoted strings ("<quoted>"). Digits inside identifiers ("utf8") are kept.
// Linear time in the length of `message` on any input.
std::string NormalizeMessage(const std::string& message);

// Demangles a C++ symbol if it is mangled, then strips argument lists,
// template arguments, return types, cv/ref qualifiers, "(anonymous
// namespace)::", lambda numbering ("{lambda(int)#1}" -> "{lambda}") and GCC
// clone suffixes (".cold", ".isra.0", "[clone .constprop.0]").
// "_ZN3foo3barIiEEvv" -> "foo::bar". Names that are neither mangled nor look
// like C++ (no "::", no trailing argument list) are returned unchanged.
std::string NormalizeFunction(const std::string& function);

// The naming conventions NormalizeFrameFunction knows.
enum class FunctionLanguage { kNative, kJavaScript, kPython, kGo, kOther };

// Maps a Sentry platform ("native", "c", "cocoa", "javascript", "node",
// "python", "go", ...) to its naming convention; unknown -> kOther.
FunctionLanguage LanguageForPlatform(const std::string& platform);

// Normalises a frame's function name for grouping. Mangled names are always
// demangled. kNative: as NormalizeFunction, applied to every name except
// Objective-C methods ("-[Foo bar:]"). kJavaScript: drops "async ",
// "new ", "Object.", " [as x]" and " (index 0)" ("Object.<anonymous>" ->
// "<anonymous>"). kGo: drops the package path before the last '/'.
// kPython: unchanged. kOther: as NormalizeFunction.
std::string NormalizeFrameFunction(const std::string& function,
                                   FunctionLanguage language);

// Reduces a frame's filename or URL to a path that is stable across builds
// and deployments: no scheme/host, query or fragment, no drive letter, no
// version suffixes ("pkg@1.2.3"), no hash-like parts in bundle names
// ("main.3f2a1b9c.js" -> "main.js"); the path inside node_modules,
// site-packages, dist-packages or the Go module cache when the file is in
// one, else the last two path segments.
// "/home/ci/build/app/handlers.js" -> "app/handlers.js".
std::string NormalizeFilename(const std::string& filename);

}  // namespace grouping
}  // namespace crashctl

#endif  // CRASHCTL_GROUPING_GROUPING_H_
