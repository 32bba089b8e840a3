#include "crashctl/ingest/trace_sampling.h"

#include <cstdint>

namespace crashctl {
namespace ingest {

double TraceSampleValue(std::string_view trace_id) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a offset basis
  for (const char c : trace_id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;  // FNV prime
  }
  // Finalise (splitmix64): FNV-1a's top bits depend weakly on the last
  // bytes; mixing spreads them.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return static_cast<double>(hash >> 11) * (1.0 / 9007199254740992.0);
}

bool StoreTrace(std::string_view trace_id, double rate) {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  return TraceSampleValue(trace_id) < rate;
}

}  // namespace ingest
}  // namespace crashctl
