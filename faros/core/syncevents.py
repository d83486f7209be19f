"""Which GitTrack Events a sync posts, and their texts (spec section 2.8).

Events are writes, so they follow changes: a checkout failure is posted when it is new,
an ownership conflict once, not on every sync that meets the same state again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from faros.api import conditions
from faros.core import identity, redact, rules


def checkout_text(verb: str, spec: Mapping[str, Any]) -> str:
    """``<verb> '<repository>' at '<reference>'`` with credentials removed from the URL."""
    repository = redact.url(str(spec.get("repository", "")))
    return f"{verb} '{repository}' at '{spec.get('reference', '')}'"


def announces_checkout(*, commit: str, previous: str | None, summary: bool) -> bool:
    """Whether a sync sends ``CheckoutStarted`` and ``CheckoutSuccessful`` (as the original
    controller did): when the commit is new to the GitTrack's status, and not with
    ``--events=summary``, whose ``Synced`` Event names the commit."""
    return commit != previous and not summary


def checkout_failure(
    *, message: str, previous: Mapping[str, Any], spec: Mapping[str, Any]
) -> str | None:
    """The CheckoutFailed message for a Git error, or None when the last sync had the same one.

    ``previous`` is the GitTrack's status before this sync.
    """
    fetched = next(
        (c for c in previous.get("conditions", [])
         if c.get("type") == conditions.GitTrackConditionType.FILES_FETCHED),
        None,
    )  # fmt: skip
    if fetched and fetched.get("status") == "False" and fetched.get("message") == message:
        return None
    if message.startswith("no files for subpath"):
        return f"No files for SubPath '{spec.get('subPath', '')}'"
    return checkout_text("Failed to checkout", spec)


def new_mismatches(
    mismatches: Iterable[tuple[str, str]], *, previous: Mapping[str, Any]
) -> list[str]:
    """ControllerMismatch messages for objects not already ignored as owned by another."""
    known = previous.get("ignoredFiles") or {}
    return [message for key, message in mismatches if known.get(key) != rules.OWNED_BY_ANOTHER]


def write_failure(
    *, gto: identity.ObjectKey, creating: bool, error: str, namespace_missing: bool
) -> str:
    """The ChildrenUpToDate message of a GitTrackObject the sync could not write (spec 2.9)."""
    if creating and namespace_missing and gto.namespace:
        error = f'namespace "{gto.namespace}" does not exist yet; the next sync retries'
    if creating:
        return redact.message(f"failed to create child for '{gto.name}': {error}")
    return redact.message(
        f"failed to update child resource: error updating child resource: {error}"
    )
