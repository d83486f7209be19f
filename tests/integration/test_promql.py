"""The dashboard's queries and the documented alerts are valid PromQL over Faros's metrics.

Checked with Prometheus's own parser (``faros.testing.binaries.promql()``, built from Go
modules): every expression parses, and every metric it selects is one Faros defines.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from faros.testing import binaries
from tests.unit import defined_metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "helm" / "faros" / "dashboards" / "faros.json"
METRICS_DOC = ROOT / "docs" / "metrics.md"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
NOT_OURS = {"up"}
"""Prometheus's own series, which the worker-down alert uses."""


def check(expressions: list[str]) -> list[dict[str, Any]]:
    """Parse each expression: ``{"error": ..., "metrics": [...]}`` per expression."""
    done = subprocess.run(
        [str(binaries.promql())], input=json.dumps(expressions), capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def dashboard_expressions() -> list[str]:
    model = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in model["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append(expr)
    return found


def alert_rules() -> list[dict[str, Any]]:
    section = METRICS_DOC.read_text(encoding="utf-8").split("## Alerts", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Alerts section has no yaml block"
    groups = yaml.safe_load(block.group(1))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_checker_refuses_bad_promql_and_names_metrics():
    bad, good = check(["rate(faros_task_runs_total[", 'sum(rate(a_total{x="1"}[5m])) / b'])

    assert "parse error" in bad["error"]
    assert good == {"error": "", "metrics": ["a_total", "b"]}


@pytest.mark.parametrize(
    ("source", "expressions"),
    [
        ("dashboard", dashboard_expressions()),
        ("alerts", [rule["expr"] for rule in alert_rules()]),
    ],
)
def test_expressions_parse_and_select_only_faros_metrics(source, expressions):
    known = defined_metrics.series_names() | NOT_OURS
    results = check(expressions)

    assert len(expressions) >= 5
    for expr, result in zip(expressions, results, strict=True):
        assert result["error"] == "", (source, expr, result["error"])
        assert result["metrics"], (source, expr)
        assert set(result["metrics"]) <= known, (source, expr, set(result["metrics"]) - known)
