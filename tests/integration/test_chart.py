"""The Helm chart: lint, render, schema, server-side dry-run and a real install (helm/faros)."""

from __future__ import annotations

import base64
import functools
import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from faros import config
from faros.api import names
from faros.testing import binaries
from tests.harness import chart
from tests.harness import cluster as cluster_harness
from tests.harness.chart import Doc, Helm
from tests.harness.wait import eventually

EXTERNAL_URL = "redis://:s3cret@redis.example.com:6379/0"
HOOK_HOST = "faros-hooks.example.com"


def value_sets(namespace: str) -> dict[str, dict[str, Any]]:
    """The value sets every check runs on; ``namespace`` is the one Faros is limited to."""
    return {
        "defaults": {},
        "namespaced": {"faros": {"namespace": namespace}},
        "external-url": {"redis": {"enabled": False, "external": {"url": EXTERNAL_URL}}},
        "external-secret": {"redis": {"enabled": False, "external": {
            "existingSecret": "my-redis", "existingSecretKey": "broker-url"}}},
        "ha": {
            "beat": {"replicas": 2},
            "worker": {"replicas": 3, "autoscaling": {"enabled": True, "maxReplicas": 6},
                       "podDisruptionBudget": {"enabled": True}},
            "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}},
            "flower": {"enabled": True},
            "grafana": {"dashboard": {"enabled": True}},
            "knownHosts": {"content": "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA\n"},
        },
        "receiver": {"receiver": {
            "enabled": True, "replicas": 2, "webhookSecret": "faros-webhooks",
            "ingress": {"enabled": True, "className": "nginx", "hosts": [HOOK_HOST],
                        "tls": [{"secretName": "faros-hooks-tls", "hosts": [HOOK_HOST]}]},
        }},
    }  # fmt: skip


SETS = list(value_sets("team-a"))


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """The pinned Helm (built from Go modules and cached), with a private home."""
    return Helm(binary=binaries.helm(), home=tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="module")
def rendered(helm: Helm) -> dict[str, list[Doc]]:
    """Every value set rendered once (release "faros" in namespace "faros-system")."""
    return {name: helm.template(values) for name, values in value_sets("team-a").items()}


def args_of(docs: list[Doc], component: str) -> list[str]:
    return list(chart.container(chart.deployment(docs, component))["args"])


def settings_of(docs: list[Doc], component: str) -> tuple[config.Command, config.Settings]:
    """What ``faros`` reads from the rendered arguments and environment (its own parser).

    A variable from a Secret the chart does not render (redis.external.existingSecret) gets a
    placeholder, as the user's Secret would give it a value.
    """
    workload = chart.deployment(docs, component)
    rendered = {doc["metadata"]["name"] for doc in chart.find(docs, "Secret")}
    environ: dict[str, str] = {}
    for entry in chart.container(workload)["env"]:
        ref = entry.get("valueFrom", {}).get("secretKeyRef", {})
        known = not ref or ref["name"] in rendered
        environ[entry["name"]] = chart.env_value(docs, entry) if known else "redis://user-secret"
    return config.parse(args_of(docs, component), environ)


# 1. helm lint --strict ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_lint_strict_passes(helm, name):
    output = helm.lint(value_sets("team-a")[name])
    assert "1 chart(s) linted, 0 chart(s) failed" in output
    assert "[WARNING]" not in output
    assert "[ERROR]" not in output


# 2. helm template: what each value set renders ----------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_every_process_parses_its_rendered_command_line(rendered, name):
    docs = rendered[name]
    for component in chart.FAROS_PROCESSES:
        command, _ = settings_of(docs, component)
        assert command == config.Command(component)


@pytest.mark.parametrize("name", SETS)
def test_every_container_is_locked_down(rendered, name):
    workloads = chart.find(rendered[name], "Deployment") + chart.find(rendered[name], "StatefulSet")
    assert workloads
    for workload in workloads:
        pod = chart.pod_spec(workload)["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in chart.pod_spec(workload)["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["runAsNonRoot"] is True
            assert container["resources"]["requests"]
            assert {"/tmp"} <= {m["mountPath"] for m in container["volumeMounts"]}
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] != "redis":
            assert (pod["runAsUser"], pod["runAsGroup"]) == (65532, 65532)


