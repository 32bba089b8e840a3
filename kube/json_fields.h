// Field access on the rapidjson values of Kubernetes objects (pods, Events),
// shared by the pod classifier and the Events parser. A missing member and
// a JSON null are the same: absent.
//
// Thread-safety: pure functions.
#ifndef CRASHCTL_KUBE_JSON_FIELDS_H_
#define CRASHCTL_KUBE_JSON_FIELDS_H_

#include <rapidjson/document.h>

#include <string>

namespace crashctl {
namespace kube {
namespace json {

// The member `name` of object `v`, or nullptr when `v` is not an object or
// the member is missing or null.
inline const rapidjson::Value* Member(const rapidjson::Value& v,
                                      const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// The string member `name`, or "" when absent or not a string.
inline std::string GetString(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  return (m != nullptr && m->IsString()) ? m->GetString() : "";
}

// The integer member `name`, or 0 when absent or not an integer.
inline int GetInt(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = Member(v, name);
  if (m == nullptr) return 0;
  if (m->IsInt()) return m->GetInt();
  if (m->IsInt64()) return static_cast<int>(m->GetInt64());
  return 0;
}

}  // namespace json
}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_JSON_FIELDS_H_
