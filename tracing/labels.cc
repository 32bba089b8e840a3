#include "crashctl/tracing/labels.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <utility>

#include "crashctl/util/strings.h"

namespace crashctl {
namespace tracing {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool SegmentLooksLikeId(std::string_view seg) {
  if (seg.empty()) return false;
  bool all_digits = true, all_hex = true, has_digit = false;
  size_t run = 0, longest_run = 0;
  for (char c : seg) {
    if (IsDigit(c)) {
      has_digit = true;
      longest_run = std::max(longest_run, ++run);
    } else {
      all_digits = false;
      run = 0;
    }
    if (!util::IsHexDigit(c)) all_hex = false;
  }
  if (all_digits) return true;
  if (all_hex && seg.size() >= 8 && has_digit) return true;
  if (seg.size() == 36 && seg[8] == '-' && seg[13] == '-' && seg[18] == '-' &&
      seg[23] == '-') {
    return true;  // a UUID (its hex checked loosely: it has dashes)
  }
  if (longest_run >= 3) return true;
  return seg.size() > 24 && has_digit;
}

// Label values from payloads: control characters become '_'.
std::string SafeValue(std::string_view value, size_t max) {
  std::string out(value);
  util::TruncateUtf8(&out, max);
  for (char& c : out) {
    const unsigned char b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) c = '_';
  }
  return out;
}

std::string SeriesKey(char family, const std::vector<std::string>& labels) {
  std::string key(1, family);
  for (const std::string& l : labels) {
    key += std::to_string(l.size());
    key.push_back(':');
    key += l;
  }
  return key;
}

void WriteStrings(rapidjson::Writer<rapidjson::StringBuffer>* w,
                  const std::vector<std::string>& values) {
  w->StartArray();
  for (const std::string& v : values) {
    w->String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w->EndArray();
}

// What Import reads of one project, before it is applied.
struct ImportedProject {
  int64_t project = 0;
  std::vector<std::string> transactions, ops, services;
  std::vector<std::vector<std::string>> transaction_series, span_series;
};

bool ReadStrings(const rapidjson::Value& obj, const char* name,
                 std::vector<std::string>* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsArray()) return false;
  for (const rapidjson::Value& v : it->value.GetArray()) {
    if (!v.IsString()) return false;
    out->emplace_back(v.GetString(), v.GetStringLength());
  }
  return true;
}

bool ReadTuples(const rapidjson::Value& obj, const char* name, size_t arity,
                std::vector<std::vector<std::string>>* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (!it->value.IsArray()) return false;
  for (const rapidjson::Value& t : it->value.GetArray()) {
    if (!t.IsArray() || t.Size() != arity) return false;
    std::vector<std::string> tuple;
    for (const rapidjson::Value& v : t.GetArray()) {
      if (!v.IsString()) return false;
      tuple.emplace_back(v.GetString(), v.GetStringLength());
    }
    out->push_back(std::move(tuple));
  }
  return true;
}

}  // namespace

bool LooksLikeUrlWithIds(std::string_view name) {
  // An optional method: upper-case letters and one blank.
  size_t i = 0;
  while (i < name.size() && i < 10 && name[i] >= 'A' && name[i] <= 'Z') ++i;
  if (i > 0 && i < name.size() && name[i] == ' ') {
    name.remove_prefix(i + 1);
  }
  const size_t scheme = name.find("://");
  if (scheme != std::string_view::npos && scheme < 16) {
    const size_t path = name.find('/', scheme + 3);
    if (path == std::string_view::npos) return false;
    name.remove_prefix(path);
  }
  if (name.empty() || name[0] != '/') return false;
  if (name.find('?') != std::string_view::npos) return true;
  size_t start = 1;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (SegmentLooksLikeId(name.substr(start, end - start))) return true;
    start = end + 1;
  }
  return false;
}

std::string TransactionNameLabel(std::string_view source,
                                 std::string_view name) {
  const std::string_view s = CanonicalSource(source);
  if (s == "url") return std::string(kUnparameterized);
  if (s == "unknown" && LooksLikeUrlWithIds(name)) {
    return std::string(kUnparameterized);
  }
  if (name.empty()) return std::string(kUnlabeledTransaction);
  return SafeValue(name, kMaxNameBytes);
}

