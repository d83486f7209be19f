"""Fixtures for the API unit tests: the CRD documents shipped in the Helm chart."""

from pathlib import Path
from typing import Any

import pytest
import yaml

CRD_DIR = Path(__file__).resolve().parents[3] / "helm/faros/crds"


@pytest.fixture(scope="session")
def crd_dir() -> Path:
    """The chart's CRD folder (Helm installs every file in it as-is)."""
    return CRD_DIR


@pytest.fixture(scope="session")
def crds() -> dict[str, dict[str, Any]]:
    """Every CRD of the chart, keyed by the kind it defines."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[document["spec"]["names"]["kind"]] = document
    return found


@pytest.fixture(scope="session")
def schemas(crds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The OpenAPI v3 schema of the single version of each CRD, keyed by kind."""
    return {
        kind: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for kind, crd in crds.items()
    }
