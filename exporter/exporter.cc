#include "crashctl/exporter/exporter.h"

#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <utility>

#include "crashctl/http/http.h"

namespace crashctl {
namespace exporter {

Exporter::Exporter(const Options& options)
    : registry_(std::make_shared<prometheus::Registry>()),
      services_(options.max_services) {
  prometheus::BuildGauge()
      .Name("crashctl_build_info")
      .Help("Always 1; the version label names the build.")
      .Register(*registry_)
      .Add({{"version", metrics::NonEmpty(options.version)}})
      .Set(1);
}

void Exporter::AddRefreshHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

void Exporter::AddCollectable(const prometheus::Collectable* collectable) {
  std::lock_guard<std::mutex> lock(mu_);
  collectables_.push_back(collectable);
}

std::string Exporter::Serialize() {
  std::vector<std::function<void()>> hooks;
  std::vector<const prometheus::Collectable*> collectables;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = hooks_;
    collectables = collectables_;
  }
  for (const auto& hook : hooks) hook();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const prometheus::Collectable* c : collectables) {
    for (prometheus::MetricFamily& family : c->Collect()) {
      families.push_back(std::move(family));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

void Exporter::Register(http::Router* router) {
  router->Add(
      "GET", "/metrics", "Prometheus metrics (text format 0.0.4)",
      [this](http::HttpRequest&) {
        http::HttpResponse response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = Serialize();
        return response;
      },
      http::RouteKind::kProbe);
}

}  // namespace exporter
}  // namespace crashctl
