"""Which repository files a GitTrack reads: sub-path normalisation and file selection.

Spec section 2.4. The sub-path loses one leading ``/`` and gains a trailing ``/``; ""
is the repository root. Every file at any depth below it whose name ends in
``.yaml``, ``.yml`` or ``.json`` (case-sensitive: ``.YAML`` is skipped) is read; other
files are skipped silently. Thanks to the trailing slash ``foo`` never selects files in
``foobar/``.

Deliberate differences from the original:

- the CRD pattern ``^[a-zA-Z0-9/\\-.]*$`` lets ``..`` through; a sub-path with a ``..``
  segment, a NUL, a backslash or a second leading ``/`` is refused with a clear
  message instead of being handed to the file walker;
- ``.`` segments and doubled slashes are dropped (``./x`` and ``x//y`` are ``x/`` and
  ``x/y/``); the original matched no file for them and reported "no files".

Paths here are repository-relative with ``/`` separators, as Git lists them. This
module never touches a file system: the adapter lists and resolves, then asks
``is_inside`` about every path it resolved (symlinks, for instance).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from faros.core import errors

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class SubPathError(errors.Refused):
    """A GitTrack ``subPath`` Faros refuses; ``str()`` says why."""


def normalise(sub_path: str) -> str:
    """Return ``sub_path`` as a prefix: "" (the root) or ``dir/`` (spec section 2.4).

    Raises:
        SubPathError: the sub-path could leave the repository or is not a plain path.
    """
    if "\x00" in sub_path:
        raise SubPathError("subPath must not contain a NUL character")
    if "\\" in sub_path:
        raise SubPathError(f"subPath '{sub_path}' must use '/' separators, not '\\'")
    relative = sub_path.removeprefix("/")
    if relative.startswith("/"):
        raise SubPathError(f"subPath '{sub_path}' must be relative to the repository root")
    segments = [segment for segment in relative.split("/") if segment not in ("", ".")]
    if ".." in segments:
        raise SubPathError(f"subPath '{sub_path}' must not contain '..'")
    return "".join(f"{segment}/" for segment in segments)


def is_manifest(path: str, *, sub_path: str = "") -> bool:
    """True when the file at ``path`` is read for the (normalised) ``sub_path``."""
    return path.startswith(sub_path) and path.endswith(MANIFEST_SUFFIXES)


def select(paths: Iterable[str], *, sub_path: str) -> list[str]:
    """Return, sorted, the manifest files among ``paths`` for the normalised ``sub_path``."""
    return sorted(path for path in paths if is_manifest(path, sub_path=sub_path))


def is_inside(path: str, *, sub_path: str = "") -> bool:
    """True when ``path``, relative to the checkout root, stays inside it and ``sub_path``.

    For paths the adapter resolved itself (a symlink's target made relative to the
    checkout root, say): ``../x``, ``a/../../x``, absolute paths and NULs are outside.
    """
    if not path or "\x00" in path or path.startswith("/"):
        return False
    resolved = posixpath.normpath(path)
    if resolved == ".." or resolved.startswith("../"):
        return False
    if resolved == ".":
        return sub_path == ""
    return f"{resolved}/".startswith(sub_path)
