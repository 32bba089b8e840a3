// KubeClientConfig: where the Kubernetes API server is and how to
// authenticate to it, resolved from crashctl's Config the way kubectl does.
//
// Resolution order (first match wins):
//   1. `kubernetes.kubeconfig` (Config::kube_kubeconfig), a kubeconfig file;
//   2. `kubernetes.api_server` alone (Config::kube_api_server, tests): that
//      URL without credentials; plain http://127.0.0.1:PORT is allowed;
//   3. $KUBECONFIG (the first existing file of a ':'-separated list);
//   4. in-cluster: $KUBERNETES_SERVICE_HOST/_PORT with the service-account
//      token and ca.crt under /var/run/secrets/kubernetes.io/serviceaccount;
//   5. ~/.kube/config.
// When both a kubeconfig and `kubernetes.api_server` are given, the latter
// replaces the kubeconfig's server URL and keeps its credentials.
//
// Thread-safety: plain values; the functions are reentrant.
#ifndef CRASHCTL_KUBE_KUBE_CLIENT_CONFIG_H_
#define CRASHCTL_KUBE_KUBE_CLIENT_CONFIG_H_

#include <map>
#include <string>

#include "crashctl/core/config.h"

namespace crashctl {
namespace kube {

struct KubeClientConfig {
  std::string server;  // "https://10.0.0.1:443", no trailing '/'
  std::string source;  // "kubeconfig /path", "in-cluster", "api_server"
  // Bearer token: either fixed, or read from `token_file` (re-read
  // periodically, as the kubelet rotates projected tokens).
  std::string token;
  std::string token_file;
  std::string username;  // basic auth (rare)
  std::string password;
  // PEM, either as a file path or inline (the *-data fields, decoded).
  std::string ca_file;
  std::string ca_pem;
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::string default_namespace;  // context namespace, "" if none
};

// Resolves the client configuration (see the order above). `env` is the
// process environment. Returns false with `*error` naming the file/field.
bool ResolveKubeClientConfig(const core::Config& config,
                             const std::map<std::string, std::string>& env,
                             KubeClientConfig* out, std::string* error);

// Parses kubeconfig YAML text. `dir` resolves relative file paths.
bool ParseKubeconfig(const std::string& yaml_text, const std::string& dir,
                     KubeClientConfig* out, std::string* error);

// Decodes standard base64 (whitespace ignored). False when malformed.
bool Base64Decode(const std::string& in, std::string* out);

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_KUBE_CLIENT_CONFIG_H_
