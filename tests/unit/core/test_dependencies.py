"""spec.dependsOn: references with defaults, readiness of dependencies, cycles."""

from __future__ import annotations

from faros.core import dependencies, identity


def gittrack(namespace="team", name="app", *entries, ready=None, generation=1):
    body = {"metadata": {"namespace": namespace, "name": name, "generation": generation},
            "spec": {"dependsOn": list(entries)}}  # fmt: skip
    if ready is not None:
        body["status"] = {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "True" if ready else "False"}]}  # fmt: skip
    return body


def key(namespace, name):
    return identity.gittrack_key(namespace=namespace, name=name)


def test_references_default_to_the_same_kind_and_namespace():
    entries = [{"name": "base"}, {"name": "crds", "kind": "ClusterGitTrack"},
               {"name": "db", "namespace": "data"}, {"name": "base"}]  # fmt: skip
    refs = dependencies.refs(gittrack("team", "app", *entries))
    assert refs == [key("team", "base"), key("", "crds"), key("data", "db")]


def test_a_clustergittrack_names_clustergittracks_unless_told():
    refs = dependencies.refs(gittrack("", "all", {"name": "crds"},
                                      {"name": "app", "kind": "GitTrack", "namespace": "team"},
                                      {"name": "orphan", "kind": "GitTrack"}))  # fmt: skip
    assert refs == [key("", "crds"), key("team", "app")]


def test_waiting_names_what_is_not_ready_or_missing():
    message = dependencies.waiting({key("team", "base"): gittrack(ready=False),
                                    key("", "crds"): None,
                                    key("team", "ok"): gittrack(ready=True)})  # fmt: skip
    assert message == ("waiting for GitTrack team/base is not Ready; "
                       "ClusterGitTrack crds does not exist")  # fmt: skip
    assert dependencies.waiting({key("team", "ok"): gittrack(ready=True)}) == ""


def test_ready_for_an_older_generation_is_not_ready():
    assert not dependencies.is_ready(gittrack(ready=True, generation=2))


def test_cycles_are_found_and_spelt_out():
    a, b, c = key("t", "a"), key("t", "b"), key("t", "c")
    assert dependencies.cycle(a, {a: [b], b: [c], c: [a]}) == [a, b, c, a]
    assert dependencies.cycle(a, {a: [b], b: [c], c: []}) == []
    assert dependencies.cycle(a, {a: [b], b: [b]}) == []  # b's own loop is b's to report
    state = dependencies.cycle_readiness([a, b, a])
    loop = "dependency cycle: GitTrack t/a -> GitTrack t/b -> GitTrack t/a"
    assert state.stalled == ("True", "DependencyCycle", loop)
    assert state.ready[0] == "False"
