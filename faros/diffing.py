"""``faros diff``: what a GitTrack's sync would change, before it happens (docs/cli.md).

Reads a local folder (``--path``, a checkout of the repository) or a Git reference of the
GitTrack's repository (``--ref``), parses it as a sync does, plans it with the same rules
(``spec.ignoreDifferences`` included, the controller's flags at their defaults), asks the API
server for a server-side dry run of every object that would be created or changed, and prints
a unified diff of each, plus the objects garbage collection would delete. Nothing is written.
Exit status as ``kubectl diff``: 0 no changes, 1 changes, 2 errors.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from faros.api import names
from faros.core import (
    applyplan,
    identity,
    ignore,
    manifests,
    paths,
    preview,
    rules,
    synccalc,
    syncplan,
)
from faros.git import fetch
from faros.kube import client, discovery, openapi, reads
from faros.kube import errors as kube_errors
from faros.tasks import gitsource

MAX_FILE_BYTES = 10 * 1024 * 1024
PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000"
"""The owner a new GitTrackObject would have: only for the dry run (never written)."""
EXIT_SAME, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2


class DiffError(Exception):
    """The diff cannot be made (a file fails to parse, a kind is unknown, a fetch failed)."""


def local_files(root: Path, *, sub_path: str) -> list[manifests.FileResult]:
    """The manifests under ``root``'s (normalised) ``sub_path``, parsed as a sync parses them;
    symbolic links are not followed and ``.git`` is skipped."""
    prefix = paths.normalise(sub_path)
    found: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in files:
            full = Path(folder) / name
            if not full.is_symlink():
                found.append(full.relative_to(root).as_posix())
    return [manifests.parse(path, (root / path).read_bytes(), max_bytes=MAX_FILE_BYTES)
            for path in paths.select(found, sub_path=prefix)]  # fmt: skip


def fetched_files(
    kube: client.Kube, gittrack: dict[str, Any], *, reference: str
) -> list[manifests.FileResult]:
    """The manifests of the GitTrack's repository at ``reference``, fetched into a temporary
    cache with the GitTrack's own credentials (read as the user running ``faros diff``)."""
    spec = {**gittrack["spec"], "reference": reference}
    with tempfile.TemporaryDirectory(prefix="faros-diff-") as cache:
        store = fetch.Store(Path(cache), fetch_timeout=60.0, known_hosts_files=(),
                            allow_file=True, max_file_bytes=MAX_FILE_BYTES)  # fmt: skip
        try:
            _, files = gitsource.fetch_files(kube, store, {**gittrack, "spec": spec},
                                             max_bytes=MAX_FILE_BYTES)  # fmt: skip
        except gitsource.SourceFailure as failure:
            raise DiffError(f"cannot fetch {reference!r}: {failure}") from failure
        finally:
            store.close()
    return files


def diff(
    kube: client.Kube, gittrack: dict[str, Any], files: Sequence[manifests.FileResult]
) -> list[preview.Change]:
    """Every change a sync of ``files`` would make, in the order of the plan, then deletions."""
    broken = [f"{file.path}: {file.error}" for file in files if file.error is not None]
    if broken:
        raise DiffError("; ".join(broken))
    meta = gittrack["metadata"]
    owner = rules.Owner(kind=str(gittrack["kind"]), namespace=str(meta.get("namespace", "")),
                        name=str(meta["name"]), uid=str(meta["uid"]))  # fmt: skip
    try:
        ignore_rules = ignore.parse(gittrack["spec"].get("ignoreDifferences"))
    except ignore.RuleError as error:
        raise DiffError(str(error)) from error
    found = discovery.Discovery(kube)
    objects = [obj for file in files for obj in file.objects]
    kinds: dict[tuple[str, str], syncplan.Kind | None] = {}
    for obj in objects:
        wanted = (str(obj["apiVersion"]), str(obj["kind"]))
        resource = found.resource(*wanted)
        kinds[wanted] = syncplan.Kind(resource.plural, resource.namespaced) if resource else None
    existing = _existing(kube, owner)
    plan = syncplan.plan(objects=objects, kinds=kinds, existing=existing, owner=owner,
                         policy=rules.Policy(), ignore_rules=ignore_rules)  # fmt: skip
    failed = [r.message for r in plan.ignored if r.outcome is synccalc.Outcome.FAILED]
    if failed:
        raise DiffError("; ".join(failed))
    schemas = openapi.OpenAPI(kube)
    changes = [
        each
        for step in plan.steps
        if (each := _one(kube, found, schemas, step, existing, ignore_rules)) is not None
    ]
    owned = [key for key, body in existing.items()
             if rules.is_controlled_by(body["metadata"].get("ownerReferences", []),
                                       uid=owner.uid)]  # fmt: skip
    results = [synccalc.ObjectResult(step.gto, synccalc.Outcome.APPLIED) for step in plan.steps]
    gc = synccalc.plan_gc(existing=owned, files=list(files), results=[*results, *plan.ignored])
    for key in gc.delete:
        child = syncplan.held_child(existing[key])
        live = _live(kube, found, child) if child is not None else None
        if child is not None and live is not None:
            each = preview.change(f"{child.kind} {child.namespaced_name}", live, None)
            changes += [each] if each else []
    return changes