@pytest.mark.parametrize("name", SETS)
def test_broker_url_reaches_every_process_from_a_secret_only(rendered, name):
    docs = rendered[name]
    components = [*chart.FAROS_PROCESSES] + (["flower"] if name == "ha" else [])
    for component in components:
        container = chart.container(chart.deployment(docs, component))
        env = {entry["name"]: entry for entry in container["env"]}
        assert "secretKeyRef" in env["FAROS_BROKER_URL"]["valueFrom"], component
        assert not any("redis://" in arg or "--broker-url" in arg for arg in container["args"])


def test_defaults_render_cluster_rbac_and_the_bundled_redis(rendered):
    docs = rendered["defaults"]
    role = chart.one(docs, "ClusterRole")
    assert not chart.find(docs, "Role")
    rules = {
        (group, resource): rule["verbs"]
        for rule in role["rules"]
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
    }
    for kind in ("gittracks", "gittrackobjects", "clustergittracks", "clustergittrackobjects"):
        assert "watch" in rules[("faros.pusher.com", kind)]
        assert "patch" in rules[("faros.pusher.com", f"{kind}/status")]
    assert {"create", "patch"} <= set(rules[("", "events")])
    assert "get" in rules[("", "secrets")]
    assert rules[("", "serviceaccounts")] == ["impersonate"]  # tenants' service accounts
    assert rules[("*", "*")] == ["*"]  # rbac.applyRules' default: everything it applies
    binding = chart.one(docs, "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == "faros-system"

    redis = chart.one(docs, "StatefulSet")
    claim = redis["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    conf = chart.config_data(chart.one(docs, "ConfigMap", "faros-redis"))["redis.conf"]
    for line in ("appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"):
        assert line in conf.splitlines()
    assert chart.one(docs, "Service", "faros-redis")["spec"]["ports"][0]["port"] == 6379
    broker = chart.config_data(chart.one(docs, "Secret", "faros-broker"))
    assert (
        broker["url"] == f"redis://:{broker['redis-password']}@faros-redis.faros-system.svc:6379/0"
    )
    assert len(broker["redis-password"]) == 32

    _, settings = settings_of(docs, "worker")
    assert settings.clustergittrack_mode == names.ClusterGitTrackMode.INCLUDE_NAMESPACED
    assert settings.namespace == ""
    assert not chart.find(docs, "HorizontalPodAutoscaler")
    assert not chart.find(docs, "PodDisruptionBudget")
    assert not chart.find(docs, "ServiceMonitor")
    assert not any(doc["metadata"]["name"].endswith("flower") for doc in docs)


def test_defaults_probe_healthz_on_the_metrics_port_and_mount_writable_dirs(rendered):
    docs = rendered["defaults"]
    for component in chart.FAROS_PROCESSES:
        workload = chart.deployment(docs, component)
        container = chart.container(workload)
        assert container["image"] == "ghcr.io/pusher/faros:0.1.0.dev0"  # tag = appVersion
        assert container["args"][0] == component
        assert "command" not in container  # the image's entrypoint: faros
        assert container["ports"] == [{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}]
        assert "--metrics-bind-address=:8080" in container["args"]
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        volumes = {v["name"]: v for v in chart.pod_spec(workload)["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        _, settings = settings_of(docs, component)
        assert settings.repository_dir is not None
        assert "emptyDir" in mounts[str(settings.repository_dir)]
        assert "emptyDir" in mounts["/tmp"]
        service = chart.one(docs, "Service", f"faros-{component}-metrics")
        selector = service["spec"]["selector"]
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    worker = chart.deployment(docs, "worker")
    env = chart.environment(docs, worker)
    multiproc = env["PROMETHEUS_MULTIPROC_DIR"]
    mount_paths = {m["mountPath"] for m in chart.container(worker)["volumeMounts"]}
    assert any(multiproc.startswith(f"{mount}/") for mount in mount_paths), multiproc
    assert "--pool=threads" in args_of(docs, "worker")
    assert "--concurrency=8" in args_of(docs, "worker")
    assert "--queues=sync,apply" in args_of(docs, "worker")
    assert chart.deployment(docs, "worker")["spec"]["replicas"] == 1


def test_namespaced_renders_a_role_in_that_namespace_and_disables_clustergittracks(rendered):
    docs = rendered["namespaced"]
    assert not chart.find(docs, "ClusterRole")
    assert not chart.find(docs, "ClusterRoleBinding")
    role = chart.one(docs, "Role")
    binding = chart.one(docs, "RoleBinding")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "team-a"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}  # fmt: skip
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "faros",
                                    "namespace": "faros-system"}]  # fmt: skip
    resources = {r for rule in role["rules"] for r in rule.get("resources", [])}
    assert {"gittracks", "gittrackobjects", "gittracks/status", "secrets"} <= resources
    assert not {"clustergittracks", "clustergittrackobjects"} & resources
    for component in chart.FAROS_PROCESSES:
        _, settings = settings_of(docs, component)  # faros's own _check accepts them
        assert settings.namespace == "team-a"
        assert settings.clustergittrack_mode == names.ClusterGitTrackMode.DISABLED


def test_external_redis_url_renders_its_secret_and_no_redis(rendered):
    docs = rendered["external-url"]
    assert not chart.find(docs, "StatefulSet")
    assert not any("redis" in doc["metadata"]["name"] for doc in docs)
    secret = chart.one(docs, "Secret", "faros-broker")
    assert chart.config_data(secret) == {"url": EXTERNAL_URL}
    for component in chart.FAROS_PROCESSES:
        env = chart.environment(docs, chart.deployment(docs, component))
        assert env["FAROS_BROKER_URL"] == EXTERNAL_URL


def test_external_redis_secret_is_referenced_not_rendered(rendered):
    docs = rendered["external-secret"]
    assert not chart.find(docs, "StatefulSet")
    assert not chart.find(docs, "Secret")
    for component in chart.FAROS_PROCESSES:
        container = chart.container(chart.deployment(docs, component))
        broker = next(e for e in container["env"] if e["name"] == "FAROS_BROKER_URL")
        assert broker["valueFrom"]["secretKeyRef"] == {"name": "my-redis", "key": "broker-url"}


def test_ha_renders_autoscaling_budget_monitoring_flower_and_dashboard(rendered):
    docs = rendered["ha"]
    assert chart.deployment(docs, "beat")["spec"]["replicas"] == 2
    assert "replicas" not in chart.deployment(docs, "worker")["spec"]  # the HPA owns it
    hpa = chart.one(docs, "HorizontalPodAutoscaler")
    assert (
        hpa["spec"]["scaleTargetRef"]["name"]
        == chart.deployment(docs, "worker")["metadata"]["name"]
    )
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 6)
    pdb = chart.one(docs, "PodDisruptionBudget")
    worker_labels = chart.deployment(docs, "worker")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= worker_labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1

    monitor = chart.one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    selected = [s for s in chart.find(docs, "Service") if wanted <= s["metadata"]["labels"].items()]
    assert sorted(s["metadata"]["name"] for s in selected) == [
        "faros-beat-metrics", "faros-watch-metrics", "faros-worker-metrics"]  # fmt: skip
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"

    flower = chart.container(chart.deployment(docs, "flower"))
    assert flower["command"] == ["celery"]
    assert flower["args"][:3] == ["--app=faros.tasks.app", "flower", "--port=5555"]
    assert flower["livenessProbe"]["httpGet"] == {"path": "/healthcheck", "port": "http"}
    auth = chart.environment(docs, chart.deployment(docs, "flower"))["FLOWER_BASIC_AUTH"]
    user, _, password = auth.partition(":")
    assert user == "admin"
    assert len(password) >= 20
    service = chart.one(docs, "Service", "faros-flower")
    assert service["spec"]["ports"][0]["port"] == 5555

    dashboard = chart.one(docs, "ConfigMap", "faros-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["faros.json"])  # the chart's dashboards/faros.json

    hosts = chart.one(docs, "ConfigMap", "faros-known-hosts")
    _, settings = settings_of(docs, "worker")
    (path,) = settings.known_hosts
    container = chart.container(chart.deployment(docs, "worker"))
    mount = next(m for m in container["volumeMounts"] if m["name"] == "known-hosts")
    assert path.parent == Path(mount["mountPath"])
    assert path.name in hosts["data"]


def test_receiver_is_off_by_default(rendered):
    docs = rendered["defaults"]
    assert not [doc for doc in docs if "receiver" in doc["metadata"]["name"]]


def test_receiver_renders_its_deployment_service_ingress_and_metrics_service(rendered):
    docs = rendered["receiver"]
    workload = chart.deployment(docs, "receiver")
    assert workload["spec"]["replicas"] == 2
    command, settings = settings_of(docs, "receiver")
    assert command is config.Command.RECEIVER
    assert settings.webhook_bind_address == ":9292"
    assert settings.webhook_secret == "faros-system/faros-webhooks"  # NAME: release namespace
    assert settings.webhook_max_body_size == 1024 * 1024
    assert settings.webhook_rate_limit == 10
    assert settings.webhook_replay_window == timedelta(minutes=10)
    container = chart.container(workload)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"metrics": 8080, "webhook": 9292}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    env = {entry["name"]: entry for entry in container["env"]}
    assert "secretKeyRef" in env["FAROS_BROKER_URL"]["valueFrom"]  # it queues through Redis
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]

    service = chart.one(docs, "Service", "faros-receiver")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": "webhook", "port": 9292, "targetPort": "webhook", "protocol": "TCP"}]  # fmt: skip
    metrics_service = chart.one(docs, "Service", "faros-receiver-metrics")
    assert metrics_service["metadata"]["labels"]["faros.pusher.com/metrics"] == "true"

    ingress = chart.one(docs, "Ingress", "faros-receiver")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "faros-hooks-tls", "hosts": [HOOK_HOST]}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == HOOK_HOST
    (path,) = rule["http"]["paths"]  # only the hooks are exposed, not /healthz
    assert (path["path"], path["pathType"]) == ("/hook/", "Prefix")
    assert path["backend"]["service"] == {"name": "faros-receiver", "port": {"name": "webhook"}}


