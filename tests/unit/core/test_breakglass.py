"""Break-glass: faros.pusher.com/pause-until on a live object, within --max-pause."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from faros.core import breakglass, routing

NOW = datetime.datetime(2026, 12, 4, 6, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(hours=24)


def live(value: object) -> dict[str, Any]:
    return {"metadata": {"name": "web", "annotations": {"faros.pusher.com/pause-until": value}}}


def test_no_annotation_is_no_pause():
    assert breakglass.read({"metadata": {}}, now=NOW, limit=DAY).state is breakglass.State.NONE
    assert breakglass.read(None, now=NOW, limit=DAY).state is breakglass.State.NONE
    assert breakglass.read(live(5), now=NOW, limit=DAY).state is breakglass.State.NONE


@pytest.mark.parametrize("text", ["2026-12-04T08:00:00Z", "2026-12-04T09:00:00+01:00",
                                  "2026-12-04t08:00:00z", "2026-12-04T08:00:00.5Z"])  # fmt: skip
def test_a_time_within_the_limit_pauses_until_then(text):
    pause = breakglass.read(live(text), now=NOW, limit=DAY, label="ConfigMap team/web")
    assert pause.state is breakglass.State.ACTIVE
    assert pause.until is not None
    assert pause.until.astimezone(datetime.UTC).hour == 8
    assert "ConfigMap team/web are paused until 2026-12-04T08:00:00Z" in pause.message
    assert breakglass.is_paused(live(text), now=NOW, limit=DAY)


def test_a_time_past_is_expired_and_reverted():
    pause = breakglass.read(live("2026-12-04T05:59:59Z"), now=NOW, limit=DAY)
    assert pause.state is breakglass.State.EXPIRED
    assert "ended at 2026-12-04T05:59:59Z" in pause.message
    assert not breakglass.is_paused(live("2026-12-04T05:59:59Z"), now=NOW, limit=DAY)


def test_exactly_the_limit_is_allowed_a_second_more_is_refused():
    limit = breakglass.read(live("2026-12-05T06:00:00Z"), now=NOW, limit=DAY)
    assert limit.state is breakglass.State.ACTIVE
    beyond = breakglass.read(live("2026-12-05T06:01:00Z"), now=NOW, limit=DAY, label="x")
    assert beyond.state is breakglass.State.REFUSED
    assert "x is 24h01m ahead, more than the 24h00m allowed (--max-pause)" in beyond.message
    assert "not paused" in beyond.message


@pytest.mark.parametrize("text", ["tomorrow", "2026-12-04", "2026-12-04T08:00:00", "", "8h"])
def test_anything_but_a_zoned_time_is_refused_naming_it(text):
    pause = breakglass.read(live(text), now=NOW, limit=DAY, label="ConfigMap team/web")
    assert pause.state is breakglass.State.REFUSED
    assert f"on ConfigMap team/web is not an RFC 3339 time with a zone: {text!r}" in pause.message


def test_the_watchers_keep_the_annotation_of_managed_children_only():
    owner = {"apiVersion": "faros.pusher.com/v1alpha1", "kind": "GitTrackObject",
             "name": "configmap-web", "uid": "u", "controller": True}  # fmt: skip
    child = live("2026-12-04T08:00:00Z")
    child["metadata"].update(namespace="team", ownerReferences=[owner])
    child["metadata"]["annotations"]["other"] = "x" * 1000
    kept = routing.child_meta(child)
    assert kept is not None
    assert kept["metadata"]["annotations"] == {
        "faros.pusher.com/pause-until": "2026-12-04T08:00:00Z"
    }
    plain = routing.child_meta({"metadata": {**child["metadata"], "annotations": {}}})
    assert plain is not None
    assert "annotations" not in plain["metadata"]
