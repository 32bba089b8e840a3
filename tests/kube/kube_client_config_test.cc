#include "kube/kube_client_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace kube {
namespace {

// "hello CA\n" in base64.
constexpr char kCaData[] = "aGVsbG8gQ0EK";

const char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443
- name: prod-cluster
  cluster:
    server: https://prod.example:6443/
    certificate-authority-data: aGVsbG8gQ0EK
contexts:
- name: dev
  context: {cluster: dev, user: dev-user}
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
    namespace: shop
users:
- name: dev-user
  user: {token: devtoken}
- name: prod-user
  user:
    tokenFile: secrets/token
    client-certificate: certs/client.crt
    client-key-data: a2V5Cg==
)";

TEST(KubeClientConfigTest, ParsesCurrentContext) {
  KubeClientConfig c;
  std::string error;
  ASSERT_TRUE(ParseKubeconfig(kKubeconfig, "/etc/kube", &c, &error)) << error;
  EXPECT_EQ(c.server, "https://prod.example:6443");
  EXPECT_EQ(c.ca_pem, "hello CA\n");
  EXPECT_EQ(c.token, "");
  EXPECT_EQ(c.token_file, "/etc/kube/secrets/token");
  EXPECT_EQ(c.client_cert_file, "/etc/kube/certs/client.crt");
  EXPECT_EQ(c.client_key_pem, "key\n");
  EXPECT_EQ(c.default_namespace, "shop");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
}

TEST(KubeClientConfigTest, InsecureAndToken) {
  const char yaml[] = R"(current-context: x
clusters: [{name: c, cluster: {server: "https://1.2.3.4", insecure-skip-tls-verify: true}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: abc}}]
)";
  KubeClientConfig c;
  std::string error;
  ASSERT_TRUE(ParseKubeconfig(yaml, ".", &c, &error)) << error;
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.token, "abc");
}

TEST(KubeClientConfigTest, ErrorsNameTheProblem) {
  KubeClientConfig c;
  std::string error;
  EXPECT_FALSE(ParseKubeconfig("current-context: nope\ncontexts: []\n", ".", &c,
                               &error));
  EXPECT_NE(error.find("nope"), std::string::npos) << error;
  EXPECT_FALSE(ParseKubeconfig("[unclosed", ".", &c, &error));
  const char bad_ca[] = R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "!!!"}}]
contexts: [{name: x, context: {cluster: c}}]
)";
  EXPECT_FALSE(ParseKubeconfig(bad_ca, ".", &c, &error));
  EXPECT_NE(error.find("certificate-authority-data"), std::string::npos);
}

TEST(KubeClientConfigTest, ApiServerAloneNeedsNoCredentials) {
  core::Config config;
  config.kube_api_server = "http://127.0.0.1:12345/";
  KubeClientConfig c;
  std::string error;
  // Even with $KUBECONFIG set, the override alone wins.
  ASSERT_TRUE(ResolveKubeClientConfig(config, {{"KUBECONFIG", "/nonexistent"}},
                                      &c, &error))
      << error;
  EXPECT_EQ(c.server, "http://127.0.0.1:12345");
  EXPECT_EQ(c.token, "");
}

TEST(KubeClientConfigTest, KubeconfigFileWithServerOverride) {
  const testing::TempDir dir("kubeconfig-test");
  const std::string path = dir.File("kubeconfig-test.yaml");
  {
    std::ofstream out(path);
    out << kKubeconfig;
  }
  core::Config config;
  config.kube_kubeconfig = path;
  KubeClientConfig c;
  std::string error;
  ASSERT_TRUE(ResolveKubeClientConfig(config, {}, &c, &error)) << error;
  EXPECT_EQ(c.server, "https://prod.example:6443");
  EXPECT_EQ(c.source, "kubeconfig " + path);
  config.kube_api_server = "http://127.0.0.1:1";
  ASSERT_TRUE(ResolveKubeClientConfig(config, {}, &c, &error)) << error;
  EXPECT_EQ(c.server, "http://127.0.0.1:1");
  EXPECT_EQ(c.ca_pem, "hello CA\n");  // credentials kept
  // $KUBECONFIG: the first existing file of the list.
  core::Config from_env;
  ASSERT_TRUE(ResolveKubeClientConfig(
      from_env, {{"KUBECONFIG", "/nonexistent:" + path}}, &c, &error))
      << error;
  EXPECT_EQ(c.server, "https://prod.example:6443");
}

TEST(KubeClientConfigTest, NothingConfigured) {
  core::Config config;
  KubeClientConfig c;
  std::string error;
  EXPECT_FALSE(
      ResolveKubeClientConfig(config, {{"HOME", "/nonexistent"}}, &c, &error));
  EXPECT_NE(error.find("kubernetes.kubeconfig"), std::string::npos) << error;
}

TEST(KubeClientConfigTest, Base64) {
  std::string out;
  EXPECT_TRUE(Base64Decode(kCaData, &out));
  EXPECT_EQ(out, "hello CA\n");
  EXPECT_TRUE(Base64Decode("YQ==", &out));
  EXPECT_EQ(out, "a");
  EXPECT_TRUE(Base64Decode("YW\nJj", &out));
  EXPECT_EQ(out, "abc");
  EXPECT_FALSE(Base64Decode("abc", &out));
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
