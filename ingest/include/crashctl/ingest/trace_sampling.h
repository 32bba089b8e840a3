// tracing.store_sample_rate: which traces are stored. The decision is a
// pure function of the trace id, so every transaction of a trace (and
// every replica) decides the same way: a trace is stored whole or not at
// all. Storage only: metrics observe every transaction.
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_INGEST_TRACE_SAMPLING_H_
#define CRASHCTL_INGEST_TRACE_SAMPLING_H_

#include <string_view>

namespace crashctl {
namespace ingest {

// A value in [0, 1) from the 64-bit FNV-1a hash of `trace_id` (its top 53
// bits over 2^53), spread evenly over trace ids.
double TraceSampleValue(std::string_view trace_id);
// True when the trace is stored at `rate`: rate >= 1 always, rate <= 0
// never, else TraceSampleValue(trace_id) < rate.
bool StoreTrace(std::string_view trace_id, double rate);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_TRACE_SAMPLING_H_
