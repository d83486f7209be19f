"""Counting requests in the API server's audit log cannot pass on a log that was rotated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness import cluster as cluster_harness


def _log(path: Path, verbs: list[str]) -> cluster_harness.Cluster:
    path.write_text("".join(json.dumps({"verb": v, "requestURI": f"/{v}"}) + "\n" for v in verbs))
    return cluster_harness.Cluster(kubeconfig=path.with_name("kubeconfig"), audit_log=path)


def test_lists_after_the_mark_are_counted(tmp_path):
    cluster = _log(tmp_path / "audit.log", ["list", "create", "list"])

    assert cluster_harness.lists_since(cluster, 1) == ["/list"]


def test_a_rotated_log_is_an_error_not_an_empty_count(tmp_path):
    cluster = _log(tmp_path / "audit.log", ["list"])  # fewer entries than the mark: rotated

    with pytest.raises(AssertionError, match="rotated"):
        cluster_harness.lists_since(cluster, 5)