def test_receiver_runs_as_its_own_account_that_may_only_read_and_annotate_gittracks(rendered):
    docs = rendered["receiver"]
    workload = chart.deployment(docs, "receiver")
    assert chart.pod_spec(workload)["serviceAccountName"] == "faros-receiver"
    assert chart.one(docs, "ServiceAccount", "faros-receiver")
    role = chart.one(docs, "ClusterRole", "faros-receiver")
    rules = {
        (group, resource): sorted(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert rules == {
        ("faros.pusher.com", "gittracks"): ["get", "list", "patch", "watch"],
        ("faros.pusher.com", "clustergittracks"): ["get", "list", "patch", "watch"],
        ("", "secrets"): ["get"],
    }
    binding = chart.one(docs, "ClusterRoleBinding", "faros-receiver")
    assert binding["roleRef"]["name"] == "faros-receiver"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "faros-receiver",
                                    "namespace": "faros-system"}]  # fmt: skip
    # The other processes keep the chart's account.
    assert chart.pod_spec(chart.deployment(docs, "worker"))["serviceAccountName"] == "faros"


def test_namespaced_receiver_reads_gittracks_there_and_only_its_shared_secret_elsewhere(helm):
    docs = helm.template(
        {
            "faros": {"namespace": "team-a"},
            "receiver": {"enabled": True, "webhookSecret": "faros-webhooks"},
        }
    )
    _, settings = settings_of(docs, "receiver")
    assert settings.namespace == "team-a"
    assert settings.clustergittrack_mode is names.ClusterGitTrackMode.DISABLED
    assert not chart.find(docs, "ClusterRole", "faros-receiver")
    role = chart.one(docs, "Role", "faros-receiver")
    assert role["metadata"]["namespace"] == "team-a"
    assert {r for rule in role["rules"] for r in rule["resources"]} == {"gittracks", "secrets"}
    shared = chart.one(docs, "Role", "faros-receiver-secret")
    assert shared["metadata"]["namespace"] == "faros-system"
    assert shared["rules"] == [{"apiGroups": [""], "resources": ["secrets"],
                                "resourceNames": ["faros-webhooks"], "verbs": ["get"]}]  # fmt: skip
    binding = chart.one(docs, "RoleBinding", "faros-receiver-secret")
    assert binding["subjects"][0]["name"] == "faros-receiver"


