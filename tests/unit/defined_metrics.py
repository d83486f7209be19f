"""Every Faros metric defined in code: the recorded ones found in the registry, plus the
ones collectors produce at scrape time."""

from __future__ import annotations

from prometheus_client import REGISTRY, Metric

from faros import metrics  # noqa: F401 - importing it registers the recorded metrics
from faros.metrics import collectors

SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "counter": ("_total",), "gauge": ("",)}


def families() -> dict[str, str]:
    """Exposed family name -> type, e.g. ``faros_task_runs_total`` -> ``counter``."""
    found: dict[str, str] = {}
    for metric in REGISTRY.collect():
        if metric.name.startswith("faros_"):
            found[_exposed(metric)] = metric.type
    found.update(dict.fromkeys(collectors.NAMES, "gauge"))
    return found


def _exposed(metric: Metric) -> str:
    return f"{metric.name}_total" if metric.type == "counter" else metric.name


def series_names() -> set[str]:
    """Every name a sample line may carry (histograms' ``_bucket``, ``_sum``, ``_count``)."""
    names: set[str] = set()
    for name, kind in families().items():
        if kind == "histogram":
            names.update(name + suffix for suffix in SUFFIXES["histogram"])
        else:
            names.add(name)
    return names
