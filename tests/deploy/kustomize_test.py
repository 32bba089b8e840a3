#!/usr/bin/env python3
"""deploy/kubernetes rendered by `kubectl kustomize`: the objects, the RBAC,
and a hardened pod that runs the image deploy/container/Containerfile builds.

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

rendered = subprocess.run(
    [kubectl, "kustomize", f"{source_dir}/deploy/kubernetes"],
    capture_output=True, text=True, timeout=60)
if rendered.returncode != 0:
    print(rendered.stderr, file=sys.stderr)
    print("FAIL: kubectl kustomize deploy/kubernetes failed", file=sys.stderr)
    sys.exit(1)
docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]

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

if errors:
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(docs)} objects, pod runs as {image_uid}:{image_gid}, "
      f"image crashctl:{version}")
