"""``spec.ignoreDifferences`` (ours): fields of live objects Faros neither reverts nor
reports as drift.

A rule selects objects (optionally by ``group``, ``kind``, ``name``, ``namespace``) and
names fields: ``jsonPointers`` (RFC 6901), and ``managedFieldsManagers``, the fields that
one of those field managers owns in the live object's ``managedFields``. Before an apply is
planned, the desired object takes the live value of every such field (or loses the field
when the live object has none), so both the three-way merge and server-side apply leave it
as it is. A new object is created as Git says: there is no live value yet.

The sync copies the rules that select an object onto its GitTrackObject
(``spec.ignoreDifferences``, selectors dropped), so the apply needs no other read and a
change of rules re-applies the objects it concerns.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from faros.core import fieldpaths, identity

SELECTORS = ("group", "kind", "name", "namespace")
METADATA_FIELDS = ("labels", "annotations")
"""The only ``metadata`` fields a rule can make Faros leave alone."""


class RuleError(ValueError):
    """An ``ignoreDifferences`` rule cannot be read."""


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One rule: which objects, and which of their fields."""

    selector: tuple[tuple[str, str], ...] = ()
    pointers: tuple[fieldpaths.Path, ...] = ()
    managers: tuple[str, ...] = ()
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def selects(self, child: identity.ObjectKey) -> bool:
        """True when this rule applies to the object ``child``."""
        have = {"group": child.group, "kind": child.kind, "name": child.name,
                "namespace": child.namespace}  # fmt: skip
        return all(have[field] == wanted for field, wanted in self.selector)

    def fields(self) -> dict[str, Any]:
        """The rule as its GitTrackObject holds it (no selectors: it selected the object)."""
        kept = {key: list(value) for key, value in self.raw.items() if key not in SELECTORS}
        return {key: value for key, value in kept.items() if value}


def parse(rules: object, *, source: str = "spec.ignoreDifferences") -> list[Rule]:
    """Read a list of rules.

    Raises:
        RuleError: a rule is not an object, a selector not a string, a pointer not a JSON
            pointer, a manager not a string, or a rule names no field (``source[i]`` says
            which).
    """
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise RuleError(f"{source} must be a list of rules")
    return [_rule(raw, where=f"{source}[{index}]") for index, raw in enumerate(rules)]


def _rule(raw: object, *, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where} must be an object")
    selector = []
    for field in SELECTORS:
        value = raw.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RuleError(f"{where}.{field} must be a string")
        selector.append((field, value))
    pointers = _strings(raw.get("jsonPointers"), where=f"{where}.jsonPointers")
    managers = _strings(raw.get("managedFieldsManagers"),
                        where=f"{where}.managedFieldsManagers")  # fmt: skip
    if not pointers and not managers:
        raise RuleError(f"{where} names no field: give jsonPointers or managedFieldsManagers")
    try:
        paths = tuple(fieldpaths.parse_pointer(pointer) for pointer in pointers)
    except fieldpaths.PointerError as error:
        raise RuleError(f"{where}.jsonPointers: {error}") from error
    if () in paths:
        raise RuleError(f'{where}.jsonPointers: "" would ignore the whole object')
    return Rule(tuple(selector), paths, tuple(managers), dict(raw))


def _strings(value: object, *, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleError(f"{where} must be a list of strings")
    return list(value)


def for_object(rules: Sequence[Rule], child: identity.ObjectKey) -> list[dict[str, Any]]:
    """The rules selecting ``child``, as its GitTrackObject holds them ([] for none)."""
    return [rule.fields() for rule in rules if rule.selects(child)]


def normalize(
    desired: Mapping[str, Any], live: Mapping[str, Any] | None, rules: Sequence[Rule]
) -> dict[str, Any]:
    """``desired`` with every ignored field as ``live`` has it (a copy; unchanged without
    ``live`` or rules). Fields outside ``metadata.labels`` and ``metadata.annotations`` in
    ``metadata``, and ``status``, are never touched."""
    result = copy.deepcopy(dict(desired))
    if live is None or not rules:
        return result
    for path in paths(live, rules):
        if not _allowed(path):
            continue
        value = fieldpaths.get(live, path)
        if value is fieldpaths.MISSING:
            fieldpaths.remove(result, path)
        else:
            fieldpaths.put(result, path, copy.deepcopy(value))
    return result


def paths(live: Mapping[str, Any], rules: Sequence[Rule]) -> list[fieldpaths.Path]:
    """Every field the rules name in ``live``: their pointers, and what their managers own."""
    found: list[fieldpaths.Path] = [path for rule in rules for path in rule.pointers]
    managers = {manager for rule in rules for manager in rule.managers}
    if managers:
        for entry in (live.get("metadata") or {}).get("managedFields") or []:
            if entry.get("manager") in managers and not entry.get("subresource"):
                found.extend(fieldpaths.managed_paths(entry.get("fieldsV1")))
    return found


def _allowed(path: fieldpaths.Path) -> bool:
    if not path or path[0] == "status":
        return False
    if path[0] == "metadata":
        return len(path) > 2 and path[1] in METADATA_FIELDS
    return path[0] not in ("apiVersion", "kind")
