// Placeholder until the monitors work lands: applies nothing.
#include "crashctl/cron/monitor_service.h"

namespace crashctl {
namespace cron {

struct MonitorService::Impl {
  store::Store* store = nullptr;
  Options options;
};

MonitorService::MonitorService(store::Store* store,
                               prometheus::Registry* registry,
                               alertmanager::AlertPusher* pusher,
                               Options options)
    : impl_(std::make_unique<Impl>()) {
  (void)registry, (void)pusher;
  impl_->store = store;
  impl_->options = std::move(options);
}

MonitorService::~MonitorService() { Stop(); }

Status MonitorService::CheckIn(int64_t project_id,
                               const releases::CheckIn& check_in) {
  (void)project_id, (void)check_in;
  return Status::Ok();
}

void MonitorService::Start() {}
void MonitorService::Stop() {}
Status MonitorService::TickOnce(int64_t now) {
  (void)now;
  return Status::Ok();
}

}  // namespace cron
}  // namespace crashctl
