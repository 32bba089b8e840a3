// Grouping: decides which issue (group) an event belongs to.
//
// Deterministic and pure: the same event always yields the same result, on any
// machine, in any build. Thread-safe (no shared state).
#ifndef CRASHCTL_GROUPING_GROUPING_H_
#define CRASHCTL_GROUPING_GROUPING_H_

#include <string>
#include <vector>

#include "core/event.h"

namespace crashctl {

struct GroupingResult {
  // 32 lowercase hex characters (a hash of `components`); identifies the
  // group within a project.
  std::string fingerprint;
  // Human-readable strings the hash was computed from, for debugging
  // ("exception:TypeError", "frame:app/handlers.js:handleOrder", ...).
  std::vector<std::string> components;
  // "Type: value" of the last exception of the chain, else the message
  // (first line, at most 200 characters), else "<unlabeled event>".
  std::string title;
  // Top in-app frame of the last exception with a stack trace, as
  // "module-or-file in function"; else the transaction, logger or "".
  std::string culprit;
  // Which rule decided: "fingerprint", "stacktrace", "exception", "message".
  std::string method;
};

// Computes the group of `event`. Rules, first match wins:
//  1. a client fingerprint (`{{ default }}` expands to the computed default);
//  2. the stack traces of the exception chain (in-app frames only when there
//     are any; module or normalised filename plus normalised function);
//  3. exception type plus normalised value;
//  4. the normalised message.
GroupingResult ComputeGrouping(const Event& event);

// Replaces variable parts of a message (numbers, hex, UUIDs, IPs, emails,
// URLs, dates, quoted strings) with placeholders such as "<int>".
std::string NormalizeMessage(const std::string& message);

// Demangles a C++ symbol if it is mangled, then strips argument lists,
// template arguments, return types and "(anonymous namespace)::".
// "_ZN3foo3barIiEEvv" -> "foo::bar". Other names are returned unchanged.
std::string NormalizeFunction(const std::string& function);

}  // namespace crashctl

#endif  // CRASHCTL_GROUPING_GROUPING_H_
