// Crash events: turn the crash report a crashed container printed (found by
// crashreport::FindLastReport in its previous logs) into a Sentry error
// event for the crash record, so a pod without an SDK still gets an error
// group with a stack (docs/kubernetes.md, "Crash output -> error events").
//
// The event: level fatal, platform per language, the parsed exception chain
// and frames, tags namespace, pod, container, workload, image, node,
// crash_type, exit_code, signal and crash_source=kubernetes, server_name the
// pod, the report's lines in extra.crash_report (and the log tail in
// extra.log_lines). Its id is derived from the crash's dedup key and a
// restart count, so the same crash always gives the same id (a relist, a
// restart of crashctl or a second replica store it once).
//
// Thread-safety: pure functions; safe from any thread.
#ifndef CRASHCTL_KUBE_CRASH_EVENTS_H_
#define CRASHCTL_KUBE_CRASH_EVENTS_H_

#include <cstddef>
#include <string>

#include "crashctl/crashreport/crash_report_parser.h"
#include "crashctl/model/records.h"

namespace crashctl {
namespace kube {

// Bytes of a fetched log we keep (the end: where the crash report is).
inline constexpr size_t kMaxLogBytes = 256 << 10;
// Lines kept on the crash record.
inline constexpr size_t kRecordLogLines = 50;
// Events one crash-loop fold may add (restarts missed while away).
inline constexpr int kMaxEventsPerFold = 100;

// The end of `text` of at most `max_bytes`, starting at a line start (the
// first, cut line is dropped); `text` itself when it fits.
std::string KeepLastBytes(const std::string& text, size_t max_bytes);
// The last `n` lines of `text` (a trailing '\n' kept).
std::string LastLines(const std::string& text, size_t n);

// 32 lowercase hex characters from SHA-256("crashctl-kube\n" + dedup_key +
// "\n" + restart_count).
std::string CrashEventId(const std::string& dedup_key, int restart_count);

// The Sentry event JSON for `crash` whose previous logs `logs` hold
// `report`; `timestamp` in epoch seconds.
std::string CrashEventJson(const model::Crash& crash,
                           const crashreport::Report& report,
                           const std::string& logs, const std::string& event_id,
                           double timestamp);

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_CRASH_EVENTS_H_
