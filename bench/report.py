"""The bench's outputs: a JSON document, a printed table, and the machine they came from."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import faros
from faros.kube import client

BASELINE = "kubectl"
SERVER_SIDE = "kubectl-ss"
BASELINES = (BASELINE, SERVER_SIDE)
"""``kubectl apply`` client-side (Faros's default strategy) and ``--server-side``."""
LIMIT = "limit"
"""The physical limit: the same creates from a minimal parallel raw-HTTP client."""
DESIGN_LIMIT = "design-limit"
"""The design limit: the same client making the three writes per object Faros's API asks
for (GitTrackObject, object, GitTrackObject status)."""
LIMITS = (LIMIT, DESIGN_LIMIT)
#: (key, unit, what) of each row, in table order.
SCENARIOS = (
    ("create", "s", "create N objects"),
    ("create_writes", "writes/object", "API writes per created object"),
    ("of_limit", "fraction", "create throughput as a fraction of the physical limit"),
    ("of_design_limit", "fraction", "create throughput as a fraction of the design limit"),
    ("noop", "s", "no-op resync / apply"),
    ("noop_writes", "writes", "API writes of the no-op"),
    ("update", "s", "update 10 % of them"),
    ("update_writes", "writes/object", "API writes per changed object"),
    ("drift_p50", "s", "revert a hand edit, p50"),
    ("drift_p99", "s", "revert a hand edit, p99"),
    ("push_p50", "s", "push -> applied through the webhook receiver, p50"),
    ("push_p99", "s", "push -> applied through the webhook receiver, p99"),
    ("rss_largest", "MiB", "peak RSS of the largest process (a worker with its pool)"),
    ("rss_total", "MiB", "peak RSS of all the shape's processes together"),
)


RSS_PREFIX = "rss:"
"""Result keys ``rss:<process>``: each process's peak resident memory (MiB), kept in the JSON
as ``rss_by_process`` beside the rows."""


def memory_rows(memory: Mapping[str, float]) -> dict[str, float | None]:
    """A column's memory results from each process's peak (MiB): ``rss_largest``,
    ``rss_total`` and ``rss:<process>`` for each."""
    return {"rss_largest": max(memory.values()), "rss_total": sum(memory.values()),
            **{f"{RSS_PREFIX}{name}": value for name, value in memory.items()}}  # fmt: skip


def ratio(value: float | None, *, base: float | None) -> float | None:
    """``value / base``, or None when either is missing or the baseline is zero."""
    if value is None or base is None or base == 0:
        return None
    return value / base


def faros_columns(columns: Sequence[str]) -> list[str]:
    """The measured Faros columns (neither a baseline nor a limit)."""
    return [c for c in columns if c not in (*BASELINES, *LIMITS)]


Row = tuple[str, str, str]


def scenarios(
    results: Mapping[str, Mapping[str, float | None]], *, rows: Sequence[Row] = SCENARIOS
) -> dict[str, Any]:
    """Per scenario: its unit, the value of every column, and each Faros column's ratio to each
    baseline (``ratios``: to kubectl; ``ratios_ss``: to kubectl --server-side)."""
    with_limit = {column: dict(values) for column, values in results.items()}
    for key, column_of_limit in (("of_limit", LIMIT), ("of_design_limit", DESIGN_LIMIT)):
        limit = (results.get(column_of_limit) or {}).get("create")
        for column in faros_columns(list(results)):
            with_limit[column][key] = ratio(limit, base=with_limit[column].get("create"))
    table: dict[str, Any] = {}
    for key, unit, what in rows:
        values = {column: with_limit[column].get(key) for column in with_limit}
        row: dict[str, Any] = {"unit": unit, "what": what, "values": values}
        for field, baseline in (("ratios", BASELINE), ("ratios_ss", SERVER_SIDE)):
            base = values.get(baseline)
            row[field] = {c: ratio(values[c], base=base) for c in faros_columns(list(values))}
        table[key] = row
    return table


def document(
    *,
    results: Mapping[str, Mapping[str, float | None]],
    writes: Mapping[str, Mapping[str, int] | None],
    machine: Mapping[str, Any],
    count: int,
    changed: int,
    rows: Sequence[Row] = SCENARIOS,
) -> dict[str, Any]:
    """The whole JSON document of one run."""
    return {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "objects": count,
        "changed": changed,
        "columns": list(results),
        "machine": dict(machine),
        "scenarios": scenarios(results, rows=rows),
        "rss_by_process": {
            column: {
                key.removeprefix(RSS_PREFIX): value
                for key, value in values.items()
                if key.startswith(RSS_PREFIX)
            }
            for column, values in results.items()
            if any(key.startswith(RSS_PREFIX) for key in values)
        },
        "noop_writes_by_request": dict(writes),
    }


def _cell(value: float | None, *, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit in ("writes", "MiB", "requests"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def table(doc: Mapping[str, Any]) -> str:
    """A Markdown table: one row per scenario, values then each Faros column's ratios to the
    baselines."""
    columns: Sequence[str] = doc["columns"]
    others = faros_columns(columns)
    present = [b for b in BASELINES if b in columns]
    ratio_columns = [(c, b) for c in others for b in present]
    header = ["scenario", *columns, *(f"{c}/{b}" for c, b in ratio_columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, row in doc["scenarios"].items():
        cells = [f"{key} ({row['unit']})"]
        cells += [_cell(row["values"][c], unit=row["unit"]) for c in columns]
        for column, baseline in ratio_columns:
            field = "ratios" if baseline == BASELINE else "ratios_ss"
            cells.append(_ratio_cell(row[field][column]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine(kube: client.Kube) -> dict[str, Any]:
    """Where the numbers come from: CPUs, memory, Python, kubectl, kube-apiserver, Faros."""
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu_count": os.cpu_count(),
        "memory_gib": round(pages * size / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "faros": faros.__version__,
        "kubectl": _kubectl_version(),
        "kube_apiserver": str(kube.request("GET", "/version").get("gitVersion", "")),
    }


def _kubectl_version() -> str:
    done = subprocess.run(["kubectl", "version", "--client", "-o", "json"], capture_output=True,
                          text=True, check=False, timeout=30)  # fmt: skip
    if done.returncode != 0:
        return "unknown"
    return str(json.loads(done.stdout).get("clientVersion", {}).get("gitVersion", "unknown"))