std::string SanitizeOp(std::string_view op) {
  std::string out;
  out.reserve(std::min(op.size(), kMaxOpLabelBytes));
  for (char c : op) {
    if (out.size() >= kMaxOpLabelBytes) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || IsDigit(c) || c == '.' ||
                    c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) return std::string(kDefaultOp);
  return out;
}

// --- BoundedSet -----------------------------------------------------------

bool BoundedSet::Admit(const std::string& value) {
  if (index_.count(value) != 0) return true;
  if (order_.size() >= max_) return false;
  index_.insert(value);
  order_.push_back(value);
  return true;
}

void BoundedSet::Clear() {
  order_.clear();
  index_.clear();
}

// --- LabelBudget ----------------------------------------------------------

LabelBudget::ProjectState::ProjectState(const LabelLimits& limits)
    : names(limits.max_transactions),
      ops(limits.max_ops),
      services(limits.max_services) {}

LabelBudget::LabelBudget(const LabelLimits& limits) : limits_(limits) {}

LabelBudget::ProjectState& LabelBudget::Project(int64_t project) {
  auto it = projects_.find(project);
  if (it == projects_.end()) {
    it = projects_.emplace(project, ProjectState(limits_)).first;
  }
  return it->second;
}

std::string LabelBudget::FoldService(ProjectState* p, std::string_view service,
                                     bool* folded) {
  std::string value = SafeValue(service, kMaxServiceBytes);
  if (value.empty() || p->services.Admit(value)) return value;
  *folded = true;
  ++stats_.service_folds;
  return std::string(kOther);
}

bool LabelBudget::AdmitSeries(ProjectState* p, char family,
                              const std::vector<std::string>& labels,
                              bool always) {
  std::string key = SeriesKey(family, labels);
  if (p->series.count(key) != 0) return true;
  if (!always && p->series.size() >= limits_.max_series) return false;
  p->series.insert(std::move(key));
  (family == 't' ? p->transaction_series : p->span_series).push_back(labels);
  ++stats_.series;
  return true;
}

TransactionLabels LabelBudget::ForTransaction(int64_t project,
                                              const Transaction& tx) {
  TransactionLabels out;
  out.method = std::string(FoldMethod(tx.method));
  out.status = std::string(CanonicalSpanStatus(tx.status));
  std::string name = TransactionNameLabel(tx.source, tx.name);
  std::lock_guard<std::mutex> lock(mu_);
  ProjectState& p = Project(project);
  out.service = FoldService(&p, tx.service, &out.service_folded);
  if (name == kUnparameterized) {
    out.unparameterized = true;
    ++stats_.unparameterized;
  } else if (!p.names.Admit(name)) {
    name = std::string(kOther);
    out.name_folded = true;
    ++stats_.name_folds;
  }
  out.transaction = std::move(name);
  if (!AdmitSeries(&p, 't',
                   {out.service, out.transaction, out.method, out.status},
                   false)) {
    out.series_folded = true;
    ++stats_.series_folds;
    out.transaction = std::string(kOther);
    if (!AdmitSeries(&p, 't',
                     {out.service, out.transaction, out.method, out.status},
                     false)) {
      out.service = std::string(kOther);
      AdmitSeries(&p, 't',
                  {out.service, out.transaction, out.method, out.status}, true);
    }
  }
  return out;
}

SpanLabels LabelBudget::ForSpan(int64_t project, std::string_view service,
                                const Span& span) {
  SpanLabels out;
  std::string op = SanitizeOp(span.op);
  std::lock_guard<std::mutex> lock(mu_);
  ProjectState& p = Project(project);
  out.service = FoldService(&p, service, &out.service_folded);
  if (!p.ops.Admit(op)) {
    op = std::string(kOther);
    out.op_folded = true;
    ++stats_.op_folds;
  }
  out.op = std::move(op);
  if (!AdmitSeries(&p, 's', {out.service, out.op}, false)) {
    out.series_folded = true;
    ++stats_.series_folds;
    out.op = std::string(kOther);
    if (!AdmitSeries(&p, 's', {out.service, out.op}, false)) {
      out.service = std::string(kOther);
      AdmitSeries(&p, 's', {out.service, out.op}, true);
    }
  }
  return out;
}

