// deploy/kubernetes/base: RBAC grants exactly what the watcher needs, and the
// Deployment runs crashctl with the watcher on under that account.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "tests/testing/server_process.h"

namespace {

using crashctl::testing::SourceDir;

std::vector<YAML::Node> LoadAll(const std::string& file) {
  return YAML::LoadAllFromFile(SourceDir() + "/deploy/kubernetes/base/" + file);
}

TEST(DeployManifestsTest, RbacIsReadOnlyOnPodsLogsEventsNamespaces) {
  std::vector<YAML::Node> docs = LoadAll("rbac.yaml");
  std::set<std::string> kinds;
  for (const auto& d : docs) kinds.insert(d["kind"].as<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"ServiceAccount", "ClusterRole",
                                          "ClusterRoleBinding"}));
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() != "ClusterRole") continue;
    std::set<std::string> resources, verbs, groups;
    for (const auto& rule : d["rules"]) {
      for (const auto& g : rule["apiGroups"])
        groups.insert(g.as<std::string>());
      for (const auto& r : rule["resources"]) {
        resources.insert(r.as<std::string>());
      }
      for (const auto& v : rule["verbs"]) verbs.insert(v.as<std::string>());
    }
    EXPECT_EQ(groups, (std::set<std::string>{""}));
    EXPECT_EQ(resources, (std::set<std::string>{"pods", "pods/log", "events",
                                                "namespaces"}));
    EXPECT_EQ(verbs, (std::set<std::string>{"get", "list", "watch"}));
  }
}

TEST(DeployManifestsTest, DeploymentEnablesTheWatcherWithTheAccount) {
  bool found = false;
  for (const auto& d : LoadAll("deployment.yaml")) {
    if (d["kind"].as<std::string>() != "Deployment") continue;
    found = true;
    const YAML::Node spec = d["spec"]["template"]["spec"];
    EXPECT_EQ(spec["serviceAccountName"].as<std::string>(), "crashctl");
    EXPECT_EQ(d["spec"]["replicas"].as<int>(), 1);
    bool enabled = false;
    for (const auto& env : spec["containers"][0]["env"]) {
      if (env["name"].as<std::string>() == "CRASHCTL_KUBERNETES_ENABLED") {
        enabled = env["value"].as<std::string>() == "true";
      }
    }
    EXPECT_TRUE(enabled);
    EXPECT_EQ(spec["containers"][0]["readinessProbe"]["httpGet"]["path"]
                  .as<std::string>(),
              "/readyz");
  }
  EXPECT_TRUE(found);
}

}  // namespace
