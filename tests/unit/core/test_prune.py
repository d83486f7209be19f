"""Prune protection and the deletion budget: what garbage collection may delete."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from faros.api import names
from faros.core import identity, prune, synccalc

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def manifest(name: str, *, protected: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "team"}
    if protected:
        meta["annotations"] = {"faros.pusher.com/prune": "disabled"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def body(name: str, *, protected: bool = False, finalizers: tuple[str, ...] = ()) -> dict[str, Any]:
    data = json.dumps(manifest(name, protected=protected)).encode()
    return {"apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT,
            "metadata": {"name": f"configmap-{name}", "namespace": "team", "uid": f"uid-{name}",
                         "finalizers": list(finalizers)},
            "spec": {"name": name, "kind": "ConfigMap",
                     "data": base64.b64encode(data).decode()}}  # fmt: skip


def key(name: str) -> identity.ObjectKey:
    return identity.gto_key(namespace="team", name=f"configmap-{name}")


def owned(
    *names_: str, protected: tuple[str, ...] = ()
) -> dict[identity.ObjectKey, dict[str, Any]]:
    return {key(n): body(n, protected=n in protected) for n in names_}


@pytest.mark.parametrize("value", ["disabled", "Disabled", " disabled "])
def test_the_annotation_protects(value):
    obj = manifest("a")
    obj["metadata"]["annotations"] = {"faros.pusher.com/prune": value}
    assert prune.is_protected(obj)


@pytest.mark.parametrize("annotations", [None, {}, {"faros.pusher.com/prune": "enabled"},
                                         {"faros.pusher.com/prune": True}, "disabled"])  # fmt: skip
def test_anything_else_does_not(annotations):
    obj = manifest("a")
    obj["metadata"]["annotations"] = annotations
    assert not prune.is_protected(obj)


def test_the_held_child_is_read_from_the_gittrackobject():
    assert prune.held_key(body("a")) == identity.ObjectKey("", "v1", "ConfigMap", "team", "a")
    assert prune.held_key({"spec": {"data": "not base64!"}}) is None
    assert prune.label(prune.held_key(body("a")), fallback="x") == "ConfigMap team/a"


def test_finalizers_keep_the_others_in_order():
    mine = prune.RELEASE_FINALIZER
    assert prune.finalizers(["a", "b"], protected=True) == ["a", "b", mine]
    assert prune.finalizers(["a", mine, "b"], protected=True) == ["a", "b", mine]
    assert prune.finalizers(["a", mine], protected=False) == ["a"]


def test_release_needs_the_finalizer_and_a_deletion():
    assert not prune.needs_release(body("a", finalizers=(prune.RELEASE_FINALIZER,)))
    going = body("a", finalizers=(prune.RELEASE_FINALIZER,))
    going["metadata"]["deletionTimestamp"] = "2026-12-04T06:00:00Z"
    assert prune.needs_release(going)
    going["metadata"]["finalizers"] = ["other"]
    assert not prune.needs_release(going)


def test_the_release_patch_removes_only_that_owner_and_tests_the_list():
    refs = [{"uid": "gto"}, {"uid": "someone-else"}]
    patch = prune.release_patch({"metadata": {"ownerReferences": refs}}, owner_uid="gto")
    assert patch == [
        {"op": "test", "path": "/metadata/ownerReferences", "value": refs},
        {"op": "replace", "path": "/metadata/ownerReferences", "value": [{"uid": "someone-else"}]},
    ]
    assert prune.release_patch({"metadata": {"ownerReferences": refs[1:]}}, owner_uid="gto") is None
    assert prune.release_patch({"metadata": {}}, owner_uid="gto") is None


@pytest.mark.parametrize(("value", "total", "allowed"), [
    (3, 100, 3), ("3", 100, 3), (0, 100, 0), ("10%", 25, 2), ("10%", 9, 0), ("100%", 7, 7),
    ("0%", 50, 0),
])  # fmt: skip
def test_budgets_count_or_take_a_share_rounded_down(value, total, allowed):
    budget = prune.parse_budget(value, source="spec.prune.maxDeletions")
    assert budget is not None
    assert budget.allowed(total) == allowed


@pytest.mark.parametrize("value", [-1, "-1", "101%", "10 %", "ten", "1.5", 1.5, True, "%"])
def test_a_bad_budget_is_refused_naming_where_and_what(value):
    with pytest.raises(prune.BudgetError, match=r"spec\.prune\.maxDeletions: .*expected|negative"):
        prune.parse_budget(value, source="spec.prune.maxDeletions")


def test_no_budget_when_unset_and_the_gittrack_beats_the_default():
    default = prune.parse_budget("5", source="--max-deletions")
    assert prune.parse_budget("", source="x") is None
    assert prune.budget_of({"spec": {}}, default=None) is None
    assert prune.budget_of({"spec": {}}, default=default) == default
    mine = prune.budget_of({"spec": {"prune": {"maxDeletions": "50%"}}}, default=default)
    assert mine is not None
    assert mine.percent == 50


def test_approval_names_the_full_commit():
    def annotated(value: str) -> dict[str, Any]:
        return {"metadata": {"annotations": {"faros.pusher.com/approve-deletions": value}}}

    assert prune.approved(annotated(COMMIT), commit=COMMIT)
    assert prune.approved(annotated(COMMIT.upper()), commit=COMMIT)
    assert not prune.approved(annotated(COMMIT[:12]), commit=COMMIT)  # a prefix is not enough
    assert not prune.approved(annotated("f" * 40), commit=COMMIT)  # the wrong SHA
    assert not prune.approved({"metadata": {}}, commit=COMMIT)


def gc(*doomed: str) -> synccalc.GcPlan:
    return synccalc.GcPlan(delete=tuple(key(n) for n in doomed))


def test_exactly_the_budget_is_deleted_one_more_blocks_everything():
    bodies = owned("a", "b", "c", "d", "e")
    budget = prune.parse_budget(3, source="spec.prune.maxDeletions")
    within = prune.gate(gc("a", "b", "c"), bodies=bodies, budget=budget, approval=False,
                        commit=COMMIT)  # fmt: skip
    assert within.delete == (key("a"), key("b"), key("c"))
    assert within.blocked == ("", "")

    over = prune.gate(gc("a", "b", "c", "d"), bodies=bodies, budget=budget, approval=False,
                      commit=COMMIT)  # fmt: skip
    assert (over.delete, over.release, over.protect) == ((), (), ())
    reason, message = over.blocked
    assert reason == "DeletionBudgetExceeded"
    assert f"commit {COMMIT} would delete 4 objects" in message
    assert "(3, spec.prune.maxDeletions: 3)" in message
    assert "ConfigMap team/a, ConfigMap team/b, ConfigMap team/c, ConfigMap team/d" in message
    assert f"faros.pusher.com/approve-deletions={COMMIT}" in message

    approved = prune.gate(gc("a", "b", "c", "d"), bodies=bodies, budget=budget, approval=True,
                          commit=COMMIT)  # fmt: skip
    assert len(approved.delete) == 4


def test_a_long_list_is_cut_short():
    bodies = owned(*"abcdefgh")
    over = prune.gate(gc(*"abcdefgh"), bodies=bodies, approval=False, commit=COMMIT,
                      budget=prune.parse_budget("50%", source="s"))  # fmt: skip
    assert over.blocked[1].count("ConfigMap team/") == prune.SHOWN
    assert "and 3 more" in over.blocked[1]


def test_protected_leftovers_are_released_and_not_counted_against_the_budget():
    bodies = owned("a", "b", "c", protected=("b",))
    bodies[key("c")]["metadata"]["finalizers"] = [prune.RELEASE_FINALIZER]  # protected before
    gated = prune.gate(gc("a", "b", "c"), bodies=bodies, approval=False, commit=COMMIT,
                       budget=prune.parse_budget(1, source="s"))  # fmt: skip
    assert gated.delete == (key("a"),)
    assert gated.protect == (key("b"), key("c"))


def test_a_skipped_collection_stays_skipped():
    skipped = synccalc.GcPlan(skipped="a file fails to parse")
    assert prune.gate(skipped, bodies={}, budget=None, approval=False, commit=COMMIT) == skipped
