"""The Grafana dashboard shipped in the chart is a sane Grafana model over real metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit import defined_metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "helm" / "faros" / "dashboards" / "faros.json"
PANEL_TYPES = {"timeseries", "bargauge", "stat", "table", "gauge", "text", "heatmap", "row"}
REQUIRED = {
    "Queue depth": "faros_queue_depth",
    "Reconcile rate": "faros_task_runs_total",
    "Reconcile errors": "faros_task_runs_total",
    "Objects in sync per GitTrack": "faros_gittrack_child_status",
    "Drift reverts": "faros_drift_reverts_total",
    "Commit-to-applied latency": "faros_commit_to_applied_seconds_bucket",
    "GitTracks not ready": "faros_gittrack_ready",
    "Commit-to-healthy latency": "faros_commit_to_healthy_seconds_bucket",
    "Webhook requests": "faros_webhook_requests_total",
    "Push-to-applied latency": "faros_webhook_push_to_applied_seconds_bucket",
    "Objects paused (break-glass)": "faros_paused_objects",
    "Drift reverts by field manager": "faros_drift_reverts_by_manager_total",
}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those nested in collapsed rows included."""
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_dashboard_identity(dashboard):
    assert dashboard["title"] == "Faros"
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"])
    assert isinstance(dashboard["schemaVersion"], int)
    assert dashboard["schemaVersion"] >= 36
    assert dashboard.get("id") is None  # Grafana assigns it on import


def test_a_prometheus_datasource_variable_drives_every_panel(dashboard):
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"]) == panel["datasource"]


def test_panels_are_well_formed(dashboard):
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        assert panel["type"] in PANEL_TYPES, panel
        assert panel["title"]
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid)
        assert grid["w"] > 0
        assert grid["h"] > 0
        assert grid["x"] >= 0
        assert grid["x"] + grid["w"] <= 24
        if panel["type"] == "row":
            continue
        refs = [target["refId"] for target in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_panels_do_not_overlap(dashboard):
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}  # fmt: skip
        assert not cells & mine, panel["title"]
        cells |= mine


def test_every_expression_names_defined_metrics(dashboard):
    known = defined_metrics.series_names()
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            used = set(re.findall(r"\bfaros_[a-z_]+", target["expr"]))
            assert used, target["expr"]
            assert used <= known, (panel["title"], used - known)


@pytest.mark.parametrize(("title", "series"), sorted(REQUIRED.items()))
def test_required_panels_are_present(dashboard, title, series):
    by_title = {panel["title"]: panel for panel in panels(dashboard)}
    assert title in by_title
    assert any(series in target["expr"] for target in by_title[title]["targets"])
