"""faros diff's output: cleaned objects, masked Secrets, unified diffs, text and Markdown."""

from __future__ import annotations

from typing import Any

from faros.core import preview


def cm(value: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "t", **meta}, "data": {"v": value}}  # fmt: skip


def test_server_fields_and_status_are_no_change():
    noisy = cm("1", resourceVersion="9", uid="u", managedFields=[{}], ownerReferences=[{}],
               annotations={"faros.pusher.com/last-applied-configuration": "{}"})  # fmt: skip
    assert preview.change("ConfigMap t/a", {**noisy, "status": {"x": 1}}, cm("1")) is None


def test_an_update_a_creation_and_a_deletion():
    update = preview.change("ConfigMap t/a", cm("1"), cm("2"))
    assert update is not None
    assert update.action is preview.Action.UPDATE
    assert "--- live/ConfigMap t/a\n+++ git/ConfigMap t/a\n" in update.diff
    assert "-  v: '1'\n+  v: '2'\n" in update.diff
    created = preview.change("ConfigMap t/a", None, cm("1"))
    deleted = preview.change("ConfigMap t/a", cm("1"), None)
    assert created is not None
    assert deleted is not None
    assert (created.action, deleted.action) == (preview.Action.CREATE, preview.Action.DELETE)
    assert preview.summary([update, created, deleted]) == "1 to create, 1 to update, 1 to delete"
    assert preview.text([]) == "no changes\n"


def test_secret_values_never_show():
    def secret(**data: str) -> dict[str, Any]:
        return {"kind": "Secret", "metadata": {"name": "s"}, "data": data}

    before, after = preview.mask(secret(same="c2FtZQ==", old="b25l"),
                                 secret(same="c2FtZQ==", old="dHdv", new="bmV3"))  # fmt: skip
    assert before == secret(same="***", old="*** (before)")
    assert after == secret(same="***", old="*** (after)", new="*** (after)")
    found = preview.change("Secret s", secret(k="b25l"), secret(k="dHdv"))
    assert found is not None
    assert "b25l" not in found.diff
    assert "dHdv" not in found.diff


def test_markdown_folds_each_object():
    update = preview.change("ConfigMap t/a", cm("1"), cm("2"))
    assert update is not None
    text = preview.markdown([update], title="faros diff: GitTrack t/web at main")
    assert text.startswith("### faros diff: GitTrack t/web at main\n\n**1 to update**\n")
    assert "<details><summary>update: ConfigMap t/a</summary>\n\n```diff\n--- live/" in text
