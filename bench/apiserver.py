"""The API server's own count of the requests it served (``apiserver_request_total``).

Read from its ``/metrics`` with the kubeconfig's bearer token: what every client did, Faros,
the controller-manager and the bench alike. The idle benchmark subtracts a window measured
with Faros stopped, of the same length, from a window with Faros running.
"""

from __future__ import annotations

import collections
import re
import ssl
import urllib.request
from pathlib import Path

from bench import limit

Counts = collections.Counter[tuple[str, str]]
"""(verb, resource) -> requests."""

_SAMPLE = re.compile(r"^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$", re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def requests(kubeconfig: Path) -> Counts:
    """Requests served so far, by verb and resource (subresource appended after a slash)."""
    server, token, ca = limit.credentials(kubeconfig)
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(f"{server}/metrics", headers=headers)  # noqa: S310
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:  # noqa: S310
        return parse(answer.read().decode())


def parse(text: str) -> Counts:
    """The ``apiserver_request_total`` samples of a metrics page, by (verb, resource)."""
    found: Counts = collections.Counter()
    for labels, value in _SAMPLE.findall(text):
        label = dict(_LABEL.findall(labels))
        resource = "/".join(filter(None, [label.get("resource"), label.get("subresource")]))
        found[(label.get("verb", ""), resource)] += int(float(value))
    return found


def by_verb(counts: Counts) -> dict[str, int]:
    """Requests per verb."""
    verbs: collections.Counter[str] = collections.Counter()
    for (verb, _), value in counts.items():
        verbs[verb] += value
    return dict(sorted(verbs.items()))


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE", "APPLY"})
