#!/usr/bin/env python3
"""deploy/kubernetes rendered by `kubectl kustomize`: the objects, the RBAC,
and a hardened pod that runs the image deploy/container/Containerfile builds;
then deploy/kubernetes/overlays/replicas: several replicas on PostgreSQL with
leader election (docs/scaling.md).

    kustomize_test.py SOURCE_DIR VERSION

Exit 77 (CTest SKIP_RETURN_CODE) when kubectl or PyYAML is missing.
"""
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(77)

source_dir, version = sys.argv[1], sys.argv[2]
kubectl = shutil.which("kubectl")
if not kubectl:
    print("SKIP: kubectl is not installed")
    sys.exit(77)



def render(path):
    rendered = subprocess.run(
        [kubectl, "kustomize", f"{source_dir}/{path}"],
        capture_output=True, text=True, timeout=60)
    if rendered.returncode != 0:
        print(rendered.stderr, file=sys.stderr)
        print(f"FAIL: kubectl kustomize {path} failed", file=sys.stderr)
        sys.exit(1)
    return [d for d in yaml.safe_load_all(rendered.stdout) if d]


docs = render("deploy/kubernetes")

errors = []


def want(cond, what):
    if not cond:
        errors.append(what)
    return cond


# The image's user and port, as the Containerfile declares them.
containerfile = open(f"{source_dir}/deploy/container/Containerfile").read()
user = re.search(r"^USER (\d+):(\d+)$", containerfile, re.M)
expose = re.search(r"^EXPOSE (\d+)/tcp$", containerfile, re.M)
want(user and expose, "Containerfile: no USER uid:gid or EXPOSE port/tcp")
image_uid, image_gid = int(user.group(1)), int(user.group(2))
image_port = int(expose.group(1))

by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
want(sorted(by_kind) == sorted(["Namespace", "ServiceAccount", "ClusterRole",
                                "ClusterRoleBinding", "PersistentVolumeClaim",
                                "Deployment", "Service"]),
     f"kinds {sorted(by_kind)}")

cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
for d in docs:
    ns = d["metadata"].get("namespace")
    if d["kind"] in cluster_scoped:
        want(ns is None, f"{d['kind']} {d['metadata']['name']} has a namespace")
    else:
        want(ns == "crashctl",
             f"{d['kind']} {d['metadata']['name']} in namespace {ns!r}")

# RBAC: read-only on exactly what the watcher reads, bound to the pod's
# service account.
role = by_kind["ClusterRole"][0]
resources, verbs = set(), set()
for rule in role["rules"]:
    want(rule.get("apiGroups") == [""], f"ClusterRole apiGroups {rule.get('apiGroups')}")
    resources |= set(rule["resources"])
    verbs |= set(rule["verbs"])
want(resources == {"pods", "pods/log", "events", "namespaces"},
     f"ClusterRole resources {sorted(resources)}")
want(verbs == {"get", "list", "watch"}, f"ClusterRole verbs {sorted(verbs)}")
binding = by_kind["ClusterRoleBinding"][0]
want(binding["roleRef"]["name"] == role["metadata"]["name"], "binding's roleRef")
want(binding["subjects"] == [{"kind": "ServiceAccount", "name": "crashctl",
                              "namespace": "crashctl"}],
     f"binding subjects {binding['subjects']}")

deployment = by_kind["Deployment"][0]
want(deployment["spec"]["replicas"] == 1, "replicas != 1 (one SQLite writer)")
want(deployment["spec"]["strategy"]["type"] == "Recreate", "strategy not Recreate")
pod = deployment["spec"]["template"]["spec"]
want(pod.get("serviceAccountName") == "crashctl", "serviceAccountName")
want(pod.get("enableServiceLinks") is False,
     "enableServiceLinks is not false (CRASHCTL_PORT & co. stop start-up)")
for key in ("hostNetwork", "hostPID", "hostIPC"):
    want(not pod.get(key), f"pod sets {key}")
want(len(pod["containers"]) == 1, "more than one container")
c = pod["containers"][0]
psc = pod.get("securityContext", {})
csc = c.get("securityContext", {})


def effective(key):
    return csc.get(key, psc.get(key))


want(c["image"] == f"crashctl:{version}",
     f"image {c['image']!r}, want crashctl:{version} (kustomization.yaml images:)")
want(effective("runAsNonRoot") is True, "runAsNonRoot is not true")
want(effective("runAsUser") == image_uid,
     f"runAsUser {effective('runAsUser')}, the image's user is {image_uid}")
want(effective("runAsGroup") == image_gid,
     f"runAsGroup {effective('runAsGroup')}, the image's group is {image_gid}")
want(psc.get("fsGroup") == image_gid, "fsGroup is not the image's group (volume writable)")
want((effective("seccompProfile") or {}).get("type") == "RuntimeDefault",
     "seccompProfile is not RuntimeDefault")
