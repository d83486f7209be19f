"""Read a provider's delivery into an :class:`Event`: a push (repositories and ref changes),
a ping, or another event, in the shapes each provider documents.

Only what matching needs is read: the repository URLs a push names and the references it
moved (``refs/heads/x``, ``refs/tags/v1``), with deletions marked (a branch deleted moves
nothing to sync). Bodies are JSON, or a form with the JSON in its ``payload`` field (GitHub's
and Gitea's ``application/x-www-form-urlencoded`` content type). Nothing here quotes the
body back: a :class:`PayloadError` says what is missing, never what was sent.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

MAX_REPOSITORIES = 32
"""URLs read from one delivery, at most (a payload names a repository a handful of ways)."""
MAX_CHANGES = 256
"""Reference changes read from one push, at most."""
MAX_URL = 2048
BRANCHES = "refs/heads/"
TAGS = "refs/tags/"


class Provider(enum.StrEnum):
    """Who sends the delivery: one receiver path each (``/hook/<provider>``)."""

    GITHUB = "github"
    GITLAB = "gitlab"
    BITBUCKET = "bitbucket"
    BITBUCKET_SERVER = "bitbucket-server"
    GITEA = "gitea"
    AZURE = "azure"
    GENERIC = "generic"


class Kind(enum.StrEnum):
    """What a delivery is about: only pushes queue syncs."""

    PUSH = "push"
    PING = "ping"
    OTHER = "other"


@dataclasses.dataclass(frozen=True, slots=True)
class RefChange:
    """One reference a push moved: its full name, and whether the push deleted it."""

    ref: str
    deleted: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """A delivery as matching sees it; ``delivery`` is the provider's id ("" when none)."""

    kind: Kind
    delivery: str = ""
    repositories: tuple[str, ...] = ()
    changes: tuple[RefChange, ...] = ()


class PayloadError(ValueError):
    """The body is not what the provider sends; ``str()`` says what is missing."""


def parse(provider: Provider, *, headers: Mapping[str, str], body: bytes) -> Event:
    """Read a delivery (``headers`` by lower-case name).

    Raises:
        PayloadError: the body is not a JSON object, or a push lacks what every push has.
    """
    data = _decode(body, content_type=headers.get("content-type", ""))
    reader = _READERS[provider]
    kind, delivery = reader.describe(headers, data)
    repositories = _unique(reader.repositories(data))
    if kind is not Kind.PUSH:
        return Event(kind, delivery, repositories)
    changes = tuple(reader.changes(data))[:MAX_CHANGES]
    if not repositories:
        raise PayloadError(f"a {provider} push must name its repository")
    if not changes:
        raise PayloadError(f"a {provider} push must name the references it moved")
    return Event(kind, delivery, repositories, changes)


def _decode(body: bytes, *, content_type: str) -> dict[str, Any]:
    text = body
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=16)
        except ValueError:
            raise PayloadError("a form body must hold few fields") from None
        if "payload" not in fields:
            raise PayloadError("a form body must hold the JSON payload in its 'payload' field")
        text = fields["payload"][0].encode()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the body is not a JSON object")
    return data


def _unique(urls: Iterable[object]) -> tuple[str, ...]:
    found = [u for u in urls if isinstance(u, str) and u and len(u) <= MAX_URL]
    return tuple(dict.fromkeys(found))[:MAX_REPOSITORIES]


