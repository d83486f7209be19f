"""Manifest histories that ``kubectl apply`` and Faros must turn into the same objects.

Each :class:`History` is a list of steps run in order against one object. An :class:`Apply`
step is a manifest as it would appear in Git (its namespace is filled in at run time); an
:class:`Edit` is an out-of-band change made directly to the live object by someone else (a
person, an HPA, an injector), applied identically on both sides. Custom resources use the
placeholder group :data:`GROUP`; the test installs :func:`widget_crd` under a random group and
substitutes it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

GROUP = "oracle.faros.invalid"
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"

Manifest = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Apply:
    """Apply this manifest (kubectl apply on one side, a GitTrackObject on the other)."""

    manifest: Manifest


@dataclasses.dataclass(frozen=True)
class Edit:
    """Patch the live object directly, on both sides, with ``content_type``."""

    patch: Manifest
    content_type: str = STRATEGIC
    subresource: str = ""


Step = Apply | Edit


@dataclasses.dataclass(frozen=True)
class History:
    name: str
    steps: tuple[Step, ...]
    custom_resource: bool = False

    @property
    def target(self) -> Manifest:
        """The first manifest: names the object every step is about."""
        return next(step.manifest for step in self.steps if isinstance(step, Apply))


# --- builders ---------------------------------------------------------------------------------


def container(name: str, image: str = "nginx:1.25", **extra: Any) -> Manifest:
    return {"name": name, "image": image, **extra}


def deployment(
    containers: list[Manifest],
    *,
    name: str = "web",
    replicas: int | None = 1,
    volumes: list[Manifest] | None = None,
    labels: dict[str, str] | None = None,
    strategy: Manifest | None = None,
) -> Manifest:
    selector = {"app": name}
    pod_spec: Manifest = {"containers": containers}
    if volumes is not None:
        pod_spec["volumes"] = volumes
    spec: Manifest = {
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": {**selector, **(labels or {})}}, "spec": pod_spec},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if strategy is not None:
        spec["strategy"] = strategy
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": spec,
    }


def env(**values: str) -> list[Manifest]:
    return [{"name": key, "value": value} for key, value in values.items()]


def service(ports: list[Manifest], *, selector: dict[str, str] | None = None) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": selector or {"app": "web"}, "ports": ports},
    }


def configmap(data: dict[str, str], *, labels: dict[str, str] | None = None) -> Manifest:
    metadata: Manifest = {"name": "settings"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def role(rules: list[Manifest], *, labels: dict[str, str] | None = None) -> Manifest:
    metadata: Manifest = {"name": "reader"}
    if labels:
        metadata["labels"] = labels
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": metadata,
        "rules": rules,
    }


def rule(resources: list[str], verbs: list[str], groups: tuple[str, ...] = ("",)) -> Manifest:
    return {"apiGroups": list(groups), "resources": resources, "verbs": verbs}


def widget(spec: Manifest) -> Manifest:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def widget_crd(group: str) -> Manifest:
    """A namespaced CRD with list fields (strings, objects) and a free-form map."""
    entry = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "value": {"type": "integer"}},
    }
    spec = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "string"}},
            "entries": {"type": "array", "items": entry},
            "settings": {"type": "object", "additionalProperties": {"type": "string"}},
            "size": {"type": "integer"},
        },
    }
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [version],
        },
    }


def template_patch(pod_spec: Manifest, labels: dict[str, str] | None = None) -> Manifest:
    """A patch of a Deployment's pod template."""
    template: Manifest = {"spec": pod_spec}
    if labels:
        template["metadata"] = {"labels": labels}
    return {"spec": {"template": template}}


def containers_patch(*containers: Manifest) -> Manifest:
    return template_patch({"containers": list(containers)})


def web(**extra: Any) -> Manifest:
    """A Deployment with one container, ``web``, with ``extra`` container fields."""
    return deployment([container("web", **extra)])


