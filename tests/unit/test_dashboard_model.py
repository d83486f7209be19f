"""The shipped dashboard survives Grafana's own JSON model (the Grafana Foundation SDK).

Decoding with the SDK's typed models (panel options per panel type, Prometheus queries)
and encoding back drops every field Grafana's schema does not know: a misspelt key, an
option at the wrong level, a query field Prometheus panels do not have. So every key and
value of the file must come back unchanged. Only the import-time keys are Grafana's
business: ``__inputs`` (filled in on import) and ``id`` (assigned by the Grafana instance).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as grafana_dashboard
from grafana_foundation_sdk.models import prometheus, timeseries

DASHBOARD = Path(__file__).resolve().parents[2] / "helm" / "faros" / "dashboards" / "faros.json"
IMPORT_ONLY = {"__inputs", "id"}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def round_trip(data: dict[str, Any]) -> tuple[grafana_dashboard.Dashboard, dict[str, Any]]:
    plugins.register_default_plugins()  # typed panel options and Prometheus queries
    model = grafana_dashboard.Dashboard.from_json(data)
    encoded: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    return model, encoded


def lost(original: Any, encoded: Any, path: str = "") -> list[str]:
    """Where ``original`` has a key or value that ``encoded`` does not carry unchanged."""
    if isinstance(original, dict):
        if not isinstance(encoded, dict):
            return [path or "."]
        return [
            problem
            for key, value in original.items()
            for problem in (
                [f"{path}.{key}"]
                if key not in encoded
                else lost(value, encoded[key], f"{path}.{key}")
            )
        ]
    if isinstance(original, list):
        if not isinstance(encoded, list) or len(original) != len(encoded):
            return [path]
        return [
            p
            for i, pair in enumerate(zip(original, encoded, strict=True))
            for p in lost(*pair, f"{path}[{i}]")
        ]
    return [] if original == encoded else [f"{path}: {original!r} became {encoded!r}"]


def test_every_field_is_one_grafana_knows(shipped):
    _, encoded = round_trip(shipped)

    problems = [p for p in lost(shipped, encoded) if p.lstrip(".") not in IMPORT_ONLY]
    assert problems == []


def test_panels_decode_to_their_typed_models(shipped):
    model, _ = round_trip(shipped)

    queries = [
        target
        for panel in model.panels or []
        if isinstance(panel, grafana_dashboard.Panel)
        for target in panel.targets or []
    ]
    assert queries
    assert all(isinstance(query, prometheus.Dataquery) for query in queries)
    graphs = [
        panel
        for panel in model.panels or []
        if isinstance(panel, grafana_dashboard.Panel) and panel.type_val == "timeseries"
    ]
    assert graphs
    assert all(isinstance(panel.options, timeseries.Options) for panel in graphs)


def test_a_field_grafana_does_not_know_is_caught(shipped):
    broken = json.loads(json.dumps(shipped))
    broken["panels"][0]["targets"][0]["exprr"] = "faros_queue_depth"
    broken["panels"][0]["gridPos"]["width"] = 12

    _, encoded = round_trip(broken)

    assert set(lost(broken, encoded)) >= {
        ".panels[0].targets[0].exprr",
        ".panels[0].gridPos.width",
    }
