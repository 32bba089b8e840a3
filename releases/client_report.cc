#include "crashctl/releases/client_report.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "json_util.h"

namespace crashctl::releases {
namespace {

using internal::Member;

struct OutcomeList {
  const char* field;
  // The label for every row of this list; nullptr: the folded reason.
  const char* reason_label;
};

constexpr OutcomeList kLists[] = {
    {"discarded_events", nullptr},
    {"rate_limited_events", "rate_limited"},
    {"filtered_events", "filtered"},
    {"filtered_sampling_events", "filtered_sampling"},
};

std::string_view Fold(const std::vector<std::string_view>& set,
                      std::string_view value) {
  for (std::string_view v : set) {
    if (v == value) return v;
  }
  return "other";
}

}  // namespace

const std::vector<std::string_view>& DiscardReasons() {
  static const std::vector<std::string_view> kReasons = {
      "queue_overflow",    "cache_overflow",
      "buffer_overflow",   "ratelimit_backoff",
      "network_error",     "sample_rate",
      "before_send",       "event_processor",
      "send_error",        "internal_sdk_error",
      "insufficient_data", "backpressure",
      "ignored",           "invalid",
      "no_parent_span",
  };
  return kReasons;
}

const std::vector<std::string_view>& DataCategories() {
  static const std::vector<std::string_view> kCategories = {
      "default",      "error",    "transaction",   "security", "attachment",
      "session",      "profile",  "profile_chunk", "replay",   "monitor",
      "span",         "log_item", "log_byte",      "feedback", "metric_bucket",
      "trace_metric", "internal",
  };
  return kCategories;
}

std::string_view FoldDiscardReason(std::string_view reason) {
  return Fold(DiscardReasons(), reason);
}

std::string_view FoldDataCategory(std::string_view category) {
  return Fold(DataCategories(), category);
}

Status ParseClientReport(std::string_view json, ClientReport* out) {
  rapidjson::Document doc;
  Status s =
      internal::ParseObject(json, kMaxClientReportBytes, "client report", &doc);
  if (!s.ok()) return s;
  ClientReport report;
  if (const rapidjson::Value* ts = Member(doc, "timestamp")) {
    double t = 0;
    if (!internal::ParseTimeValue(*ts, &t)) {
      return Status::Invalid(
          "field timestamp: expected an RFC 3339 time or epoch seconds");
    }
    report.timestamp = t;
  }
  std::map<std::pair<std::string, std::string>, uint64_t> merged;
  size_t entries = 0;
  for (const OutcomeList& list : kLists) {
    const rapidjson::Value* v = Member(doc, list.field);
    if (v == nullptr) continue;
    if (!v->IsArray()) {
      return Status::Invalid(std::string("field ") + list.field +
                             ": expected an array");
    }
    entries += v->Size();
    if (entries > kMaxClientReportEntries) {
      return Status::TooLarge("client report has more than " +
                              std::to_string(kMaxClientReportEntries) +
                              " outcome entries");
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
      const std::string path =
          std::string(list.field) + "[" + std::to_string(i) + "]";
      const rapidjson::Value& item = (*v)[i];
      if (!item.IsObject()) {
        return Status::Invalid("field " + path + ": expected an object");
      }
      const rapidjson::Value* reason = Member(item, "reason");
      const rapidjson::Value* category = Member(item, "category");
      const rapidjson::Value* quantity = Member(item, "quantity");
      if (reason == nullptr || !reason->IsString()) {
        return Status::Invalid("field " + path + ".reason: expected a string");
      }
      if (category == nullptr || !category->IsString()) {
        return Status::Invalid("field " + path +
                               ".category: expected a string");
      }
      if (quantity == nullptr) {
        return Status::Invalid("field " + path + ".quantity is required");
      }
      uint64_t n = 0;
      // Relay reads quantities as u32.
      s = internal::GetUint(quantity, path + ".quantity",
                            std::numeric_limits<uint32_t>::max(), &n);
      if (!s.ok()) return s;
      if (n == 0) continue;
      std::string label =
          list.reason_label != nullptr
              ? std::string(list.reason_label)
              : std::string(FoldDiscardReason(std::string_view(
                    reason->GetString(), reason->GetStringLength())));
      std::string cat(FoldDataCategory(std::string_view(
          category->GetString(), category->GetStringLength())));
      uint64_t& total = merged[{std::move(label), std::move(cat)}];
      total = total > std::numeric_limits<uint64_t>::max() - n
                  ? std::numeric_limits<uint64_t>::max()
                  : total + n;
    }
  }
  for (auto& [key, quantity] : merged) {
    report.rows.push_back(DiscardedRow{key.first, key.second, quantity});
  }
  *out = std::move(report);
  return Status::Ok();
}

}  // namespace crashctl::releases
