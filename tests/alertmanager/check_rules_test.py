#!/usr/bin/env python3
"""Every alerting rule carries a severity label (info|warning|critical),
summary and description annotations and a runbook_url whose anchor is a
heading of docs/runbooks.md; every alert name the pusher sends has a runbook
section too; every alert has a promtool unit test."""
import glob
import os
import re
import sys

import yaml

PUSHED = ["CrashctlNewErrorGroup", "CrashctlRegression", "CrashctlPodCrash", "CrashctlMonitorFailed"]
RUNBOOK_PREFIX = "https://github.com/crashctl/crashctl/blob/main/docs/runbooks.md#"


def anchor(heading):
    # GitHub: lower-case, drop punctuation, spaces become '-'.
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def main(source_dir):
    errors = []
    with open(os.path.join(source_dir, "docs/runbooks.md")) as f:
        anchors = {anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", f.read(), re.M)}
    tested = set()
    for path in glob.glob(os.path.join(source_dir, "alertmanager/rules/tests/*.yml")):
        with open(path) as f:
            for test in yaml.safe_load(f)["tests"]:
                for case in test.get("alert_rule_test", []):
                    tested.add((case["alertname"], bool(case.get("exp_alerts"))))
    for path in sorted(glob.glob(os.path.join(source_dir, "alertmanager/rules/*.yml"))):
        with open(path) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert")
                if not name:
                    continue
                if rule.get("labels", {}).get("severity") not in ("info", "warning", "critical"):
                    errors.append(f"{name}: severity label missing or not info|warning|critical")
                ann = rule.get("annotations", {})
                for key in ("summary", "description", "runbook_url"):
                    if not ann.get(key):
                        errors.append(f"{name}: annotation {key} missing")
                url = ann.get("runbook_url", "")
                if not url.startswith(RUNBOOK_PREFIX) or url[len(RUNBOOK_PREFIX):] not in anchors:
                    errors.append(f"{name}: runbook_url {url!r} does not point at a docs/runbooks.md heading")
                if url[len(RUNBOOK_PREFIX):] != name.lower():
                    errors.append(f"{name}: runbook anchor should be #{name.lower()}")
                for fires in (True, False):
                    if (name, fires) not in tested:
                        errors.append(f"{name}: no promtool test where it {'fires' if fires else 'does not fire'}")
    for name in PUSHED:
        if name.lower() not in anchors:
            errors.append(f"pushed alert {name}: no section in docs/runbooks.md")
    for e in errors:
        print(f"FAIL {e}")
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
