"""Smoke test of the GitOps benchmark: it runs end to end and reports every scenario.

Speed is the benchmark's business (docs/benchmarks.md), so nothing here is a timing threshold:
only that each scenario has a positive number where one applies and ratios computed from them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import report
from tests.harness import cluster as cluster_harness

COLUMNS = ["kubectl", "faros-run", "faros-distributed"]


@pytest.mark.timeout(240)
def test_bench_reports_every_scenario(cluster, tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench.gitops", "--objects=6", f"--out={out}",
               f"--kubeconfig={cluster.kubeconfig}"]  # fmt: skip
    if cluster.audit_log is not None:
        command.append(f"--audit-log={cluster.audit_log}")
    done = subprocess.run(command, cwd=cluster_harness.REPO, capture_output=True, text=True,
                          timeout=230, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| create (s) |" in done.stdout

    doc = json.loads(out.read_text())
    assert doc["objects"] == 6
    assert doc["columns"] == COLUMNS
    assert doc["machine"]["cpu_count"] >= 1
    assert doc["machine"]["kube_apiserver"]
    assert set(doc["scenarios"]) == {key for key, _, _ in report.SCENARIOS}
    for key in ("create", "noop", "update"):
        _assert_timed(doc["scenarios"][key], with_baseline=True)
    for key in ("drift", "push_p50", "push_p99"):
        _assert_timed(doc["scenarios"][key], with_baseline=False)
    _assert_writes(doc["scenarios"]["noop_writes"], counted=cluster.audit_log is not None)


def _assert_timed(row, *, with_baseline: bool) -> None:
    values, ratios = row["values"], row["ratios"]
    for column in COLUMNS[1:]:
        assert values[column] > 0, row
        if with_baseline:
            assert values["kubectl"] > 0, row
            assert ratios[column] == pytest.approx(values[column] / values["kubectl"])
        else:
            assert values["kubectl"] is None, row
            assert ratios[column] is None, row


def _assert_writes(row, *, counted: bool) -> None:
    values = row["values"]
    if not counted:  # USE_EXISTING_CLUSTER: no audit log to count from
        assert set(values.values()) == {None}, row
        return
    for column in COLUMNS:
        assert isinstance(values[column], int), row
        assert values[column] >= 0, row
    for column in COLUMNS[1:]:  # kubectl's no-op apply writes nothing: no ratio to 0
        expected = values[column] / values["kubectl"] if values["kubectl"] else None
        assert row["ratios"][column] == expected, row
