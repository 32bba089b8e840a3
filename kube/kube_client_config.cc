#include "kube_client_config.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace crashctl {
namespace kube {
namespace {

constexpr char kServiceAccountDir[] =
    "/var/run/secrets/kubernetes.io/serviceaccount";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool FileExists(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

std::string EnvOr(const std::map<std::string, std::string>& env,
                  const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

// Finds the entry named `name` in a kubeconfig list ("clusters", "users",
// "contexts") and sets `*out` to its `field` map ("cluster", "user",
// "context"). False when there is no such entry.
bool FindNamed(const YAML::Node& root, const char* list,
               const std::string& name, const char* field, YAML::Node* out) {
  YAML::Node items = root[list];
  if (!items || !items.IsSequence()) return false;
  for (const auto& item : items) {
    if (item["name"] && item["name"].IsScalar() &&
        item["name"].as<std::string>() == name) {
      *out = item[field];
      return out->IsDefined() && out->IsMap();
    }
  }
  return false;
}

std::string Str(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return "";
  YAML::Node v = node[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

bool LoadKubeconfigFile(const std::string& path, KubeClientConfig* out,
                        std::string* error) {
  std::string text;
  if (!ReadFile(path, &text)) {
    *error = "kubeconfig " + path + ": cannot read file";
    return false;
  }
  if (!ParseKubeconfig(text, DirName(path), out, error)) {
    *error = "kubeconfig " + path + ": " + *error;
    return false;
  }
  out->source = "kubeconfig " + path;
  return true;
}

}  // namespace

bool Base64Decode(const std::string& in, std::string* out) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return false;
  std::string buf(clean.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(&buf[0]),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the '=' padding as zero bytes: remove them.
  size_t len = static_cast<size_t>(n);
  if (!clean.empty() && clean.back() == '=') --len;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') --len;
  buf.resize(len);
  *out = std::move(buf);
  return true;
}

bool ParseKubeconfig(const std::string& yaml_text, const std::string& dir,
                     KubeClientConfig* out, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    *error = std::string("invalid YAML: ") + e.what();
    return false;
  }
  if (!root || !root.IsMap()) {
    *error = "not a kubeconfig (expected a map)";
    return false;
  }
  try {
    std::string current = Str(root, "current-context");
    YAML::Node context;
    if (!current.empty()) {
      if (!FindNamed(root, "contexts", current, "context", &context)) {
        *error = "current-context \"" + current + "\" not found in contexts";
        return false;
      }
    } else if (root["contexts"] && root["contexts"].IsSequence() &&
               root["contexts"].size() == 1) {
      context = root["contexts"][0]["context"];
    } else {
      *error = "current-context is not set";
      return false;
    }
    std::string cluster_name = Str(context, "cluster");
    std::string user_name = Str(context, "user");
    out->default_namespace = Str(context, "namespace");
    YAML::Node cluster;
    if (!FindNamed(root, "clusters", cluster_name, "cluster", &cluster)) {
      *error = "cluster \"" + cluster_name + "\" not found in clusters";
      return false;
    }
    out->server = Str(cluster, "server");
    if (out->server.empty()) {
      *error = "clusters[" + cluster_name + "].cluster.server is empty";
      return false;
    }
    while (!out->server.empty() && out->server.back() == '/') {
      out->server.pop_back();
    }
    out->ca_file = Resolve(dir, Str(cluster, "certificate-authority"));
    std::string ca_data = Str(cluster, "certificate-authority-data");
    if (!ca_data.empty() && !Base64Decode(ca_data, &out->ca_pem)) {
      *error = "clusters[" + cluster_name +
               "].cluster.certificate-authority-data is not valid base64";
      return false;
    }
    out->insecure_skip_tls_verify =
        Str(cluster, "insecure-skip-tls-verify") == "true";

    YAML::Node user;
    bool has_user = false;
    if (!user_name.empty()) {
      has_user = FindNamed(root, "users", user_name, "user", &user);
      if (!has_user) {
        *error = "user \"" + user_name + "\" not found in users";
        return false;
      }
    }
    if (has_user) {
      out->token = Str(user, "token");
      out->token_file = Resolve(dir, Str(user, "tokenFile"));
      out->username = Str(user, "username");
      out->password = Str(user, "password");
      out->client_cert_file = Resolve(dir, Str(user, "client-certificate"));
      out->client_key_file = Resolve(dir, Str(user, "client-key"));
      std::string cert_data = Str(user, "client-certificate-data");
      if (!cert_data.empty() &&
          !Base64Decode(cert_data, &out->client_cert_pem)) {
        *error = "users[" + user_name +
                 "].user.client-certificate-data is not valid base64";
        return false;
      }
      std::string key_data = Str(user, "client-key-data");
      if (!key_data.empty() && !Base64Decode(key_data, &out->client_key_pem)) {
        *error =
            "users[" + user_name + "].user.client-key-data is not valid base64";
        return false;
      }
      if (user["exec"] || user["auth-provider"]) {
        if (out->token.empty() && out->token_file.empty() &&
            out->client_cert_file.empty() && out->client_cert_pem.empty()) {
          *error = "users[" + user_name +
                   "]: exec/auth-provider credentials are not supported; "
                   "use a token, tokenFile or client certificate";
          return false;
        }
      }
    }
  } catch (const YAML::Exception& e) {
    *error = std::string("malformed kubeconfig: ") + e.what();
    return false;
  }
  return true;
}

bool ResolveKubeClientConfig(const core::Config& config,
                             const std::map<std::string, std::string>& env,
                             KubeClientConfig* out, std::string* error) {
  *out = KubeClientConfig();
  std::string override_server = config.kube_api_server;
  while (!override_server.empty() && override_server.back() == '/') {
    override_server.pop_back();
  }
  if (!config.kube_kubeconfig.empty()) {
    if (!LoadKubeconfigFile(config.kube_kubeconfig, out, error)) return false;
  } else if (!override_server.empty()) {
    out->server = override_server;
    out->source = "kubernetes.api_server";
    return true;
  } else if (!EnvOr(env, "KUBECONFIG").empty()) {
    std::string list = EnvOr(env, "KUBECONFIG");
    std::string chosen;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty() && FileExists(item)) {
        chosen = item;
        break;
      }
    }
    if (chosen.empty()) {
      *error = "$KUBECONFIG (" + list + "): no readable file";
      return false;
    }
    if (!LoadKubeconfigFile(chosen, out, error)) return false;
  } else if (!EnvOr(env, "KUBERNETES_SERVICE_HOST").empty()) {
    std::string host = EnvOr(env, "KUBERNETES_SERVICE_HOST");
    std::string port = EnvOr(env, "KUBERNETES_SERVICE_PORT");
    if (port.empty()) port = "443";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    out->server = "https://" + host + ":" + port;
    out->token_file = std::string(kServiceAccountDir) + "/token";
    out->ca_file = std::string(kServiceAccountDir) + "/ca.crt";
    std::string ns;
    if (ReadFile(std::string(kServiceAccountDir) + "/namespace", &ns)) {
      out->default_namespace = ns;
    }
    out->source = "in-cluster";
    if (!FileExists(out->token_file)) {
      *error = "in-cluster config: cannot read " + out->token_file;
      return false;
    }
  } else if (!EnvOr(env, "HOME").empty() &&
             FileExists(EnvOr(env, "HOME") + "/.kube/config")) {
    if (!LoadKubeconfigFile(EnvOr(env, "HOME") + "/.kube/config", out, error)) {
      return false;
    }
  } else {
    *error =
        "no Kubernetes configuration: set kubernetes.kubeconfig or "
        "$KUBECONFIG, or run in a cluster";
    return false;
  }
  if (!override_server.empty()) out->server = override_server;
  return true;
}

}  // namespace kube
}  // namespace crashctl