def _get(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``, or None where a step is missing or not an object."""
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _items(value: Any) -> list[Any]:
    return value[:MAX_CHANGES] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_zero(sha: Any) -> bool:
    """An all-zero object id: what providers send as the new id of a deleted reference."""
    return isinstance(sha, str) and bool(sha) and set(sha) == {"0"}


def _full(ref: str) -> str:
    return ref if ref.startswith("refs/") else BRANCHES + ref


class _Reader:
    """How one provider says what a delivery is, which repository and which references."""

    event_headers: tuple[str, ...] = ()
    delivery_headers: tuple[str, ...] = ()
    push: frozenset[str] = frozenset()
    ping: frozenset[str] = frozenset()

    def describe(self, headers: Mapping[str, str], data: dict[str, Any]) -> tuple[Kind, str]:
        event = next((headers[h] for h in self.event_headers if headers.get(h)), "")
        delivery = next((headers[h] for h in self.delivery_headers if headers.get(h)), "")
        if event in self.push:
            return Kind.PUSH, delivery
        return (Kind.PING if event in self.ping else Kind.OTHER), delivery

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        repository = _get(data, "repository")
        fields = ("clone_url", "ssh_url", "git_url", "html_url", "url", "svn_url")
        return [_get(repository, field) for field in fields]

    def changes(self, data: dict[str, Any]) -> Iterable[RefChange]:
        ref = _text(data.get("ref"))
        if not ref:
            return []
        deleted = data.get("deleted") is True or _is_zero(data.get("after"))
        return [RefChange(_full(ref), deleted=deleted)]


class _GitHub(_Reader):
    event_headers = ("x-github-event",)
    delivery_headers = ("x-github-delivery",)
    push = frozenset({"push"})
    ping = frozenset({"ping"})


class _Gitea(_Reader):
    event_headers = ("x-forgejo-event", "x-gitea-event")
    delivery_headers = ("x-forgejo-delivery", "x-gitea-delivery")
    push = frozenset({"push"})


class _GitLab(_Reader):
    event_headers = ("x-gitlab-event",)
    delivery_headers = ("x-gitlab-event-uuid",)
    push = frozenset({"Push Hook", "Tag Push Hook"})

    def describe(self, headers: Mapping[str, str], data: dict[str, Any]) -> tuple[Kind, str]:
        kind, delivery = super().describe(headers, data)
        system_push = data.get("object_kind") in ("push", "tag_push")
        if headers.get("x-gitlab-event") == "System Hook" and system_push:
            kind = Kind.PUSH
        return kind, delivery

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        project, repository = _get(data, "project"), _get(data, "repository")
        fields = ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "url")
        return [
            *(_get(project, field) for field in fields),
            *(_get(repository, field) for field in ("git_http_url", "git_ssh_url", "url")),
            _get(repository, "homepage"),
        ]


class _Bitbucket(_Reader):
    """Bitbucket Cloud: ``repo:push`` with ``push.changes[]`` of ``old``/``new`` references."""

    event_headers = ("x-event-key",)
    delivery_headers = ("x-request-uuid",)
    push = frozenset({"repo:push"})

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        repository = _get(data, "repository")
        full_name = _text(_get(repository, "full_name"))
        clones = [_get(link, "href") for link in _items(_get(repository, "links", "clone"))]
        return [
            _get(repository, "links", "html", "href"),
            f"https://bitbucket.org/{full_name}" if full_name else None,
            *clones,
        ]

    def changes(self, data: dict[str, Any]) -> Iterable[RefChange]:
        found: list[RefChange] = []
        for change in _items(_get(data, "push", "changes")):
            new, old = _get(change, "new"), _get(change, "old")
            ref = new if isinstance(new, dict) else old
            prefix = {"branch": BRANCHES, "named_branch": BRANCHES, "tag": TAGS}.get(
                _text(_get(ref, "type"))
            )
            name = _text(_get(ref, "name"))
            if prefix and name:
                deleted = not isinstance(new, dict) or _get(change, "closed") is True
                found.append(RefChange(prefix + name, deleted=deleted))
        return found


class _BitbucketServer(_Reader):
    """Bitbucket Server and Data Center: ``repo:refs_changed`` with ``changes[]``."""

    event_headers = ("x-event-key",)
    delivery_headers = ("x-request-id",)
    push = frozenset({"repo:refs_changed"})
    ping = frozenset({"diagnostics:ping"})

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        clones = _items(_get(data, "repository", "links", "clone"))
        return [_get(link, "href") for link in clones]

    def changes(self, data: dict[str, Any]) -> Iterable[RefChange]:
        found: list[RefChange] = []
        for change in _items(data.get("changes")):
            ref = _text(_get(change, "ref", "id")) or _text(_get(change, "refId"))
            if ref:
                deleted = _get(change, "type") == "DELETE" or _is_zero(_get(change, "toHash"))
                found.append(RefChange(_full(ref), deleted=deleted))
        return found


class _Azure(_Reader):
    """Azure DevOps service hook ``git.push``: ``resource.refUpdates[]``; no headers of its own."""

    def describe(self, headers: Mapping[str, str], data: dict[str, Any]) -> tuple[Kind, str]:
        kind = Kind.PUSH if data.get("eventType") == "git.push" else Kind.OTHER
        return kind, _text(data.get("id"))

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        repository = _get(data, "resource", "repository")
        return [_get(repository, field) for field in ("remoteUrl", "sshUrl", "webUrl")]

    def changes(self, data: dict[str, Any]) -> Iterable[RefChange]:
        found: list[RefChange] = []
        for update in _items(_get(data, "resource", "refUpdates")):
            ref = _text(_get(update, "name"))
            if ref:
                found.append(RefChange(_full(ref), deleted=_is_zero(_get(update, "newObjectId"))))
        return found


class _Generic(_Reader):
    """``{"repository": URL or [URL, ...], "ref": "refs/heads/main"}``, optionally
    ``"repositories": [...]`` and ``"deleted": true``; a short ref names a branch."""

    delivery_headers = ("x-delivery-id",)

    def describe(self, headers: Mapping[str, str], data: dict[str, Any]) -> tuple[Kind, str]:
        return Kind.PUSH, super().describe(headers, data)[1]

    def repositories(self, data: dict[str, Any]) -> Iterable[object]:
        named = data.get("repository")
        return [*(named if isinstance(named, list) else [named]), *_items(data.get("repositories"))]


_READERS: dict[Provider, _Reader] = {
    Provider.GITHUB: _GitHub(),
    Provider.GITLAB: _GitLab(),
    Provider.BITBUCKET: _Bitbucket(),
    Provider.BITBUCKET_SERVER: _BitbucketServer(),
    Provider.GITEA: _Gitea(),
    Provider.AZURE: _Azure(),
    Provider.GENERIC: _Generic(),
}
