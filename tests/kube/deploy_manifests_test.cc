// deploy/kubernetes/base: RBAC grants exactly what the watcher needs, and the
// Deployment runs crashctl with the watcher on under that account. The
// replicas overlay's own files (without kubectl; tests/deploy/kustomize_test.py
// checks them rendered): the Lease Role, the PDB, the Deployment patch.
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

std::vector<YAML::Node> LoadOverlay(const std::string& file) {
  return YAML::LoadAllFromFile(SourceDir() +
                               "/deploy/kubernetes/overlays/replicas/" + file);
}

std::vector<std::string> Strings(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const auto& v : list) out.push_back(v.as<std::string>());
  return out;
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

TEST(DeployManifestsTest, ReplicasOverlayLeaseRoleIsNamespacedGetCreateUpdate) {
  std::vector<YAML::Node> docs = LoadOverlay("role-lease.yaml");
  ASSERT_EQ(docs.size(), 2u);
  const YAML::Node& role = docs[0];
  EXPECT_EQ(role["kind"].as<std::string>(), "Role");
  EXPECT_EQ(role["metadata"]["namespace"].as<std::string>(), "crashctl");
  ASSERT_EQ(role["rules"].size(), 1u);
  const YAML::Node rule = role["rules"][0];
  EXPECT_EQ(Strings(rule["apiGroups"]),
            (std::vector<std::string>{"coordination.k8s.io"}));
  EXPECT_EQ(Strings(rule["resources"]), (std::vector<std::string>{"leases"}));
  EXPECT_EQ(Strings(rule["verbs"]),
            (std::vector<std::string>{"get", "create", "update"}));
  const YAML::Node& binding = docs[1];
  EXPECT_EQ(binding["kind"].as<std::string>(), "RoleBinding");
  EXPECT_EQ(binding["metadata"]["namespace"].as<std::string>(), "crashctl");
  EXPECT_EQ(binding["roleRef"]["kind"].as<std::string>(), "Role");
  EXPECT_EQ(binding["roleRef"]["name"].as<std::string>(),
            role["metadata"]["name"].as<std::string>());
  EXPECT_EQ(binding["subjects"][0]["name"].as<std::string>(), "crashctl");
}

TEST(DeployManifestsTest, ReplicasOverlayPdbKeepsOneUp) {
  std::vector<YAML::Node> docs = LoadOverlay("pdb.yaml");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["apiVersion"].as<std::string>(), "policy/v1");
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "PodDisruptionBudget");
  EXPECT_EQ(docs[0]["spec"]["minAvailable"].as<int>(), 1);
  EXPECT_EQ(docs[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
                .as<std::string>(),
            "crashctl");
}

TEST(DeployManifestsTest, ReplicasOverlayPatchRunsTwoOnPostgresWithTheLease) {
  std::vector<YAML::Node> docs = LoadOverlay("deployment-patch.yaml");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["replicas"].as<int>(), 2);
  const YAML::Node c = docs[0]["spec"]["template"]["spec"]["containers"][0];
  std::set<std::string> names;
  for (const auto& env : c["env"]) {
    const std::string name = env["name"].as<std::string>();
    names.insert(name);
    if (name == "CRASHCTL_STORAGE_DRIVER") {
      EXPECT_EQ(env["value"].as<std::string>(), "postgres");
    } else if (name == "CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED") {
      EXPECT_EQ(env["value"].as<std::string>(), "true");
    } else if (name == "CRASHCTL_STORAGE_POSTGRES_DSN") {
      EXPECT_FALSE(env["value"]);
      const YAML::Node ref = env["valueFrom"]["secretKeyRef"];
      EXPECT_EQ(ref["name"].as<std::string>(), "crashctl-postgres");
      EXPECT_EQ(ref["key"].as<std::string>(), "dsn");
    } else if (name == "POD_NAME") {
      EXPECT_EQ(env["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>(),
                "metadata.name");
    }
  }
  EXPECT_EQ(names,
            (std::set<std::string>{
                "CRASHCTL_STORAGE_DRIVER", "CRASHCTL_STORAGE_POSTGRES_DSN",
                "CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED", "POD_NAME"}));
}

}  // namespace
