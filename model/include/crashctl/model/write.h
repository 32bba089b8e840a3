// What ingestion hands to the store: an event with its computed group, and
// what became of it.
//
// Thread-safety: plain values; copies may be moved between threads.
#ifndef CRASHCTL_MODEL_WRITE_H_
#define CRASHCTL_MODEL_WRITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/model/event.h"

namespace crashctl {
namespace model {

struct GroupingResult {
  // 32 lowercase hex characters: the first 16 bytes of the SHA-256 of
  // `components` joined by '\n'. Identifies the group within a project.
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
  // The frame that raised, as "function (file:line)" with the frame's own
  // (not normalised) names: the innermost in-app frame of the last
  // exception that has a stack trace, else its innermost frame; "" when the
  // event has no frames. Alerts name it.
  std::string top_frame;
  // Which rule decided: "fingerprint", "stacktrace", "exception", "message".
  std::string method;
};

// One event on its way into the store, with its computed group.
struct WriteItem {
  Event event;
  GroupingResult grouping;
  // The store's encoding of event.raw_json, made by Store::PrepareWrite on
  // the submitting thread; empty when the item did not go through it.
  std::string stored_payload;
};

// What happened to one WriteItem.
struct WriteOutcome {
  int64_t group_id = 0;
  bool new_group = false;   // the group was created by this event
  bool regression = false;  // the group was resolved and reopened
  bool duplicate = false;   // event_id already stored: nothing written
};

}  // namespace model
}  // namespace crashctl

#endif  // CRASHCTL_MODEL_WRITE_H_
