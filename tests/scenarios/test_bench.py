"""Smoke test of the GitOps benchmark: it runs end to end and reports every scenario.

Speed is the benchmark's business (docs/benchmarks.md), so nothing here is a timing threshold:
only that each scenario has a positive number where one applies and ratios computed from them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import limit, manifests, report
from faros.api import names
from faros.core import identity, syncplan
from tests.harness import cluster as cluster_harness

COLUMNS = ["kubectl", "kubectl-ss", "limit", "design-limit", "faros-run", "faros-distributed"]
FAROS_COLUMNS = COLUMNS[4:]


@pytest.mark.timeout(300)
def test_bench_reports_every_scenario(cluster, tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench.gitops", "--objects=6", f"--out={out}",
               f"--kubeconfig={cluster.kubeconfig}"]  # fmt: skip
    if cluster.audit_log is not None:
        command.append(f"--audit-log={cluster.audit_log}")
    done = subprocess.run(command, cwd=cluster_harness.REPO, capture_output=True, text=True,
                          timeout=290, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| create (s) |" in done.stdout
    assert "faros-run/kubectl-ss" in done.stdout

    doc = json.loads(out.read_text())
    assert doc["objects"] == 6
    assert doc["columns"] == COLUMNS
    assert doc["machine"]["cpu_count"] >= 1
    assert doc["machine"]["kube_apiserver"]
    processes = doc["rss_by_process"]["faros-distributed"]
    assert {"watch", "beat", "worker-1", "worker-2", "receiver"} <= set(processes)
    assert max(processes.values()) == doc["scenarios"]["rss_largest"]["values"]["faros-distributed"]
    assert set(doc["scenarios"]) == {key for key, _, _ in report.SCENARIOS}
    for key in ("create", "noop", "update"):
        _assert_timed(doc["scenarios"][key], with_baseline=True)
    for key in ("drift_p50", "drift_p99", "push_p50", "push_p99", "rss_largest", "rss_total"):
        _assert_timed(doc["scenarios"][key], with_baseline=False)
    for limit_column, key in (("limit", "of_limit"), ("design-limit", "of_design_limit")):
        assert doc["scenarios"]["create"]["values"][limit_column] > 0
        for column in FAROS_COLUMNS:
            limit, faros = (doc["scenarios"]["create"]["values"][c] for c in (limit_column, column))
            assert doc["scenarios"][key]["values"][column] == pytest.approx(limit / faros)
    counted = cluster.audit_log is not None
    _assert_writes(doc["scenarios"]["noop_writes"], counted=counted)
    for key in ("create_writes", "update_writes"):
        for column in FAROS_COLUMNS:
            value = doc["scenarios"][key]["values"][column]
            assert (value >= 1) if counted else value is None, (key, column, value)


def _assert_timed(row, *, with_baseline: bool) -> None:
    values = row["values"]
    for column in FAROS_COLUMNS:
        assert values[column] > 0, row
        for baseline, field in (("kubectl", "ratios"), ("kubectl-ss", "ratios_ss")):
            if with_baseline:
                assert values[baseline] > 0, row
                assert row[field][column] == pytest.approx(values[column] / values[baseline])
            else:
                assert values[baseline] is None, row
                assert row[field][column] is None, row


def _assert_writes(row, *, counted: bool) -> None:
    values = row["values"]
    if not counted:  # USE_EXISTING_CLUSTER: no audit log to count from
        assert {values[c] for c in COLUMNS if c not in report.LIMITS} == {None}, row
        return
    for column in (c for c in COLUMNS if c not in report.LIMITS):
        assert isinstance(values[column], int), row
        assert values[column] >= 0, row
    for column in FAROS_COLUMNS:  # kubectl's no-op apply writes nothing: no ratio to 0
        expected = values[column] / values["kubectl"] if values["kubectl"] else None
        assert row["ratios"][column] == expected, row


@pytest.mark.timeout(200)
def test_bench_create_only_passes_the_events_mode_to_faros(cluster, tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench.gitops", "--objects=6", f"--out={out}",
               f"--kubeconfig={cluster.kubeconfig}", "--shapes=run", "--create-only",
               "--events=summary"]  # fmt: skip
    if cluster.audit_log is not None:
        command.append(f"--audit-log={cluster.audit_log}")
    done = subprocess.run(command, cwd=cluster_harness.REPO, capture_output=True, text=True,
                          timeout=190, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    doc = json.loads(out.read_text())
    assert (doc["events"], doc["create_only"]) == ("summary", True)
    assert doc["columns"] == ["kubectl", "kubectl-ss", "limit", "design-limit", "faros-run"]
    values = {key: row["values"] for key, row in doc["scenarios"].items()}
    assert values["create"]["kubectl"] > 0
    assert values["create"]["faros-run"] > 0
    assert values["rss_largest"]["faros-run"] > 0
    assert doc["rss_by_process"] == {"faros-run": {"run": values["rss_largest"]["faros-run"]}}
    for key in ("noop", "update", "drift_p99", "push_p99"):  # not measured
        assert set(values[key].values()) == {None}, key
    if cluster.audit_log is not None:
        # --events=summary: the GitTrackObject, the child and the GitTrackObject's status per
        # object, one Synced Event for the sync; --events=all writes 7 per object
        assert values["create_writes"]["faros-run"] < 4


def test_the_design_limit_makes_the_three_writes_faros_must(cluster, kube, namespace):
    owner = limit.owning_gittrack(kube, namespace)
    bodies = manifests.bodies(count=2, namespace=namespace)
    mark = cluster_harness.audit_lines(cluster)

    assert limit.create_tracked(cluster.kubeconfig, bodies, owner=owner) > 0

    for body in bodies:
        child = identity.child_key(body, namespaced=True)
        gto = kube.request("GET", f"/apis/{names.API_VERSION}/namespaces/{namespace}"
                                  f"/gittrackobjects/{identity.gto_name(child)}")  # fmt: skip
        assert gto["metadata"]["ownerReferences"][0]["uid"] == owner.uid
        assert syncplan.is_in_sync(gto), gto.get("status")
        owned = kube.request("GET", f"{limit.collection(body)}/{child.name}")
        assert owned["metadata"]["ownerReferences"][0]["uid"] == gto["metadata"]["uid"]
    if cluster.audit_log is not None:
        writes = [w["verb"] for w in cluster_harness.writes_since(cluster, mark)
                  if (w.get("objectRef") or {}).get("namespace") == namespace]  # fmt: skip
        assert sorted(writes) == ["create"] * 4 + ["update"] * 2
