"""What ``faros diff`` prints: unified diffs of live objects against what a sync would make
of them, Secret values masked, as text or as Markdown for a pull request.

Pure: takes the live object and the API server's dry-run answer (or None for absent).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import enum
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from faros.api import names

SERVER_FIELDS = ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
                 "selfLink", "ownerReferences")  # fmt: skip
"""Metadata the API server or Faros sets: noise in a diff of what Git changes."""
NOISY_ANNOTATIONS = (names.LAST_APPLIED_ANNOTATION,
                     "kubectl.kubernetes.io/last-applied-configuration")  # fmt: skip
MASK = "***"


class Action(enum.StrEnum):
    """What a sync would do to one object."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One object a sync would change, and how."""

    action: Action
    label: str
    """``Kind namespace/name``."""
    diff: str


def clean(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``obj`` without ``status`` and the metadata the server or Faros sets."""
    if obj is None:
        return None
    result = copy.deepcopy(dict(obj))
    result.pop("status", None)
    meta = result.get("metadata") or {}
    for field in SERVER_FIELDS:
        meta.pop(field, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k not in NOISY_ANNOTATIONS}  # fmt: skip
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return result


def mask(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Both sides with a Secret's values masked, as ``kubectl diff`` does: ``***`` where a
    value is the same on both sides, ``*** (before)`` and ``*** (after)`` where it changed."""
    kind = (after or before or {}).get("kind")
    if kind != "Secret":
        return before, after
    before, after = copy.deepcopy(before), copy.deepcopy(after)
    for field in ("data", "stringData"):
        old = dict((before or {}).get(field) or {})
        new = dict((after or {}).get(field) or {})
        if before is not None and field in before:
            before[field] = {k: MASK if new.get(k) == v else f"{MASK} (before)"
                             for k, v in old.items()}  # fmt: skip
        if after is not None and field in after:
            after[field] = {k: MASK if old.get(k) == v else f"{MASK} (after)"
                            for k, v in new.items()}  # fmt: skip
    return before, after


def change(
    label: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> Change | None:
    """The change from the live ``before`` to the dry-run ``after`` (None: absent); None when
    they are the same once cleaned."""
    old, new = mask(clean(before), clean(after))
    if old == new:
        return None
    action = Action.CREATE if old is None else Action.DELETE if new is None else Action.UPDATE
    lines = difflib.unified_diff(
        _yaml(old), _yaml(new), fromfile=f"live/{label}", tofile=f"git/{label}", lineterm=""
    )
    return Change(action, label, "\n".join(lines) + "\n")


def _yaml(obj: Mapping[str, Any] | None) -> list[str]:
    return [] if obj is None else yaml.safe_dump(dict(obj), sort_keys=True).splitlines()


def summary(changes: Sequence[Change]) -> str:
    """``2 to create, 1 to update, 1 to delete`` (or ``no changes``)."""
    counts = {action: sum(1 for c in changes if c.action is action) for action in Action}
    parts = [f"{n} to {action}" for action, n in counts.items() if n]
    return ", ".join(parts) or "no changes"


def text(changes: Sequence[Change]) -> str:
    """The diffs one after the other, then the summary."""
    body = "".join(c.diff for c in changes)
    return f"{body}{summary(changes)}\n"


def markdown(changes: Sequence[Change], *, title: str) -> str:
    """A Markdown comment: a heading, the summary, a collapsible ``diff`` block per object."""
    lines = [f"### {title}", "", f"**{summary(changes)}**", ""]
    for each in changes:
        fence = "````" if "```" in each.diff else "```"
        lines += [f"<details><summary>{each.action}: {each.label}</summary>", "",
                  f"{fence}diff", each.diff.rstrip("\n"), fence, "", "</details>", ""]  # fmt: skip
    return "\n".join(lines)
