#!/usr/bin/env python3
"""Static checks of grafana/: the provisioned data sources are the ones the
dashboards use, dashboards are well-formed (unique uids and panel ids, grid
within 24 columns, template variables present), and Infinity panels query
REST routes crashctl serves."""
import glob
import json
import os
import sys

import yaml

INFINITY = "yesoreyeram-infinity-datasource"
REST_PREFIXES = ("/api/v1/groups", "/api/v1/crashes", "/api/v1/projects", "/api/v1/transactions",
                 "/api/v1/traces", "/api/v1/releases", "/api/v1/monitors")
REQUIRED_VARIABLES = {
    "crashctl-overview": {"datasource", "project", "service"},
    "crashctl-kubernetes": {"datasource", "namespace"},
    "crashctl-health": {"datasource"},
    "crashctl-services": {"datasource", "project", "service"},
    "crashctl-releases": {"datasource", "project", "release", "environment"},
}


def walk(panels):
    for p in panels or []:
        yield p
        yield from walk(p.get("panels"))


def main(source_dir):
    errors = []
    with open(os.path.join(source_dir, "grafana/provisioning/datasources/crashctl.yml")) as f:
        ds_doc = yaml.safe_load(f)
    sources = {d["uid"]: d for d in ds_doc["datasources"]}
    if ds_doc.get("apiVersion") != 1:
        errors.append("datasources: apiVersion must be 1")
    if sources.get("crashctl-prometheus", {}).get("type") != "prometheus":
        errors.append("datasources: no prometheus data source with uid crashctl-prometheus")
    if sources.get("crashctl-api", {}).get("type") != INFINITY:
        errors.append(f"datasources: no {INFINITY} data source with uid crashctl-api")
    with open(os.path.join(source_dir, "grafana/provisioning/dashboards/crashctl.yml")) as f:
        providers = yaml.safe_load(f)["providers"]
    if not any(p.get("type") == "file" and p.get("options", {}).get("path") for p in providers):
        errors.append("dashboards provider: no file provider with a path")

    uids = set()
    paths = sorted(glob.glob(os.path.join(source_dir, "grafana/dashboards/*.json")))
    if len(paths) < 5:
        errors.append(f"expected at least 5 dashboards, found {len(paths)}")
    for path in paths:
        name = os.path.basename(path)
        with open(path) as f:
            dash = json.load(f)
        uid = dash.get("uid", "")
        if not uid or len(uid) > 40 or uid in uids:
            errors.append(f"{name}: missing, long or duplicate uid {uid!r}")
        uids.add(uid)
        variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
        missing = REQUIRED_VARIABLES.get(uid, set()) - set(variables)
        if missing:
            errors.append(f"{name}: missing template variables {sorted(missing)}")
        ds_var = variables.get("datasource")
        if ds_var and (ds_var.get("query") != "prometheus" or
                       sources.get(ds_var.get("current", {}).get("value"), {}).get("type") != "prometheus"):
            errors.append(f"{name}: variable $datasource must default to a provisioned Prometheus uid")
        ids = set()
        for panel in walk(dash.get("panels")):
            pid = panel.get("id")
            if pid in ids:
                errors.append(f"{name}: duplicate panel id {pid}")
            ids.add(pid)
            pos = panel.get("gridPos", {})
            if pos.get("x", 0) + pos.get("w", 0) > 24:
                errors.append(f"{name}: panel {panel.get('title')!r} is wider than the grid")
            if panel.get("type") == "row":
                continue
            if not panel.get("targets"):
                errors.append(f"{name}: panel {panel.get('title')!r} has no queries")
            for t in panel.get("targets", []):
                ref = t.get("datasource") or panel.get("datasource") or {}
                ref_uid = ref.get("uid", "")
                if ref_uid.startswith("$"):
                    var = ref_uid.strip("${}")
                    if var not in variables or variables[var].get("type") != "datasource":
                        errors.append(f"{name}: {panel['title']!r} uses undefined data source variable {ref_uid}")
                elif ref_uid not in sources:
                    errors.append(f"{name}: {panel['title']!r} uses unprovisioned data source {ref_uid!r}")
                if ref.get("type") == INFINITY:
                    url = t.get("url", "")
                    if not url.startswith(REST_PREFIXES):
                        errors.append(f"{name}: {panel['title']!r} queries {url!r}, not a crashctl REST list")
                elif ref.get("type") == "prometheus" and not t.get("expr"):
                    errors.append(f"{name}: {panel['title']!r} target {t.get('refId')} has no expr")
    for e in errors:
        print(f"FAIL {e}")
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
