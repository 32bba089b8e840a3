// REST routes of attachments (issue 18, docs/rest-api.md):
//   GET /api/v1/events/{event_id}/attachments
//   GET /api/v1/events/{event_id}/attachments/{attachment_id}
// and the loaders of what the event and group answers add (attachment
// count, feedback). A store that keeps no attachments or feedback (its
// Store defaults) answers empty lists, not errors.
//
// Thread-safety: the handlers are safe to call concurrently.
#ifndef CRASHCTL_REST_ATTACHMENTS_ROUTES_H_
#define CRASHCTL_REST_ATTACHMENTS_ROUTES_H_

#include <cstdint>
#include <vector>

#include "crashctl/http/http.h"
#include "crashctl/rest/rest_api.h"
#include "crashctl/store/store.h"
#include "resource_json.h"

namespace crashctl {
namespace rest {

// Feedback shown on an event and on a group (the newest this many).
constexpr size_t kEventFeedbackShown = 100;
constexpr size_t kGroupFeedbackShown = 10;

void RegisterAttachmentRoutes(http::Router* router, store::Store* store,
                              const RestOptions& options);
Status LoadEventExtras(store::Store* store, const std::string& event_id,
                       EventExtras* out);
Status LoadGroupFeedback(store::Store* store, int64_t group_id,
                         std::vector<model::Feedback>* out);

}  // namespace rest
}  // namespace crashctl

#endif  // CRASHCTL_REST_ATTACHMENTS_ROUTES_H_
