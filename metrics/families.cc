#include "crashctl/metrics/families.h"

namespace crashctl {
namespace metrics {

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry);
}

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help, const std::string& label,
    const std::vector<std::string>& values) {
  auto& family = CounterFamily(registry, name, help);
  for (const std::string& value : values) family.Add({{label, value}});
  return family;
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry);
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry);
}

prometheus::Gauge& Gauge(prometheus::Registry* registry,
                         const std::string& name, const std::string& help) {
  return GaugeFamily(registry, name, help).Add({});
}

prometheus::Histogram& Histogram(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help,
    const prometheus::Histogram::BucketBoundaries& buckets) {
  return HistogramFamily(registry, name, help).Add({}, buckets);
}

}  // namespace metrics
}  // namespace crashctl
