"""The benchmarks' pure parts: reading the API server's counters, percentiles, the report."""

from __future__ import annotations

import pytest

from bench import apiserver, observe, report, sources

METRICS = """\
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"} 3
apiserver_request_total{code="201",component="apiserver",dry_run="",group="faros.pusher.com",resource="gittracks",scope="resource",subresource="status",verb="PUT",version="v1alpha1"} 2
apiserver_request_count_other{verb="GET"} 99
"""  # noqa: E501


def test_the_api_servers_counters_are_read_by_verb_and_resource():
    counts = apiserver.parse(METRICS)
    assert counts == {("LIST", "configmaps"): 10, ("PUT", "gittracks/status"): 2}
    assert apiserver.by_verb(counts) == {"LIST": 10, "PUT": 2}


@pytest.mark.parametrize(
    ("values", "p50", "p99"),
    [([0.3], 0.3, 0.3), ([0.1, 0.2, 0.9], 0.2, 0.9), (list(range(1, 101)), 50.5, 99)],
)
def test_percentiles(values, p50, p99):
    assert observe.percentiles(values, prefix="drift") == {"drift_p50": p50, "drift_p99": p99}
    assert observe.percentiles([], prefix="push") == {"push_p50": None, "push_p99": None}


def test_ratios_go_to_both_baselines_and_the_limit_is_a_fraction():
    results = {"kubectl": {"create": 10.0}, "kubectl-ss": {"create": 5.0},
               "limit": {"create": 2.0}, "faros-run": {"create": 4.0}}  # fmt: skip
    row = report.scenarios(results)["create"]
    assert row["ratios"] == {"faros-run": 0.4}
    assert row["ratios_ss"] == {"faros-run": 0.8}
    assert report.scenarios(results)["of_limit"]["values"]["faros-run"] == 0.5
    table = report.table({"columns": list(results), "scenarios": report.scenarios(results)})
    assert "| faros-run/kubectl | faros-run/kubectl-ss |" in table


def test_the_design_limit_is_a_limit_not_a_faros_column():
    results = {"kubectl": {"create": 10.0}, "limit": {"create": 1.0},
               "design-limit": {"create": 2.0}, "faros-run": {"create": 8.0}}  # fmt: skip
    scenarios = report.scenarios(results)
    assert scenarios["of_limit"]["values"]["faros-run"] == 0.125
    assert scenarios["of_design_limit"]["values"]["faros-run"] == 0.25
    assert list(scenarios["create"]["ratios"]) == ["faros-run"]


def test_each_gittrack_of_many_sources_has_its_own_folder_of_four():
    found = sources.files("ns", gittracks=3)
    assert len(found) == 3 * sources.PER
    assert {name.split("/")[0] for name in found} == {"src-0000", "src-0001", "src-0002"}