def port(
    name: str, number: int, protocol: str = "", *, key: str = "containerPort", **extra: Any
) -> Manifest:
    """A container port, or a Service port with ``key="port"``."""
    found: Manifest = {"name": name, key: number, **extra}
    if protocol:
        found["protocol"] = protocol
    return found


def service_port(
    name: str, number: int, target: int | str | None = None, protocol: str = ""
) -> Manifest:
    extra = {} if target is None else {"targetPort": target}
    return port(name, number, protocol, key="port", **extra)


def mount(name: str) -> Manifest:
    return {"name": name, "mountPath": f"/{name}"}


def volume(name: str, **source: Any) -> Manifest:
    return {"name": name, **source}


def pods(*mounts: str, volumes: list[Manifest], **extra: Any) -> Manifest:
    """A Deployment mounting ``mounts`` from ``volumes``."""
    mounted = container("web", volumeMounts=[mount(name) for name in mounts])
    return deployment([mounted], volumes=volumes, **extra)


def spread(*constraints: Manifest) -> Manifest:
    """A Deployment spreading its pods by ``constraints`` (topologySpreadConstraints)."""
    found = deployment([container("web")])
    found["spec"]["template"]["spec"]["topologySpreadConstraints"] = list(constraints)
    return found


def constraint(when: str, **extra: Any) -> Manifest:
    """A spread constraint over nodes; its merge key, topologyKey, is the same for all."""
    selector = {"matchLabels": {"app": "web"}}
    found = {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": when}
    return {**found, "labelSelector": selector, **extra}


# --- the corpus -------------------------------------------------------------------------------

DEPLOYMENTS_RULE = rule(["deployments"], ["get"], ("apps",))
DATA_HOST = volume("data", hostPath={"path": "/srv/data"})
CONFIG = volume("config", configMap={"name": "web-config"})
DNS_UDP = port("dns", 53, "UDP")
HTTP_SVC = service_port("http", 80, "web")
BY_HASH = {"matchLabelKeys": ["pod-template-hash"]}

HISTORIES: list[History] = [
    History(
        "deployment-containers",
        (
            Apply(deployment([container("web"), container("sidecar", "busybox:1.36")])),
            # Reordered, and one image changed.
            Apply(deployment([container("sidecar", "busybox:1.36"), container("web", "nginx:2")])),
            # Someone sets an image and injects a container of their own.
            Edit(containers_patch(container("web", "nginx:edited"), container("envoy", "envoy:1"))),
            # Sidecar removed, a new container added; the edited image is put back.
            Apply(deployment([container("web", "nginx:2"), container("logger", "fluentd:1")])),
            Apply(deployment([container("logger", "fluentd:2"), container("web", "nginx:2")])),
        ),
    ),
    History(
        "deployment-env",
        (
            Apply(web(env=env(A="1", B="2", C="3"))),
            # Reordered, one value changed.
            Apply(web(env=env(C="3", A="1", B="two"))),
            # Someone adds a variable and changes another.
            Edit(containers_patch(container("web", env=env(D="4", A="edited")))),
            # A removed, B moves from value to valueFrom.
            Apply(
                web(
                    env=[
                        *env(C="3"),
                        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    ]
                )
            ),
            Apply(web(env=env(E="5"))),
        ),
    ),
    History(
        "deployment-ports",
        (
            Apply(web(ports=[port("http", 80), port("https", 443)])),
            # http moves to 8080 (a new merge key), a UDP port is added.
            Apply(web(ports=[port("http", 8080), port("https", 443), DNS_UDP])),
            # Someone adds a metrics port.
            Edit(containers_patch(container("web", ports=[port("metrics", 9090)]))),
            # https removed, the rest reordered.
            Apply(web(ports=[DNS_UDP, port("http", 8080)])),
        ),
    ),
    History(
        "deployment-same-port-two-protocols",
        (
            Apply(web(ports=[port("dns-tcp", 53, "TCP"), port("dns-udp", 53, "UDP")])),
            # dns-tcp removed: its merge key (containerPort 53) also names dns-udp, so kubectl's
            # patch deletes both (kubernetes/kubernetes#39188); Faros must do the same.
            Apply(web(ports=[port("dns-udp", 53, "UDP")])),
            # Re-applied unchanged: the port is missing from the live object, so it is added.
            Apply(web(ports=[port("dns-udp", 53, "UDP")])),
        ),
    ),
    History(
        "deployment-volumes",
        (
            Apply(pods("data", "config", volumes=[volume("data", emptyDir={}), CONFIG])),
            # data changes its source (emptyDir dropped), cache is added.
            Apply(
                pods(
                    "data",
                    "config",
                    "cache",
                    volumes=[DATA_HOST, CONFIG, volume("cache", emptyDir={"medium": "Memory"})],
                )
            ),
            # Someone adds a volume of their own.
            Edit(template_patch({"volumes": [volume("extra", emptyDir={})]})),
            # config removed (volume and mount), cache moves from emptyDir to a secret.
            Apply(
                pods(
                    "cache",
                    "data",
                    volumes=[volume("cache", secret={"secretName": "web-cache"}), DATA_HOST],
                )
            ),
            # Someone switches data to an emptyDir; the apply must drop it again (retainKeys).
            Edit(
                template_patch(
                    {
                        "volumes": [
                            volume("data", emptyDir={}, **{"$retainKeys": ["emptyDir", "name"]})
                        ]
                    }
                )
            ),
            # The strategy changes type: retainKeys drops the defaulted rollingUpdate.
            Apply(pods("data", volumes=[DATA_HOST], strategy={"type": "Recreate"})),
        ),
    ),
    History(
        "deployment-hpa-replicas",
        (
            Apply(deployment([container("web")], replicas=2)),
            # An HPA scales up through the scale subresource.
            Edit({"spec": {"replicas": 5}}, MERGE, subresource="scale"),
            # replicas leaves Git to the HPA: the last applied 2 is removed (back to default).
            Apply(deployment([container("web")], replicas=None)),
            Edit({"spec": {"replicas": 4}}, MERGE, subresource="scale"),
            # Later applies leave the HPA's replicas alone.
            Apply(deployment([container("web", "nginx:2")], replicas=None, labels={"v": "2"})),
        ),
    ),
    History(
        "deployment-out-of-band-metadata",
        (
            Apply(deployment([container("web")], labels={"tier": "front"})),
            # Someone labels and annotates the object and its template, and sets resources.
            Edit(
                {
                    "metadata": {"labels": {"owner": "ops"}, "annotations": {"note": "x"}},
                    **template_patch(
                        {"containers": [container("web", resources={"limits": {"cpu": "1"}})]},
                        labels={"debug": "1"},
                    ),
                }
            ),
            # The Git label changes; the foreign ones stay.
            Apply(deployment([container("web")], labels={"tier": "back"})),
            # Someone removes a label Git set.
            Edit({"metadata": {"labels": {"app": None}}}, MERGE),
            # The template label leaves Git (removed); the foreign ones stay.
            Apply(web(args=["--verbose"])),
        ),
    ),
    History(
        "deployment-spread-same-topology-key",
        (
            # Two constraints share the merge key (topologyKey); the API server accepts that, as
            # their (topologyKey, whenUnsatisfiable) pairs differ.
            Apply(
                spread(
                    constraint("DoNotSchedule", nodeTaintsPolicy="Honor"),
                    constraint("ScheduleAnyway"),
                )
            ),
            # Both gain matchLabelKeys, one loses nodeTaintsPolicy: kubectl merges both changed
            # elements into the deleting one, so its patch holds one element, which the API
            # server merges into the first constraint only.
            Apply(
                spread(
                    constraint("DoNotSchedule", **BY_HASH), constraint("ScheduleAnyway", **BY_HASH)
                )
            ),
            # Re-applied: the patch gives the first constraint matchLabelKeys again; the second
            # never gets them.
            Apply(
                spread(
                    constraint("DoNotSchedule", **BY_HASH), constraint("ScheduleAnyway", **BY_HASH)
                )
            ),
        ),
    ),
    History(
        "service-ports",
        (
            Apply(service([service_port("http", 80, 8080), service_port("https", 443, 8443)])),
            # https moves to 8443 (a new merge key), http targets a named port; reordered.
            Apply(service([service_port("https", 8443, 8443), HTTP_SVC])),
            # Someone adds a port and a label.
            Edit(
                {
                    "metadata": {"labels": {"owner": "ops"}},
                    "spec": {"ports": [service_port("metrics", 9090)]},
                }
            ),
            # https removed, selector changed (one key dropped, one added).
            Apply(service([HTTP_SVC], selector={"app": "web", "track": "stable"})),
            Apply(service([HTTP_SVC], selector={"track": "stable"})),
            # One port number, two protocols: both elements share the merge key (port 53), and
            # the API server's merge keeps only one of them, for kubectl and Faros alike.
            Apply(
                service(
                    [
                        HTTP_SVC,
                        service_port("dns-tcp", 53, protocol="TCP"),
                        service_port("dns-udp", 53, protocol="UDP"),
                    ],
                    selector={"track": "stable"},
                )
            ),
        ),
    ),
    History(
        "configmap-keys",
        (
            Apply(configmap({"a": "1", "b": "2", "c": "3"}, labels={"app": "web"})),
            # b removed, c changed, d added.
            Apply(configmap({"a": "1", "c": "three", "d": "4"}, labels={"app": "web"})),
            # Someone adds a key and changes one Git owns.
            Edit({"data": {"e": "5", "a": "edited"}}, MERGE),
            # a removed: the foreign e stays; the label map leaves Git (removed whole).
            Apply(configmap({"c": "three", "d": "4"})),
            Apply(configmap({"d": "4"})),
        ),
    ),
    History(
        "role-rules",
        (
            Apply(role([rule(["pods"], ["get", "list"])], labels={"app": "web"})),
            # verbs changed, a rule added.
            Apply(
                role(
                    [rule(["pods"], ["get", "list", "watch"]), DEPLOYMENTS_RULE],
                    labels={"app": "web"},
                )
            ),
            # Someone replaces the rules (an atomic list) and labels the role.
            Edit(
                {"metadata": {"labels": {"owner": "ops"}}, "rules": [rule(["secrets"], ["get"])]},
                MERGE,
            ),
            # A rule removed: the whole list is Git's again; "app" replaced, "owner" stays.
            Apply(role([DEPLOYMENTS_RULE], labels={"team": "a"})),
            # The same rules re-applied after another edit.
            Edit({"rules": [rule(["configmaps"], ["*"])]}, MERGE),
            Apply(role([DEPLOYMENTS_RULE], labels={"team": "a"})),
        ),
    ),
    History(
        "custom-resource-lists",
        (
            Apply(
                widget(
                    {
                        "items": ["a", "b", "c"],
                        "entries": [{"name": "x", "value": 1}, {"name": "y", "value": 2}],
                        "settings": {"mode": "fast", "level": "3"},
                        "size": 1,
                    }
                )
            ),
            # Lists reordered and shortened, a settings key removed.
            Apply(
                widget(
                    {
                        "items": ["c", "a"],
                        "entries": [{"name": "y", "value": 2}],
                        "settings": {"mode": "fast"},
                        "size": 1,
                    }
                )
            ),
            # Someone changes a list and adds a settings key.
            Edit({"spec": {"items": ["z"], "settings": {"extra": "kept"}, "size": 7}}, MERGE),
            # size leaves Git (it was last applied: removed); items are Git's again.
            Apply(
                widget(
                    {
                        "items": ["c", "a"],
                        "entries": [{"name": "y", "value": 3}],
                        "settings": {"mode": "slow"},
                    }
                )
            ),
            # items and entries removed.
            Apply(widget({"settings": {"mode": "slow"}})),
        ),
        custom_resource=True,
    ),
]