LabelStats LabelBudget::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  LabelStats s = stats_;
  s.projects = projects_.size();
  return s;
}

std::string LabelBudget::Export() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  std::lock_guard<std::mutex> lock(mu_);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("projects");
  w.StartArray();
  for (const auto& [id, p] : projects_) {
    w.StartObject();
    w.Key("project");
    w.Int64(id);
    w.Key("transactions");
    WriteStrings(&w, p.names.values());
    w.Key("ops");
    WriteStrings(&w, p.ops.values());
    w.Key("services");
    WriteStrings(&w, p.services.values());
    w.Key("transaction_series");
    w.StartArray();
    for (const auto& t : p.transaction_series) WriteStrings(&w, t);
    w.EndArray();
    w.Key("span_series");
    w.StartArray();
    for (const auto& t : p.span_series) WriteStrings(&w, t);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Status LabelBudget::Import(std::string_view json, ImportMode mode) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag |
            rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::Invalid(std::string("label state is not valid JSON: ") +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Status::Invalid("label state is not an object");
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd() || !version->value.IsInt() ||
      version->value.GetInt() != 1) {
    return Status::Invalid("label state: unknown version (expected 1)");
  }
  auto list = doc.FindMember("projects");
  if (list == doc.MemberEnd() || !list->value.IsArray()) {
    return Status::Invalid("label state: `projects` is not an array");
  }
  std::vector<ImportedProject> imported;
  for (const rapidjson::Value& p : list->value.GetArray()) {
    ImportedProject ip;
    if (!p.IsObject() || !p.HasMember("project") || !p["project"].IsInt64()) {
      return Status::Invalid(
          "label state: a project entry without an integer `project`");
    }
    ip.project = p["project"].GetInt64();
    if (!ReadStrings(p, "transactions", &ip.transactions) ||
        !ReadStrings(p, "ops", &ip.ops) ||
        !ReadStrings(p, "services", &ip.services) ||
        !ReadTuples(p, "transaction_series", 4, &ip.transaction_series) ||
        !ReadTuples(p, "span_series", 2, &ip.span_series)) {
      return Status::Invalid("label state: project " +
                             std::to_string(ip.project) +
                             " has a malformed list");
    }
    imported.push_back(std::move(ip));
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (mode == ImportMode::kReplace) {
    projects_.clear();
    stats_.series = 0;
  }
  for (const ImportedProject& ip : imported) {
    ProjectState& p = Project(ip.project);
    for (const std::string& name : ip.transactions) {
      const std::string v = SafeValue(name, kMaxNameBytes);
      if (!v.empty() && v != kUnparameterized && v != kOther) p.names.Admit(v);
    }
    for (const std::string& op : ip.ops) {
      const std::string v = SanitizeOp(op);
      if (v != kOther) p.ops.Admit(v);
    }
    for (const std::string& service : ip.services) {
      const std::string v = SafeValue(service, kMaxServiceBytes);
      if (!v.empty() && v != kOther) p.services.Admit(v);
    }
    auto service_ok = [&p](const std::string& s) {
      return s.empty() || s == kOther || p.services.Contains(s);
    };
    for (const auto& t : ip.transaction_series) {
      const bool ok = service_ok(t[0]) &&
                      (t[1] == kOther || t[1] == kUnparameterized ||
                       p.names.Contains(t[1])) &&
                      FoldMethod(t[2]) == t[2] &&
                      CanonicalSpanStatus(t[3]) == t[3];
      if (ok) AdmitSeries(&p, 't', t, t[0] == kOther && t[1] == kOther);
    }
    for (const auto& t : ip.span_series) {
      const bool ok =
          service_ok(t[0]) && (t[1] == kOther || p.ops.Contains(t[1]));
      if (ok) AdmitSeries(&p, 's', t, t[0] == kOther && t[1] == kOther);
    }
  }
  return Status::Ok();
}

}  // namespace tracing
}  // namespace crashctl