# Every flag of `faros`, set in values to something other than its default: (values, expected).
FLAG_VALUES: dict[str, tuple[dict[str, Any], object]] = {
    "namespace": ({"faros": {"namespace": "team-b"}}, "team-b"),
    "ignore_resources": ({"faros": {"ignoreResources": ["jobs.batch/v1", "configmaps./v1"]}},
                         (config.ResourceRef("jobs", "batch", "v1"),
                          config.ResourceRef("configmaps", "", "v1"))),
    "server_dry_run": ({"faros": {"serverDryRun": False}}, False),
    "fetch_timeout": ({"faros": {"fetchTimeout": "45s"}}, timedelta(seconds=45)),
    "repository_dir": ({"faros": {"repositoryDir": "/cache/repos"}}, Path("/cache/repos")),
    "gittrack_mode": ({"faros": {"gittrackMode": "Disabled"}}, names.GitTrackMode.DISABLED),
    "clustergittrack_mode": ({"faros": {"clustergittrackMode": "ExcludeNamespaced"}},
                             names.ClusterGitTrackMode.EXCLUDE_NAMESPACED),
    "metrics_bind_address": ({"metrics": {"port": 9191}}, ":9191"),
    "sync_period": ({"faros": {"syncPeriod": "90s"}}, timedelta(seconds=90)),
    "kubeconfig": ({"faros": {"kubeconfig": "/etc/kube/config"}}, "/etc/kube/config"),
    "broker_url": ({"redis": {"enabled": False, "external": {"url": EXTERNAL_URL}}}, EXTERNAL_URL),
    "log_format": ({"faros": {"logFormat": "text"}}, config.LogFormat.TEXT),
    "log_level": ({"faros": {"logLevel": "debug"}}, config.LogLevel.DEBUG),
    "allow_file_urls": ({"faros": {"allowFileUrls": True}}, True),
    "allow_http_credentials": ({"faros": {"allowHttpCredentials": True}}, True),
    "default_service_account": ({"faros": {"defaultServiceAccount": "faros-tenant"}},
                                "faros-tenant"),
    "known_hosts": ({"knownHosts": {"existingSecret": "hosts", "key": "kh"}},
                    (Path("/etc/faros/ssh/kh"),)),
    "max_file_size": ({"faros": {"maxFileSize": "2Mi"}}, 2 * 1024 * 1024),
    "apply_strategy": ({"faros": {"applyStrategy": "server-side"}},
                       config.ApplyStrategy.SERVER_SIDE),
    "events": ({"faros": {"events": "summary"}}, config.EventsMode.SUMMARY),
    "kube_api_qps": ({"faros": {"kubeApiQps": 80}}, 80.0),
    "kube_api_burst": ({"faros": {"kubeApiBurst": 160}}, 160),
    "queues": ({"worker": {"queues": ["apply"]}}, ("apply",)),
    "concurrency": ({"worker": {"concurrency": 7}}, 7),
    "pool": ({"worker": {"pool": "prefork"}}, config.Pool.PREFORK),
    "events_namespace": ({"faros": {"eventsNamespace": "faros-events"}}, "faros-events"),
    "max_deletions": ({"faros": {"maxDeletions": "10%"}}, "10%"),
    "max_pause": ({"faros": {"maxPause": "2h"}}, timedelta(hours=2)),
    "webhook_bind_address": ({"receiver": {"enabled": True, "port": 9393}}, ":9393"),
    "webhook_secret": ({"receiver": {"webhookSecret": "hooks"}}, "faros-system/hooks"),
    "webhook_max_body_size": ({"receiver": {"maxBodySize": "2Mi"}}, 2 * 1024 * 1024),
    "webhook_rate_limit": ({"receiver": {"rateLimit": 3}}, 3),
    "webhook_replay_window": ({"receiver": {"replayWindow": "20m"}}, timedelta(minutes=20)),
}  # fmt: skip


