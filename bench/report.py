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
#: (key, unit, what) of each row, in table order.
SCENARIOS = (
    ("create", "s", "create N objects"),
    ("noop", "s", "no-op resync / apply"),
    ("noop_writes", "writes", "API writes of the no-op"),
    ("update", "s", "update 10 % of them"),
    ("drift", "s", "revert one hand edit"),
    ("push_p50", "s", "push -> applied through the webhook receiver, p50"),
    ("push_p99", "s", "push -> applied through the webhook receiver, p99"),
)


def ratio(value: float | None, *, base: float | None) -> float | None:
    """``value / base``, or None when either is missing or the baseline is zero."""
    if value is None or base is None or base == 0:
        return None
    return value / base


def scenarios(results: Mapping[str, Mapping[str, float | None]]) -> dict[str, Any]:
    """Per scenario: its unit, the value of every column, and each Faros column / kubectl."""
    table: dict[str, Any] = {}
    for key, unit, what in SCENARIOS:
        values = {column: results[column].get(key) for column in results}
        base = values.get(BASELINE)
        ratios = {c: ratio(v, base=base) for c, v in values.items() if c != BASELINE}
        table[key] = {"unit": unit, "what": what, "values": values, "ratios": ratios}
    return table


def document(
    *,
    results: Mapping[str, Mapping[str, float | None]],
    writes: Mapping[str, Mapping[str, int] | None],
    machine: Mapping[str, Any],
    count: int,
    changed: int,
) -> dict[str, Any]:
    """The whole JSON document of one run."""
    return {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "objects": count,
        "changed": changed,
        "columns": list(results),
        "machine": dict(machine),
        "scenarios": scenarios(results),
        "noop_writes_by_request": dict(writes),
    }


def _cell(value: float | None, *, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}" if unit == "writes" else f"{value:.2f}"


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def table(doc: Mapping[str, Any]) -> str:
    """A Markdown table: one row per scenario, values then ratios to kubectl."""
    columns: Sequence[str] = doc["columns"]
    others = [c for c in columns if c != BASELINE]
    header = ["scenario", *columns, *(f"{c}/kubectl" for c in others)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, row in doc["scenarios"].items():
        cells = [f"{key} ({row['unit']})"]
        cells += [_cell(row["values"][c], unit=row["unit"]) for c in columns]
        cells += [_ratio_cell(row["ratios"][c]) for c in others]
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
