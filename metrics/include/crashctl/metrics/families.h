// Short forms of prometheus-cpp's family builders for the shapes every
// component declares: a family registered on the shared Registry, a family
// whose series for a known label vocabulary exist from the start (so that
// rate() sees them at 0 before the first increment), and the one unlabelled
// series of a family.
//
// The families belong to `registry`, which must outlive every reference
// returned here. Thread-safety: registering is for construction time (as
// prometheus-cpp's builders); the returned metrics are thread-safe.
#ifndef CRASHCTL_METRICS_FAMILIES_H_
#define CRASHCTL_METRICS_FAMILIES_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

namespace crashctl {
namespace metrics {

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help);

// A counter family with one series per value of `label` already created.
prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help, const std::string& label,
    const std::vector<std::string>& values);

prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help);

prometheus::Family<prometheus::Histogram>& HistogramFamily(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help);

// The unlabelled series of a new family.
prometheus::Gauge& Gauge(prometheus::Registry* registry,
                         const std::string& name, const std::string& help);
prometheus::Histogram& Histogram(
    prometheus::Registry* registry, const std::string& name,
    const std::string& help,
    const prometheus::Histogram::BucketBoundaries& buckets);

}  // namespace metrics
}  // namespace crashctl

#endif  // CRASHCTL_METRICS_FAMILIES_H_