def test_every_faros_flag_is_reachable_from_values(helm, rendered):
    assert set(FLAG_VALUES) == set(config.fields()), "a flag of faros has no chart value"
    values: dict[str, Any] = {}
    for fragment, _ in FLAG_VALUES.values():
        _merge(values, fragment)
    values["faros"]["namespace"] = ""  # it needs GitTracks Enabled, ClusterGitTracks Disabled:
    # checked alone below
    docs = helm.template(values)
    for component in ("worker", "watch", "beat", "receiver"):
        workload = chart.deployment(docs, component)
        args = args_of(docs, component)
        env = chart.environment(docs, workload)
        _, settings = config.parse(args, env)
        _, defaults = settings_of(rendered["receiver" if component == "receiver" else "defaults"],
                                  component)  # fmt: skip
        for setting, (option, _) in config.fields().items():
            if setting == "namespace" or config.Command(component) not in option.commands:
                continue
            given = any(arg.startswith(f"{option.flag}=") for arg in args) or option.env in env
            assert given, f"{option.flag} is not set on faros {component}"
            expected = FLAG_VALUES[setting][1]
            assert getattr(settings, setting) == expected, (component, option.flag)
            assert getattr(defaults, setting) != expected, f"{setting}: pick a non-default value"
    namespaced = helm.template({"faros": {"namespace": "team-b"}})
    _, settings = settings_of(namespaced, "watch")
    assert settings.namespace == "team-b"
    assert "--namespace=team-b" in args_of(namespaced, "watch")


