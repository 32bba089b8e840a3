// Placeholder until the sessions work lands: records nothing.
#include "crashctl/health/session_service.h"

namespace crashctl {
namespace health {

struct SessionService::Impl {
  store::Store* store = nullptr;
  Options options;
};

SessionService::SessionService(store::Store* store,
                               prometheus::Registry* registry, Options options)
    : impl_(std::make_unique<Impl>()) {
  (void)registry;
  impl_->store = store;
  impl_->options = std::move(options);
}

SessionService::~SessionService() { Stop(); }

Status SessionService::Record(
    int64_t project_id, const std::vector<releases::SessionUpdate>& updates,
    const std::vector<releases::SessionAggregates>& aggregates, double now) {
  (void)project_id, (void)updates, (void)aggregates, (void)now;
  return Status::Ok();
}

void SessionService::OnEventStored(const model::WriteItem& item,
                                   const model::WriteOutcome& outcome) {
  (void)item, (void)outcome;
}

void SessionService::ProjectKnown(int64_t project_id) { (void)project_id; }
void SessionService::Start() {}
void SessionService::Stop() {}
Status SessionService::ExpireOnce(double now) {
  (void)now;
  return Status::Ok();
}

}  // namespace health
}  // namespace crashctl