want(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
want(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true")
want(not csc.get("privileged"), "privileged")
caps = csc.get("capabilities", {})
want(caps.get("drop") == ["ALL"], f"capabilities.drop {caps.get('drop')}")
want(not caps.get("add"), f"capabilities.add {caps.get('add')}")

# Writable: /data (the PVC) and /tmp (an emptyDir), nothing else.
volumes = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
want(sorted(mounts) == ["/data", "/tmp"], f"volume mounts {sorted(mounts)}")
if want("/data" in mounts, "no /data mount"):
    v = volumes.get(mounts["/data"]["name"], {})
    want(v.get("persistentVolumeClaim", {}).get("claimName") ==
         by_kind["PersistentVolumeClaim"][0]["metadata"]["name"],
         "/data is not the PersistentVolumeClaim")
if want("/tmp" in mounts, "no /tmp mount"):
    v = volumes.get(mounts["/tmp"]["name"], {})
    want("emptyDir" in v, "/tmp is not an emptyDir")

res = c.get("resources", {})
for kind in ("requests", "limits"):
    for r in ("cpu", "memory"):
        want(r in res.get(kind, {}), f"resources.{kind}.{r} missing")

ports = {p["name"]: p for p in c.get("ports", [])}
want(ports.get("http", {}).get("containerPort") == image_port,
     f"container port 'http' is not the image's {image_port}")
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    get = c.get(probe, {}).get("httpGet", {})
    want(get.get("path") == path and get.get("port") in ("http", image_port),
         f"{probe} is not GET {path} on the http port: {get}")

env = {e["name"]: e for e in c.get("env", [])}
want(env.get("CRASHCTL_KUBERNETES_ENABLED", {}).get("value") == "true",
     "the Kubernetes watcher is not enabled")
token = env.get("CRASHCTL_AUTH_ADMIN_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
want(token.get("name") and token.get("optional") is True,
     "the admin token does not come from an optional Secret")

service = by_kind["Service"][0]
want(service["spec"]["selector"] ==
     deployment["spec"]["template"]["metadata"]["labels"],
     "the Service does not select the pod")
want(any(p.get("targetPort") in ("http", image_port) for p in service["spec"]["ports"]),
     "the Service does not target the http port")

namespace = by_kind["Namespace"][0]
want(namespace["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted",
     "the namespace does not enforce the restricted Pod Security Standard")

# The replicas overlay: the base's objects, minus SQLite's volume, plus a
# PodDisruptionBudget and a namespaced Role on Leases for leader election.
replicas = render("deploy/kubernetes/overlays/replicas")
r_kind = {}
for d in replicas:
    r_kind.setdefault(d["kind"], []).append(d)
want(sorted(r_kind) == sorted(["Namespace", "ServiceAccount", "ClusterRole",
                               "ClusterRoleBinding", "Role", "RoleBinding",
                               "Deployment", "Service",
                               "PodDisruptionBudget"]),
     f"replicas: kinds {sorted(r_kind)} (no PersistentVolumeClaim, no Secret)")
for d in replicas:
    ns = d["metadata"].get("namespace")
    if d["kind"] in cluster_scoped:
        want(ns is None, f"replicas: {d['kind']} {d['metadata']['name']} has a namespace")
    else:
        want(ns == "crashctl",
             f"replicas: {d['kind']} {d['metadata']['name']} in namespace {ns!r}")
# The watcher's ClusterRole is the base's, unchanged; Leases only in a Role.
want([d["rules"] for d in r_kind.get("ClusterRole", [])] == [role["rules"]],
     "replicas: the ClusterRole differs from the base's")

r_dep = r_kind["Deployment"][0]
want(r_dep["spec"]["replicas"] == 2, f"replicas: replicas {r_dep['spec']['replicas']}, want 2")
want(r_dep["spec"]["strategy"]["type"] == "RollingUpdate",
     "replicas: strategy is not RollingUpdate")
r_pod = r_dep["spec"]["template"]["spec"]
r_c = r_pod["containers"][0]
want(r_c["image"] == f"crashctl:{version}", f"replicas: image {r_c['image']!r}")
want(r_pod.get("enableServiceLinks") is False, "replicas: enableServiceLinks")
want(r_c.get("securityContext") == csc, "replicas: container securityContext differs from the base's")
r_env = {e["name"]: e for e in r_c.get("env", [])}
want(r_env.get("CRASHCTL_STORAGE_DRIVER", {}).get("value") == "postgres",
     "replicas: CRASHCTL_STORAGE_DRIVER is not postgres")
want(r_env.get("CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED", {}).get("value") == "true",
     "replicas: CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED is not true")
want(r_env.get("CRASHCTL_KUBERNETES_ENABLED", {}).get("value") == "true",
     "replicas: the watcher is not enabled")
dsn = r_env.get("CRASHCTL_STORAGE_POSTGRES_DSN", {})
want("value" not in dsn and dsn.get("valueFrom", {}).get("secretKeyRef") ==
     {"name": "crashctl-postgres", "key": "dsn"},
     f"replicas: the DSN is not secretKeyRef crashctl-postgres/dsn: {dsn}")
pod_name = r_env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
want(pod_name.get("fieldPath") == "metadata.name",
     f"replicas: POD_NAME is not the downward API's metadata.name: {pod_name}")
for name in r_env:
    want(not name.startswith("CRASHCTL_") or name == "CRASHCTL_AUTH_ADMIN_TOKEN" or
         name in env or name in ("CRASHCTL_STORAGE_DRIVER", "CRASHCTL_STORAGE_POSTGRES_DSN",
                                 "CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED"),
         f"replicas: unexpected variable {name}")
spread = r_pod.get("topologySpreadConstraints", [])
want(len(spread) == 1 and spread[0].get("topologyKey") == "kubernetes.io/hostname" and
     spread[0].get("whenUnsatisfiable") == "ScheduleAnyway" and
     spread[0].get("labelSelector", {}).get("matchLabels") ==
     r_dep["spec"]["template"]["metadata"]["labels"],
     f"replicas: topologySpreadConstraints {spread}")
# No SQLite volume: /data is per-pod scratch, nothing claims a PVC.
r_volumes = {v["name"]: v for v in r_pod.get("volumes", [])}
r_mounts = {m["mountPath"]: m for m in r_c.get("volumeMounts", [])}
want(sorted(r_mounts) == ["/data", "/tmp"], f"replicas: volume mounts {sorted(r_mounts)}")
for v in r_volumes.values():
    want("persistentVolumeClaim" not in v, f"replicas: volume {v['name']} is a PVC")
    want("emptyDir" in v, f"replicas: volume {v['name']} is not an emptyDir")

pdbs = r_kind.get("PodDisruptionBudget", [])
if want(len(pdbs) == 1, f"replicas: {len(pdbs)} PodDisruptionBudgets"):
    pdb = pdbs[0]
    want(pdb["apiVersion"] == "policy/v1", f"replicas: PDB apiVersion {pdb['apiVersion']}")
    want(pdb["spec"].get("minAvailable") == 1, "replicas: PDB minAvailable != 1")
    want(pdb["spec"].get("selector", {}).get("matchLabels") ==
         r_dep["spec"]["template"]["metadata"]["labels"],
         "replicas: the PDB does not select the pod")

roles = r_kind.get("Role", [])
if want(len(roles) == 1, f"replicas: {len(roles)} Roles"):
    lease_role = roles[0]
    want(lease_role["metadata"].get("namespace") == "crashctl",
         "replicas: the Lease Role is not in crashctl's namespace")
    want(lease_role["rules"] == [{"apiGroups": ["coordination.k8s.io"],
                                  "resources": ["leases"],
                                  "verbs": ["get", "create", "update"]}],
         f"replicas: Lease Role rules {lease_role['rules']}")
    rbs = r_kind.get("RoleBinding", [])
    if want(len(rbs) == 1, f"replicas: {len(rbs)} RoleBindings"):
        rb = rbs[0]
        want(rb["metadata"].get("namespace") == "crashctl",
             "replicas: the RoleBinding is not in crashctl's namespace")
        want(rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                               "name": lease_role["metadata"]["name"]},
             f"replicas: RoleBinding roleRef {rb['roleRef']}")
        want(rb["subjects"] == [{"kind": "ServiceAccount", "name": "crashctl",
                                 "namespace": "crashctl"}],
             f"replicas: RoleBinding subjects {rb['subjects']}")
for d in replicas:  # Leases only through that Role
    if d["kind"] == "ClusterRole":
        for rule in d["rules"]:
            want("coordination.k8s.io" not in rule.get("apiGroups", []),
                 "replicas: a ClusterRole grants Leases")

# The Secret is an example, not applied (it would overwrite the real one),
# and has the key the secretKeyRef reads.
example = [d for d in yaml.safe_load_all(open(
    f"{source_dir}/deploy/kubernetes/overlays/replicas/secret.example.yaml")) if d]
want(len(example) == 1 and example[0]["kind"] == "Secret" and
     example[0]["metadata"]["name"] == "crashctl-postgres" and
     "dsn" in example[0].get("stringData", {}),
     "replicas: secret.example.yaml is not a Secret crashctl-postgres with key dsn")

if errors:
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(docs)} objects, pod runs as {image_uid}:{image_gid}, "
      f"image crashctl:{version}; replicas overlay: {len(replicas)} objects")