def _merge(into: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict):
            _merge(into.setdefault(key, {}), value)
        else:
            into[key] = value


def test_extra_args_and_env_are_global_and_per_component(helm):
    docs = helm.template({
        "extraArgs": ["--leader-election=false"],
        "extraEnv": [{"name": "FAROS_LOCK_TTL", "value": "400"}],
        "worker": {"extraArgs": ["--log-level=debug"],
                   "extraEnv": [{"name": "FAROS_TASK_TIME_LIMIT", "value": "360"}]},
    })  # fmt: skip
    worker, beat = (chart.deployment(docs, c) for c in ("worker", "beat"))
    assert chart.container(worker)["args"][-2:] == ["--leader-election=false", "--log-level=debug"]
    assert chart.container(beat)["args"][-1] == "--leader-election=false"
    assert chart.environment(docs, worker)["FAROS_TASK_TIME_LIMIT"] == "360"
    assert "FAROS_TASK_TIME_LIMIT" not in chart.environment(docs, beat)
    assert chart.environment(docs, beat)["FAROS_LOCK_TTL"] == "400"
    _, settings = settings_of(docs, "worker")  # the last --log-level wins, and faros accepts all
    assert settings.log_level is config.LogLevel.DEBUG
    assert settings.warnings  # --leader-election: accepted and ignored, with a warning


# 3. The schema and the chart's own checks refuse bad values ---------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"worker": {"concurrency": 0}}, "at '/worker/concurrency': minimum: got 0, want 1"),
        ({"worker": {"concurrency": 65}}, "at '/worker/concurrency': maximum: got 65, want 64"),
        ({"worker": {"pool": "gevent"}}, "at '/worker/pool'"),
        ({"bogus": 1}, "additional properties 'bogus' not allowed"),
        ({"worker": {"replica": 2}}, "at '/worker': additional properties 'replica' not allowed"),
        ({"faros": {"gittrackMode": "On"}}, "at '/faros/gittrackMode': value must be one of"),
        ({"faros": {"clustergittrackMode": "All"}}, "at '/faros/clustergittrackMode'"),
        ({"beat": {"replicas": 3}}, "at '/beat/replicas': maximum: got 3, want 2"),
        ({"faros": {"syncPeriod": "5 minutes"}}, "at '/faros/syncPeriod'"),
        ({"faros": {"namespace": "Team_A"}}, "at '/faros/namespace'"),
        ({"worker": {"queues": ["default"]}}, "at '/worker/queues/0'"),
        ({"redis": {"enabled": False, "external": {"url": "http://redis"}}},
         "at '/redis/external/url'"),
        ({"faros": {"namespace": "team-a", "clustergittrackMode": "IncludeNamespaced"}},
         'Cannot run with namespace "team-a" and clustergittrack-mode enabled'),
        ({"faros": {"gittrackMode": "Disabled", "clustergittrackMode": "Disabled"}},
         "Faros would have nothing to do"),
        ({"redis": {"external": {"url": "redis://r:6379/0"}}}, "set redis.enabled=false"),
        ({"redis": {"enabled": False}}, "give redis.external.url or redis.external.existingSecret"),
        ({"knownHosts": {"content": "a", "existingSecret": "b"}}, "give one of knownHosts"),
        ({"worker": {"podDisruptionBudget": {"enabled": True, "minAvailable": 1}}},
         "give minAvailable or maxUnavailable, not both"),
        ({"receiver": {"replicas": 0}}, "at '/receiver/replicas': minimum: got 0, want 1"),
        ({"receiver": {"rateLimit": -1}}, "at '/receiver/rateLimit': minimum: got -1, want 0"),
        ({"receiver": {"webhookSecret": "Faros/hooks"}}, "at '/receiver/webhookSecret'"),
        ({"receiver": {"replayWindow": "10 minutes"}}, "at '/receiver/replayWindow'"),
        ({"receiver": {"ingress": {"host": "x"}}},
         "at '/receiver/ingress': additional properties 'host' not allowed"),
        ({"rbac": {"lockDown": True}}, "rbac.lockDown needs faros.defaultServiceAccount"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_a_clear_message(helm, values, message):
    with pytest.raises(chart.RenderError) as refused:
        helm.template(values)
    assert message in refused.value.message


# 4. Server-side dry-run against the real API server ----------------------------------------

# The test control plane does not serve monitoring.coreos.com (no Prometheus Operator): a
# minimal ServiceMonitor CRD is installed for the HA set's dry-run and removed afterwards.
SERVICEMONITOR_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
    "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
             "names": {"kind": "ServiceMonitor", "plural": "servicemonitors",
                       "singular": "servicemonitor", "listKind": "ServiceMonitorList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": True}}}]},
}  # fmt: skip


