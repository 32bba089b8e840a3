// KubeApiClient's TLS settings against a real TLS server: `openssl s_server
// -WWW` (serving files of a temp dir over HTTPS, requiring a client
// certificate) with a test CA made by the openssl CLI. Covers CA file and
// data, client certificate and key as files and data (from a kubeconfig),
// and insecure-skip-tls-verify.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "kube/kube_api_client.h"
#include "kube/kube_client_config.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class KubeTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no openssl";
    {
      std::ofstream ext(dir_.File("server.ext"));
      ext << "subjectAltName=IP:127.0.0.1\n";
    }
    const std::string d = dir_.path() + "/";
    auto run = [&](const std::vector<std::string>& argv) {
      testing::CommandResult r = testing::RunCommand(argv, {}, 30);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    const std::vector<std::string> ec = {
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req = [&](const std::string& name, const std::string& subject,
                   bool x509) {
      std::vector<std::string> argv = {"/usr/bin/openssl", "req"};
      if (x509) argv.push_back("-x509");
      argv.insert(argv.end(), ec.begin(), ec.end());
      argv.insert(argv.end(), {"-keyout", d + name + ".key", "-out",
                               d + name + (x509 ? ".crt" : ".csr"), "-subj",
                               subject, "-days", "2"});
      run(argv);
    };
    auto sign = [&](const std::string& name, bool server) {
      std::vector<std::string> argv = {"/usr/bin/openssl",
                                       "x509",
                                       "-req",
                                       "-in",
                                       d + name + ".csr",
                                       "-CA",
                                       d + "ca.crt",
                                       "-CAkey",
                                       d + "ca.key",
                                       "-CAcreateserial",
                                       "-out",
                                       d + name + ".crt",
                                       "-days",
                                       "2"};
      if (server) argv.insert(argv.end(), {"-extfile", d + "server.ext"});
      run(argv);
    };
    req("ca", "/CN=crashctl-test-ca", true);
    req("server", "/CN=127.0.0.1", false);
    sign("server", true);
    req("client", "/CN=crashctl", false);
    sign("client", false);
    {
      std::ofstream pem(d + "server.pem");
      pem << Slurp(d + "server.crt") << Slurp(d + "server.key");
    }
    {
      std::ofstream version(d + "version");
      version << "{\"major\":\"1\",\"gitVersion\":\"v1.32.0-tls\"}";
    }
    port_ = testing::FreePort();
  }

  std::string Url() const {
    return "https://127.0.0.1:" + std::to_string(port_);
  }

  KubeClientConfig Base() {
    KubeClientConfig c;
    c.server = Url();
    return c;
  }

  // Serves one TLS connection with s_server, GETs /version through it.
  KubeResponse GetVersion(const KubeClientConfig& c) {
    std::thread server([&] {
      testing::RunCommand(
          {"/bin/sh", "-c",
           "cd " + dir_.path() +
               " && exec /usr/bin/openssl s_server -quiet -WWW -naccept 1"
               " -accept 127.0.0.1:" +
               std::to_string(port_) +
               " -cert server.crt -key server.key -CAfile ca.crt -Verify 1"},
          {}, 20);
    });
    KubeApiClient::Options o;
    o.request_timeout_seconds = 10;
    KubeApiClient client(c, o);
    KubeResponse r;
    // Until s_server listens, connections are refused.
    testing::WaitFor(
        [&] {
          r = client.Get("/version");
          return r.error.find("Couldn't connect") == std::string::npos;
        },
        15);
    server.join();
    return r;
  }

  testing::TempDir dir_{"kube-tls-test"};
  int port_ = 0;
};

TEST_F(KubeTlsTest, CaFileAndClientCertificateFiles) {
  KubeClientConfig c = Base();
  c.ca_file = dir_.File("ca.crt");
  c.client_cert_file = dir_.File("client.crt");
  c.client_key_file = dir_.File("client.key");
  KubeResponse r = GetVersion(c);
  EXPECT_TRUE(r.ok()) << r.error << " " << r.status;
  EXPECT_NE(r.body.find("v1.32.0-tls"), std::string::npos) << r.body;
}

TEST_F(KubeTlsTest, InlineDataFromAKubeconfig) {
  // A kubeconfig with *-data fields, as `kubectl config view --raw` shows.
  auto b64 = [&](const std::string& file) {
    testing::CommandResult r = testing::RunCommand(
        {"/usr/bin/openssl", "base64", "-A", "-in", dir_.File(file)}, {}, 30);
    return r.out;
  };
  const std::string path = dir_.File("kubeconfig");
  {
    std::ofstream out(path);
    out << "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        << "clusters:\n- name: c\n  cluster:\n    server: " << Url()
        << "\n    certificate-authority-data: " << b64("ca.crt") << "\n"
        << "contexts:\n- name: t\n  context: {cluster: c, user: u}\n"
        << "users:\n- name: u\n  user:\n    client-certificate-data: "
        << b64("client.crt") << "\n    client-key-data: " << b64("client.key")
        << "\n";
  }
  core::Config config;
  config.kube_kubeconfig = path;
  KubeClientConfig c;
  std::string error;
  ASSERT_TRUE(ResolveKubeClientConfig(config, {}, &c, &error)) << error;
  EXPECT_EQ(c.ca_pem, Slurp(dir_.File("ca.crt")));
  KubeResponse r = GetVersion(c);
  EXPECT_TRUE(r.ok()) << r.error << " " << r.status;
}

TEST_F(KubeTlsTest, UnknownCaIsRefusedUnlessInsecure) {
  KubeClientConfig c = Base();
  c.client_cert_file = dir_.File("client.crt");
  c.client_key_file = dir_.File("client.key");
  KubeResponse r = GetVersion(c);  // system CAs do not know the test CA
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty());
  c.insecure_skip_tls_verify = true;
  r = GetVersion(c);
  EXPECT_TRUE(r.ok()) << r.error << " " << r.status;
}

TEST_F(KubeTlsTest, ServerRequiringClientCertificateRefusesWithoutOne) {
  KubeClientConfig c = Base();
  c.ca_file = dir_.File("ca.crt");
  KubeResponse r = GetVersion(c);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty()) << r.status;
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
