"""docs/metrics.md documents every metric defined in code, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit import defined_metrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
FAMILIES = defined_metrics.families()


def table() -> dict[str, list[str]]:
    """Rows of the metrics table by metric name: the cells after the name."""
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(faros_[a-z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def test_the_originals_and_the_new_metrics_are_defined():
    assert {
        "faros_gittrack_child_status", "faros_gittrackobject_in_sync",
        "faros_gittrack_time_to_deploy_seconds", "faros_commit_to_applied_seconds",
        "faros_task_runs_total", "faros_task_duration_seconds", "faros_queue_depth",
        "faros_lock_contention_total", "faros_drift_reverts_total",
        "faros_git_fetch_duration_seconds", "faros_webhook_requests_total",
        "faros_webhook_syncs_queued_total", "faros_webhook_push_to_applied_seconds",
        "faros_gittrack_ready", "faros_commit_to_healthy_seconds", "faros_paused_objects",
        "faros_drift_reverts_by_manager_total",
    } == set(FAMILIES)  # fmt: skip


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_metric_has_a_row_with_its_type(name):
    row = table().get(name)

    assert row is not None, f"{name} is not in the table of {DOC.name}"
    assert row[0] == FAMILIES[name]
    assert len(row) == 5, row  # type, labels, process, meaning, original
    assert all(row), row


def test_every_row_names_a_defined_metric():
    assert set(table()) <= set(FAMILIES)


def test_alerts_name_defined_series():
    text = DOC.read_text(encoding="utf-8").split("## Alerts", 1)[1]
    used = set(re.findall(r"\bfaros_[a-z_]+", text))

    assert used
    assert used <= defined_metrics.series_names()


def test_every_label_of_a_recorded_metric_is_documented():
    from prometheus_client.metrics import MetricWrapperBase

    from faros import metrics

    recorded = [m for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)]
    assert recorded
    for metric in recorded:
        name = metric._name + ("_total" if metric._type == "counter" else "")
        labels_cell = table()[name][1]
        for label in metric._labelnames:
            assert f"`{label}`" in labels_cell, (name, label)