@pytest.fixture(scope="module")
def servicemonitor_crd(cluster: cluster_harness.Cluster) -> Iterator[None]:
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(SERVICEMONITOR_CRD))
    crd = "crd/servicemonitors.monitoring.coreos.com"
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=30s", crd)
    yield
    cluster.kubectl("delete", crd, "--wait=false")


@pytest.mark.parametrize("name", SETS)
def test_rendered_objects_pass_server_side_dry_run(
    helm, cluster, namespace, servicemonitor_crd, name
):
    release = f"r{secrets.token_hex(3)}"
    docs = helm.template(value_sets(namespace)[name], release=release, namespace=namespace)
    stream = yaml.safe_dump_all(docs)
    output = cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=stream)
    for doc in docs:
        kind = ".".join(filter(None, (doc["kind"].lower(), _group(doc))))
        assert f"{kind}/{doc['metadata']['name']} created (server dry run)" in output


def _group(doc: Doc) -> str:
    api_version: str = doc["apiVersion"]
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _path(doc: Doc, namespace: str) -> str:
    group = _group(doc)
    plural = doc["kind"].lower() + "s"
    prefix = f"/apis/{doc['apiVersion']}" if group else "/api/v1"
    if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
        return f"{prefix}/{plural}/{doc['metadata']['name']}"
    where = doc["metadata"].get("namespace", namespace)
    return f"{prefix}/namespaces/{where}/{plural}/{doc['metadata']['name']}"


# 5. A real install, upgrade and uninstall ---------------------------------------------------


# What the installed ServiceAccount may do cluster-wide (the default set's ClusterRole).
CLUSTER_PERMISSIONS = [
    ("watch", "gittracks.faros.pusher.com"),
    ("patch", "gittracks.faros.pusher.com/status"),
    ("delete", "gittrackobjects.faros.pusher.com"),
    ("update", "clustergittrackobjects.faros.pusher.com/status"),
    ("create", "events"),
    ("get", "secrets"),
    ("patch", "deployments.apps"),  # rbac.applyRules' default: whatever Git holds
]


def test_install_upgrade_uninstall_keeps_generated_passwords(helm, cluster, kube, namespace):
    release = f"faros-{secrets.token_hex(3)}"
    values = helm.values_file({"flower": {"enabled": True}})
    common = [f"--namespace={namespace}", f"--values={values}", "--skip-crds"]
    helm.run("install", release, str(chart.CHART), *common, kubeconfig=cluster.kubeconfig)
    try:
        docs = helm.template({"flower": {"enabled": True}}, release=release, namespace=namespace)
        for doc in docs:
            assert cluster_harness.exists(kube, _path(doc, namespace)), _path(doc, namespace)
        account = f"--as=system:serviceaccount:{namespace}:{release}"  # fullname = release
        for verb, resource in CLUSTER_PERMISSIONS:
            answer = cluster.kubectl("auth", "can-i", verb, resource, "--all-namespaces", account,
                                     check=False)  # fmt: skip
            assert answer.strip() == "yes", (verb, resource, answer)
        stranger = f"--as=system:serviceaccount:{namespace}:nobody"  # the check can say no
        assert (
            cluster.kubectl("auth", "can-i", "get", "secrets", stranger, check=False).strip()
            == "no"
        )
        broker = _secret(kube, namespace, f"{release}-broker")
        flower = _secret(kube, namespace, f"{release}-flower-auth")
        assert broker["url"].startswith(f"redis://:{broker['redis-password']}@{release}-redis.")

        helm.run("upgrade", release, str(chart.CHART), *common, kubeconfig=cluster.kubeconfig)
        assert _secret(kube, namespace, f"{release}-broker") == broker  # looked up, not new
        assert _secret(kube, namespace, f"{release}-flower-auth") == flower
        status = helm.run("status", release, f"--namespace={namespace}",
                          kubeconfig=cluster.kubeconfig).stdout  # fmt: skip
        assert "REVISION: 2" in status
        assert "kind: GitTrack" in status
    finally:
        helm.run("uninstall", release, f"--namespace={namespace}", kubeconfig=cluster.kubeconfig)
    for doc in docs:
        path = _path(doc, namespace)
        eventually(functools.partial(_gone, kube, path), timeout=30)


