"""TypedDicts for the raw JSON bodies of GitTracks, GitTrackObjects and their cluster twins.

These describe what the API server stores (the CRDs in ``helm/faros/crds``), with
the original camelCase keys. Keys the schema requires are ``Required``; everything
else may be absent. Enum-like fields are plain ``str`` because the server hands
back strings (compare them with the enums in ``faros.api.names`` and
``faros.api.conditions``). ClusterGitTrack and ClusterGitTrackObject have the same
shapes as their namespaced twins, without ``metadata.namespace``.
"""

from typing import Required, TypeAlias, TypedDict


class OwnerReference(TypedDict, total=False):
    """One entry of ``metadata.ownerReferences``."""

    apiVersion: Required[str]
    kind: Required[str]
    name: Required[str]
    uid: Required[str]
    controller: bool
    blockOwnerDeletion: bool


class ObjectMeta(TypedDict, total=False):
    """The parts of ``metadata`` Faros reads or writes."""

    name: str
    generateName: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    labels: dict[str, str]
    annotations: dict[str, str]
    ownerReferences: list[OwnerReference]
    finalizers: list[str]


class Condition(TypedDict, total=False):
    """One status condition of a GitTrack or a GitTrackObject (spec sections 1.2 and 1.4).

    ``status`` is ``"True"`` or ``"False"``; times are RFC 3339 strings.
    """

    type: Required[str]
    status: Required[str]
    lastUpdateTime: str
    lastTransitionTime: str
    reason: str
    message: str


class DeployKey(TypedDict, total=False):
    """``spec.deployKey``: where the repository credentials live (spec section 1.1).

    Go clients always send it with empty strings; all fields empty means "no
    credentials". ``type`` is ``""`` (meaning SSH), ``"SSH"`` or ``"HTTPBasicAuth"``.
    """

    secretName: Required[str]
    key: Required[str]
    secretNamespace: str
    type: str


class WebhookSecretRef(TypedDict, total=False):
    """``spec.webhookSecretRef`` (ours, optional): the Secret key holding this GitTrack's own
    webhook secret, accepted besides the receiver's shared one (``--webhook-secret``).

    ``namespace`` is empty or the GitTrack's own for a GitTrack, required for a ClusterGitTrack.
    """

    name: Required[str]
    key: Required[str]
    namespace: str


class GitTrackSpec(TypedDict, total=False):
    """``spec`` of a GitTrack or ClusterGitTrack (spec section 1.1)."""

    repository: Required[str]
    reference: Required[str]
    subPath: str
    deployKey: DeployKey
    webhookSecretRef: WebhookSecretRef


class GitTrackStatus(TypedDict, total=False):
    """``status`` of a GitTrack or ClusterGitTrack (spec section 1.2).

    The four counters are required by the schema: every status write carries them.
    ``observedGeneration`` and ``revision`` are ours (the original had neither).
    """

    observedGeneration: int
    revision: str
    objectsDiscovered: Required[int]
    objectsApplied: Required[int]
    objectsIgnored: Required[int]
    objectsInSync: Required[int]
    ignoredFiles: dict[str, str]
    conditions: list[Condition]


class GitTrack(TypedDict, total=False):
    """A whole GitTrack or ClusterGitTrack as the API server returns it."""

    apiVersion: Required[str]
    kind: Required[str]
    metadata: Required[ObjectMeta]
    spec: Required[GitTrackSpec]
    status: GitTrackStatus


ClusterGitTrack: TypeAlias = GitTrack


class GitTrackObjectSpec(TypedDict):
    """``spec`` of a GitTrackObject or ClusterGitTrackObject (spec section 1.4).

    ``data`` is the child manifest (JSON, or one YAML document), base64-encoded as
    the JSON form of a ``format: byte`` field; ``name`` and ``kind`` are informational.
    """

    name: str
    kind: str
    data: str


class GitTrackObjectStatus(TypedDict, total=False):
    """``status`` of a GitTrackObject or ClusterGitTrackObject (one condition: ObjectInSync)."""

    observedGeneration: int
    conditions: list[Condition]


class GitTrackObject(TypedDict, total=False):
    """A whole GitTrackObject or ClusterGitTrackObject as the API server returns it."""

    apiVersion: Required[str]
    kind: Required[str]
    metadata: Required[ObjectMeta]
    spec: Required[GitTrackObjectSpec]
    status: GitTrackObjectStatus


ClusterGitTrackObject: TypeAlias = GitTrackObject