def _existing(kube: client.Kube, owner: rules.Owner) -> dict[identity.ObjectKey, dict[str, Any]]:
    kinds = [(names.GITTRACKOBJECT, owner.namespace)]
    if not owner.namespace:
        kinds.append((names.CLUSTERGITTRACKOBJECT, ""))
    found: dict[identity.ObjectKey, dict[str, Any]] = {}
    selector = f"{names.OWNER_LABEL}={owner.uid}"
    for kind, namespace in kinds:
        for item in reads.list_own(kube, kind, namespace=namespace, label_selector=selector):
            meta = item["metadata"]
            found[identity.gto_key(namespace=meta.get("namespace", ""), name=meta["name"])] = item
    return found


def _live(
    kube: client.Kube, found: discovery.Discovery, child: identity.ObjectKey
) -> dict[str, Any] | None:
    resource = found.resource(child.api_version, child.kind)
    if resource is None:
        return None
    try:
        live: dict[str, Any] = kube.request(
            "GET", resource.path(namespace=child.namespace, name=child.name)
        )
    except kube_errors.NotFound:
        return None
    return live


def _one(
    kube: client.Kube,
    found: discovery.Discovery,
    schemas: openapi.OpenAPI,
    step: syncplan.Step,
    existing: dict[identity.ObjectKey, dict[str, Any]],
    ignore_rules: Sequence[ignore.Rule],
) -> preview.Change | None:
    """The change one object would see: its live state against the server's dry run."""
    body = existing.get(step.gto, step.body)
    uid = body["metadata"].get("uid") or PLACEHOLDER_UID
    gto = {**step.body, "metadata": {**step.body["metadata"], "uid": uid}}
    child = applyplan.decode(gto)
    resource = found.resource(child.desired["apiVersion"], child.desired["kind"])
    if resource is None:
        raise DiffError(f"the API server does not serve {child.desired['kind']} in "
                        f"{child.desired['apiVersion']}")  # fmt: skip
    child = applyplan.place(child, gto_namespace=step.gto.namespace, namespaced=resource.namespaced)
    meta = child.desired["metadata"]
    path = resource.path(namespace=meta.get("namespace", ""), name=meta["name"])
    label = applyplan.label(child.desired)
    try:
        live: dict[str, Any] | None = kube.request("GET", path)
    except kube_errors.NotFound:
        live = None
    normalized = ignore.normalize(child.desired, live, ignore_rules)
    child = applyplan.Child(normalized, child.strategy, child.strategy_text,
                            recorded=child.desired)  # fmt: skip
    schema = schemas.schema(group=resource.group, version=resource.version, kind=resource.kind)
    step_plan = applyplan.plan(child=child, live=live, meta=schema)
    dry: dict[str, str | int | bool] = {"dryRun": "All", "fieldManager": "faros"}
    if step_plan.action is applyplan.Action.CREATE:
        after = kube.request("POST", resource.path(namespace=meta.get("namespace", "")),
                             body=step_plan.body, query=dry)  # fmt: skip
    elif step_plan.action is applyplan.Action.PATCH:
        after = kube.request("PATCH", path, body=step_plan.body, query=dry,
                             content_type=step_plan.content_type)  # fmt: skip
    else:
        return None
    return preview.change(label, live, after)


def run(
    kube: client.Kube,
    gittrack: dict[str, Any],
    *,
    path: Path | None,
    reference: str | None,
    markdown: bool,
    out: TextIO,
) -> int:
    """Print the diff; return the exit status."""
    spec = gittrack["spec"]
    if path is not None:
        try:
            files = local_files(path, sub_path=str(spec.get("subPath") or ""))
        except paths.SubPathError as error:
            raise DiffError(str(error)) from error
        source = str(path)
    else:
        ref = reference or str(spec.get("reference", ""))
        files = fetched_files(kube, gittrack, reference=ref)
        source = ref
    changes = diff(kube, gittrack, files)
    meta = gittrack["metadata"]
    name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    if markdown:
        out.write(preview.markdown(changes, title=f"faros diff: {gittrack['kind']} {name} "
                                   f"at {source}"))  # fmt: skip
    else:
        out.write(preview.text(changes))
    return EXIT_CHANGED if changes else EXIT_SAME
