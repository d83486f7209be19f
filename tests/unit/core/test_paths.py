"""Sub-path normalisation, refusals, manifest file selection and the inside check."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faros.core import paths

# The upstream fixture repository at 51798af plus the later files (spec section 6.1).
TREE = [
    "clusterrole.yaml",
    "colonname.yaml",
    "daemonset.yaml",
    "deployment.yaml",
    "foo/bar/non-yaml-file.txt",
    "foo/bar/service.yaml",
    "foo/deployment.yaml",
    "foo/namespace.yaml",
    "foobar/deployment.yaml",
    "foobar/namespace.yaml",
    "ingress.yaml",
    "invalid_file.yaml",
    "namespace.yaml",
    "service.yaml",
    "README.md",
    "upper.YAML",
    "data.json",
    "list.yml",
    ".yaml",
]

NORMALISED = [
    ("", ""),
    ("/", ""),
    ("foo", "foo/"),
    ("/foo", "foo/"),
    ("foo/", "foo/"),
    ("/foo/bar/", "foo/bar/"),
    (".", ""),
    ("./x", "x/"),
    ("x//y", "x/y/"),
    ("a.b/c-d", "a.b/c-d/"),
]


@pytest.mark.parametrize(
    ("sub_path", "expected"), NORMALISED, ids=[s or "root" for s, _ in NORMALISED]
)
def test_normalise(sub_path, expected):
    assert paths.normalise(sub_path) == expected


REFUSED = [
    ("..", "must not contain '..'"),
    ("foo/../..", "must not contain '..'"),
    ("foo/..", "must not contain '..'"),
    ("//etc", "must be relative"),
    ("a\\b", "must use '/' separators"),
    ("a\x00b", "NUL"),
]


@pytest.mark.parametrize(
    ("sub_path", "message"), REFUSED, ids=["dotdot", "deep", "up", "abs", "backslash", "nul"]
)
def test_escaping_sub_paths_are_refused_with_a_clear_message(sub_path, message):
    with pytest.raises(paths.SubPathError, match=message):
        paths.normalise(sub_path)


def test_dots_inside_names_are_not_parent_segments():
    assert paths.normalise("..foo/bar..") == "..foo/bar../"


SELECTED = [
    (
        "",
        [
            ".yaml",
            "clusterrole.yaml",
            "colonname.yaml",
            "daemonset.yaml",
            "data.json",
            "deployment.yaml",
            "foo/bar/service.yaml",
            "foo/deployment.yaml",
            "foo/namespace.yaml",
            "foobar/deployment.yaml",
            "foobar/namespace.yaml",
            "ingress.yaml",
            "invalid_file.yaml",
            "list.yml",
            "namespace.yaml",
            "service.yaml",
        ],
    ),
    ("foo/", ["foo/bar/service.yaml", "foo/deployment.yaml", "foo/namespace.yaml"]),
    ("foobar/", ["foobar/deployment.yaml", "foobar/namespace.yaml"]),
    ("foo/bar/", ["foo/bar/service.yaml"]),
    ("non-existent-path/", []),
]


@pytest.mark.parametrize(
    ("sub_path", "expected"), SELECTED, ids=["root", "foo", "foobar", "nested", "missing"]
)
def test_select_is_recursive_case_sensitive_and_stops_at_the_slash(sub_path, expected):
    assert paths.select(TREE, sub_path=sub_path) == expected


@pytest.mark.parametrize("sub_path", ["foo", "/foo"], ids=["plain", "leading-slash"])
def test_foo_never_selects_foobar(sub_path):
    selected = paths.select(TREE, sub_path=paths.normalise(sub_path))
    assert selected
    assert all(path.startswith("foo/") for path in selected)


INSIDE = [
    ("a.yaml", "", True),
    ("foo/a.yaml", "foo/", True),
    ("foo/../bar/a.yaml", "", True),
    ("foo/../bar/a.yaml", "foo/", False),
    ("foobar/a.yaml", "foo/", False),
    ("../a.yaml", "", False),
    ("a/../../b", "", False),
    ("..", "", False),
    ("/etc/passwd", "", False),
    ("a\x00b", "", False),
    ("", "", False),
    (".", "", True),
    (".", "foo/", False),
    ("foo", "foo/", True),
]


@pytest.mark.parametrize(
    ("path", "sub_path", "inside"), INSIDE, ids=[f"{p!r}-in-{s or 'root'}" for p, s, _ in INSIDE]
)
def test_is_inside(path, sub_path, inside):
    assert paths.is_inside(path, sub_path=sub_path) is inside


SEGMENT = st.sampled_from(["a", "b", "..", ".", "", "c.d", "..e"])


@given(st.lists(SEGMENT, max_size=6).map("/".join))
def test_normalised_sub_paths_never_escape(sub_path):
    try:
        normalised = paths.normalise(sub_path)
    except paths.SubPathError:
        return
    assert ".." not in normalised.split("/")
    assert not normalised.startswith("/")
    assert normalised == "" or normalised.endswith("/")
    assert paths.is_inside(normalised.rstrip("/") or ".")