# What the receiver's ServiceAccount may do, and may not: it is reachable from outside.
RECEIVER_PERMISSIONS = [
    ("watch", "gittracks.faros.pusher.com", "yes"),
    ("patch", "clustergittracks.faros.pusher.com", "yes"),
    ("get", "secrets", "yes"),
    ("list", "secrets", "no"),
    ("update", "gittracks.faros.pusher.com/status", "no"),
    ("delete", "gittrackobjects.faros.pusher.com", "no"),
    ("patch", "deployments.apps", "no"),
    ("create", "configmaps", "no"),
]


def test_installed_receiver_account_may_do_only_what_it_needs(helm, cluster, kube, namespace):
    release = f"faros-{secrets.token_hex(3)}"
    values = helm.values_file({"receiver": {"enabled": True, "webhookSecret": "hooks"}})
    common = [f"--namespace={namespace}", f"--values={values}", "--skip-crds"]
    helm.run("install", release, str(chart.CHART), *common, kubeconfig=cluster.kubeconfig)
    try:
        account = f"--as=system:serviceaccount:{namespace}:{release}-receiver"
        for verb, resource, expected in RECEIVER_PERMISSIONS:
            answer = cluster.kubectl("auth", "can-i", verb, resource, "--all-namespaces", account,
                                     check=False)  # fmt: skip
            assert answer.strip() == expected, (verb, resource, answer)
    finally:
        helm.run("uninstall", release, f"--namespace={namespace}", kubeconfig=cluster.kubeconfig)


# What the lock-down set's ServiceAccount may do: read what it applies, write its own kinds,
# impersonate tenants' service accounts; write nothing it applies.
LOCKDOWN_PERMISSIONS = [
    ("watch", "deployments.apps", "yes"),
    ("list", "configmaps", "yes"),
    ("patch", "gittrackobjects.faros.pusher.com", "yes"),
    ("create", "events", "yes"),
    ("impersonate", "serviceaccounts", "yes"),
    ("patch", "deployments.apps", "no"),
    ("create", "configmaps", "no"),
    ("create", "rolebindings.rbac.authorization.k8s.io", "no"),
    ("delete", "secrets", "no"),
]


def test_lockdown_set_grants_impersonation_instead_of_writes(helm, cluster, namespace):
    release = f"faros-{secrets.token_hex(3)}"
    values = helm.values_file({"rbac": {"lockDown": True},
                               "faros": {"defaultServiceAccount": "deployer"}})  # fmt: skip
    common = [f"--namespace={namespace}", f"--values={values}", "--skip-crds"]
    helm.run("install", release, str(chart.CHART), *common, kubeconfig=cluster.kubeconfig)
    try:
        account = f"--as=system:serviceaccount:{namespace}:{release}"
        for verb, resource, expected in LOCKDOWN_PERMISSIONS:
            answer = cluster.kubectl("auth", "can-i", verb, resource, "--all-namespaces", account,
                                     check=False)  # fmt: skip
            assert answer.strip() == expected, (verb, resource, answer)
    finally:
        helm.run("uninstall", release, f"--namespace={namespace}", kubeconfig=cluster.kubeconfig)


def _gone(kube, path: str) -> None:
    assert not cluster_harness.exists(kube, path), path


def _secret(kube, namespace: str, name: str) -> dict[str, str]:
    data = kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}
