"""Settings from flags and environment: defaults, values, precedence and invalid combinations."""

from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from faros import config
from faros.api import names
from faros.config import Command, ConfigError, ResourceRef, Settings


def parse(*args: str, env: dict[str, str] | None = None) -> Settings:
    command, settings = config.parse(["worker", *args], env or {})
    assert command is Command.WORKER
    return settings


def error(*args: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        config.parse(["worker", *args], env or {})
    return caught.value


def test_defaults_are_the_originals_except_gittrack_mode():
    settings = parse()
    assert settings == Settings()
    assert settings.namespace == ""
    assert settings.ignore_resources == ()
    assert settings.server_dry_run is True
    assert settings.fetch_timeout == timedelta(seconds=30)
    assert settings.repository_dir is None
    assert settings.gittrack_mode is names.GitTrackMode.ENABLED
    assert settings.clustergittrack_mode is names.ClusterGitTrackMode.INCLUDE_NAMESPACED
    assert settings.metrics_bind_address == ":8080"
    assert settings.sync_period == timedelta(minutes=5)
    assert settings.kubeconfig == ""
    assert settings.broker_url == "redis://localhost:6379/0"
    assert settings.warnings == ()


@pytest.mark.parametrize("name", list(config.fields()), ids=str)
def test_default_shown_in_help_reads_back_as_the_default(name):
    option, default = config.fields()[name]
    shown = config.show(default)
    if not option.default_help:
        assert option.convert("" if shown in ('""', "none") else shown) == default


def test_every_flag_has_its_environment_variable():
    envs = {option.flag: option.env for option in config.options(Command.RUN)}
    assert envs == {
        "--namespace": "FAROS_NAMESPACE",
        "--ignore-resource": "FAROS_IGNORE_RESOURCE",
        "--server-dry-run": "FAROS_SERVER_DRY_RUN",
        "--fetch-timeout": "FAROS_FETCH_TIMEOUT",
        "--repository-dir": "FAROS_REPOSITORY_DIR",
        "--gittrack-mode": "FAROS_GITTRACK_MODE",
        "--clustergittrack-mode": "FAROS_CLUSTERGITTRACK_MODE",
        "--metrics-bind-address": "FAROS_METRICS_BIND_ADDRESS",
        "--sync-period": "FAROS_SYNC_PERIOD",
        "--kubeconfig": "FAROS_KUBECONFIG",
        "--broker-url": "FAROS_BROKER_URL",
        "--log-format": "FAROS_LOG_FORMAT",
        "--log-level": "FAROS_LOG_LEVEL",
        "--allow-file-urls": "FAROS_ALLOW_FILE_URLS",
        "--allow-http-credentials": "FAROS_ALLOW_HTTP_CREDENTIALS",
        "--default-service-account": "FAROS_DEFAULT_SERVICE_ACCOUNT",
        "--known-hosts": "FAROS_KNOWN_HOSTS",
        "--max-file-size": "FAROS_MAX_FILE_SIZE",
        "--apply-strategy": "FAROS_APPLY_STRATEGY",
        "--kube-api-qps": "FAROS_KUBE_API_QPS",
        "--kube-api-burst": "FAROS_KUBE_API_BURST",
        "--max-deletions": "FAROS_MAX_DELETIONS",
        "--max-pause": "FAROS_MAX_PAUSE",
        "--events": "FAROS_EVENTS",
        "--events-namespace": "FAROS_EVENTS_NAMESPACE",
        "--webhook-bind-address": "FAROS_WEBHOOK_BIND_ADDRESS",
        "--webhook-secret": "FAROS_WEBHOOK_SECRET",
        "--webhook-max-body-size": "FAROS_WEBHOOK_MAX_BODY_SIZE",
        "--webhook-rate-limit": "FAROS_WEBHOOK_RATE_LIMIT",
        "--webhook-replay-window": "FAROS_WEBHOOK_REPLAY_WINDOW",
        "--leader-election": "FAROS_LEADER_ELECTION",
        "--leader-election-id": "FAROS_LEADER_ELECTION_ID",
        "--leader-election-namespace": "FAROS_LEADER_ELECTION_NAMESPACE",
    }


GOOD = [
    ("ns", ["--namespace=team-a", "--clustergittrack-mode=Disabled"], "namespace", "team-a"),
    ("dry-run-false", ["--server-dry-run=false"], "server_dry_run", False),
    ("dry-run-alone", ["--server-dry-run"], "server_dry_run", True),
    ("dry-run-next-arg", ["--server-dry-run", "0"], "server_dry_run", False),
    ("fetch-ms", ["--fetch-timeout=300ms"], "fetch_timeout", timedelta(milliseconds=300)),
    ("fetch-1h", ["--fetch-timeout", "1h"], "fetch_timeout", timedelta(hours=1)),
    ("repo-dir", ["--repository-dir=/var/faros"], "repository_dir", Path("/var/faros")),
    ("repo-dir-empty", ["--repository-dir="], "repository_dir", None),
    ("gt-lower", ["--gittrack-mode=enabled"], "gittrack_mode", names.GitTrackMode.ENABLED),
    ("cgt-upper", ["--clustergittrack-mode=EXCLUDENAMESPACED"], "clustergittrack_mode",
     names.ClusterGitTrackMode.EXCLUDE_NAMESPACED),
    ("metrics-off", ["--metrics-bind-address=0"], "metrics_bind_address", "0"),
    ("metrics-host", ["--metrics-bind-address=127.0.0.1:9090"], "metrics_bind_address",
     "127.0.0.1:9090"),
    ("metrics-v6", ["--metrics-bind-address=[::1]:0"], "metrics_bind_address", "[::1]:0"),
    ("metrics-max", ["--metrics-bind-address=:65535"], "metrics_bind_address", ":65535"),
    ("sync-mixed", ["--sync-period=1h30m"], "sync_period", timedelta(minutes=90)),
    ("sync-frac", ["--sync-period=1.5h"], "sync_period", timedelta(minutes=90)),
    ("sync-max", ["--sync-period=24h"], "sync_period", timedelta(hours=24)),
    ("kubeconfig", ["--kubeconfig=/k/config"], "kubeconfig", "/k/config"),
    ("rediss", ["--broker-url=rediss://:pw@redis:6380/1"], "broker_url",
     "rediss://:pw@redis:6380/1"),
    ("sentinel", ["--broker-url=sentinel://a:26379;sentinel://b:26379"], "broker_url",
     "sentinel://a:26379;sentinel://b:26379"),
    ("memory", ["--broker-url=memory://"], "broker_url", "memory://"),
    ("log-json", ["--log-format=JSON"], "log_format", config.LogFormat.JSON),
    ("log-debug", ["--log-level=debug"], "log_level", config.LogLevel.DEBUG),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "field", "expected"), [g[1:] for g in GOOD], ids=[g[0] for g in GOOD]
)
def test_good_value_is_read(args, field, expected):
    assert getattr(parse(*args), field) == expected


BAD = [
    ("ns-upper", "--namespace=Team", "--namespace", "'Team'"),
    ("ns-long", "--namespace=" + "a" * 64, "--namespace", "a" * 64),
    ("ns-dash", "--namespace=-a", "--namespace", "'-a'"),
    ("res-no-dot", "--ignore-resource=jobs/v1", "--ignore-resource", "'jobs/v1'"),
    ("res-no-slash", "--ignore-resource=jobs.batch", "--ignore-resource", "'jobs.batch'"),
    ("res-no-version", "--ignore-resource=jobs.batch/", "--ignore-resource", "'jobs.batch/'"),
    ("res-empty-item", "--ignore-resource=jobs.batch/v1,,", "--ignore-resource", "''"),
    ("bool", "--server-dry-run=yes", "--server-dry-run", "'yes'"),
    ("bool-empty", "--server-dry-run=", "--server-dry-run", "''"),
    ("fetch-word", "--fetch-timeout=abc", "--fetch-timeout", "'abc'"),
    ("fetch-zero", "--fetch-timeout=0", "--fetch-timeout", "'0'"),
    ("fetch-negative", "--fetch-timeout=-30s", "--fetch-timeout", "'-30s'"),
    ("fetch-too-long", "--fetch-timeout=61m", "--fetch-timeout", "'61m'"),
    ("sync-too-short", "--sync-period=500ms", "--sync-period", "'500ms'"),
    ("sync-too-long", "--sync-period=25h", "--sync-period", "'25h'"),
    ("gt-mode", "--gittrack-mode=IncludeNamespaced", "--gittrack-mode", "'IncludeNamespaced'"),
    ("cgt-mode", "--clustergittrack-mode=Enabled", "--clustergittrack-mode", "'Enabled'"),
    ("metrics-no-port", "--metrics-bind-address=localhost", "--metrics-bind-address",
     "'localhost'"),
    ("metrics-port", "--metrics-bind-address=:65536", "--metrics-bind-address", "':65536'"),
    ("metrics-named-port", "--metrics-bind-address=:http", "--metrics-bind-address", "':http'"),
    ("broker-http", "--broker-url=http://broker", "--broker-url", "'http://broker'"),
    ("broker-bare", "--broker-url=localhost:6379", "--broker-url", "'localhost:6379'"),
    ("log-format", "--log-format=xml", "--log-format", "'xml'"),
    ("log-level", "--log-level=trace", "--log-level", "'trace'"),
    ("leader-bool", "--leader-election=maybe", "--leader-election", "'maybe'"),
]  # fmt: skip


@pytest.mark.parametrize(("arg", "flag", "shown"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_value_error_names_flag_and_value_on_one_line(arg, flag, shown):
    caught = error(arg)
    assert caught.flag == flag
    assert str(caught).startswith(f"{flag}: ")
    assert shown in str(caught)
    assert "\n" not in str(caught)


def test_duration_error_reads_as_documented():
    assert str(error("--fetch-timeout", "abc")) == (
        "--fetch-timeout: invalid duration 'abc' (expected e.g. 30s, 5m, 1h30m)"
    )


def test_broker_url_error_hides_the_password():
    message = str(error("--broker-url=http://user:s3cret@broker"))
    assert "s3cret" not in message
    assert "unsupported broker URL" in message


def test_settings_repr_hides_the_broker_url():
    assert "s3cret" not in repr(parse("--broker-url=redis://:s3cret@redis:6379/0"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("300ms", Fraction(3, 10)),
        ("30s", Fraction(30)),
        ("5m", Fraction(300)),
        ("1h30m", Fraction(5400)),
        ("1.5h", Fraction(5400)),
        ("2h45m30.5s", Fraction(9930) + Fraction(1, 2)),
        ("1m0s", Fraction(60)),
        (".5s", Fraction(1, 2)),
        ("5.s", Fraction(5)),
        ("10ns", Fraction(1, 10**8)),
        ("7us", Fraction(7, 10**6)),
        ("7µs", Fraction(7, 10**6)),
        ("7μs", Fraction(7, 10**6)),
        ("+5m", Fraction(300)),
        ("-5m", Fraction(-300)),
        ("0", Fraction(0)),
    ],
    ids=lambda value: str(value),
)
def test_go_duration_syntax(text, seconds):
    assert config.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "abc", "30", "1.5", "1d", "1h 30m", "--5m", "s", ".s", "5M", "1h-30m"]
)
def test_go_duration_rejects(text):
    with pytest.raises(ValueError, match="invalid duration"):
        config.parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [(t, True) for t in ("1", "t", "T", "true", "TRUE", "True")]
    + [(f, False) for f in ("0", "f", "F", "false", "FALSE", "False")],
)
def test_go_bool_syntax(text, expected):
    assert config.parse_bool(text) is expected


@pytest.mark.parametrize("text", ["yes", "no", "on", "tRUE", "2", ""])
def test_go_bool_rejects(text):
    with pytest.raises(ValueError, match="invalid boolean"):
        config.parse_bool(text)


@pytest.mark.parametrize(
    ("args", "env", "field", "expected"),
    [
        ([], {"FAROS_SYNC_PERIOD": "1m"}, "sync_period", timedelta(minutes=1)),
        (["--sync-period=2m"], {"FAROS_SYNC_PERIOD": "1m"}, "sync_period", timedelta(minutes=2)),
        ([], {"FAROS_SYNC_PERIOD": ""}, "sync_period", timedelta(minutes=5)),
        ([], {"FAROS_SERVER_DRY_RUN": "false"}, "server_dry_run", False),
        ([], {"FAROS_GITTRACK_MODE": "disabled"}, "gittrack_mode", names.GitTrackMode.DISABLED),
        ([], {"KUBECONFIG": "/a"}, "kubeconfig", "/a"),
        ([], {"KUBECONFIG": "/a", "FAROS_KUBECONFIG": "/b"}, "kubeconfig", "/b"),
        (["--kubeconfig=/c"], {"KUBECONFIG": "/a", "FAROS_KUBECONFIG": "/b"}, "kubeconfig", "/c"),
        ([], {"CELERY_BROKER_URL": "redis://c"}, "broker_url", "redis://c"),
        ([], {"CELERY_BROKER_URL": "redis://c", "FAROS_BROKER_URL": "redis://f"}, "broker_url",
         "redis://f"),
        (["--broker-url=memory://"], {"FAROS_BROKER_URL": "redis://f"}, "broker_url", "memory://"),
        ([], {"FAROS_IGNORE_RESOURCE": "jobs.batch/v1"}, "ignore_resources",
         (ResourceRef("jobs", "batch", "v1"),)),
        (["--ignore-resource=pods./v1"], {"FAROS_IGNORE_RESOURCE": "jobs.batch/v1"},
         "ignore_resources", (ResourceRef("pods", "", "v1"),)),
    ],
    ids=[
        "env-beats-default", "flag-beats-env", "empty-env-is-unset", "env-bool", "env-mode",
        "kubeconfig-env", "faros-kubeconfig-beats-kubeconfig", "kubeconfig-flag-beats-both",
        "celery-broker-env", "faros-broker-beats-celery", "broker-flag-beats-env",
        "ignore-env", "ignore-flag-replaces-env",
    ],
)  # fmt: skip
def test_flag_beats_environment_beats_default(args, env, field, expected):
    assert getattr(parse(*args, env=env), field) == expected


def test_bad_environment_value_names_the_variable():
    caught = error(env={"FAROS_SYNC_PERIOD": "soon"})
    assert caught.flag == "FAROS_SYNC_PERIOD"
    assert str(caught) == (
        "FAROS_SYNC_PERIOD: invalid duration 'soon' (expected e.g. 30s, 5m, 1h30m)"
    )


def test_version_ignores_the_environment():
    assert config.parse(["version"], {"FAROS_SYNC_PERIOD": "soon"}) == (Command.VERSION, Settings())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--ignore-resource=jobs.batch/v1"], [("jobs", "batch", "v1")]),
        (["--ignore-resource=configmaps./v1"], [("configmaps", "", "v1")]),
        (["--ignore-resource=gittracks.faros.pusher.com/v1alpha1"],
         [("gittracks", "faros.pusher.com", "v1alpha1")]),
        (["--ignore-resource=jobs.batch/v1, secrets./v1"],
         [("jobs", "batch", "v1"), ("secrets", "", "v1")]),
        (["--ignore-resource", "jobs.batch/v1", "--ignore-resource", "cronjobs.batch/v1,pods./v1"],
         [("jobs", "batch", "v1"), ("cronjobs", "batch", "v1"), ("pods", "", "v1")]),
    ],
    ids=["group", "core-group", "dotted-group", "comma-separated", "repeated-and-comma"],
)  # fmt: skip
def test_ignore_resource_is_split_at_the_first_dot(args, expected):
    assert parse(*args).ignore_resources == tuple(ResourceRef(*ref) for ref in expected)


@pytest.mark.parametrize(
    ("args", "env", "flag", "message"),
    [
        (["--namespace=a", "--gittrack-mode=Disabled", "--clustergittrack-mode=Disabled"], {},
         "--namespace", "--namespace: Cannot run with both a namespace and gittrack-mode disabled"),
        (["--namespace=a"], {}, "--namespace",
         '--namespace: Cannot run with namespace "a" and clustergittrack-mode enabled'),
        (["--clustergittrack-mode=ExcludeNamespaced"], {"FAROS_NAMESPACE": "a"},
         "FAROS_NAMESPACE",
         'FAROS_NAMESPACE: Cannot run with namespace "a" and clustergittrack-mode enabled'),
        (["--gittrack-mode=disabled", "--clustergittrack-mode=disabled"], {},
         "--clustergittrack-mode", "Faros would have nothing to do"),
    ],
    ids=["namespace-without-gittracks", "namespace-with-clustergittracks",
         "namespace-from-env", "nothing-to-do"],
)  # fmt: skip
def test_invalid_combination_is_an_error(args, env, flag, message):
    caught = error(*args, env=env)
    assert caught.flag == flag
    assert message in str(caught)


def test_namespaced_faros_needs_clustergittracks_disabled():
    settings = parse("--namespace=a", "--clustergittrack-mode=Disabled")
    assert (settings.namespace, settings.gittrack_mode) == ("a", names.GitTrackMode.ENABLED)


@pytest.mark.parametrize(
    ("args", "env", "warnings"),
    [
        ([], {}, ()),
        (["--leader-election"], {}, ("--leader-election",)),
        (["--leader-election=false", "--leader-election-id=faros"], {},
         ("--leader-election", "--leader-election-id")),
        ([], {"FAROS_LEADER_ELECTION_NAMESPACE": "x"}, ("FAROS_LEADER_ELECTION_NAMESPACE",)),
    ],
    ids=["none", "flag-alone", "two-flags", "from-env"],
)  # fmt: skip
def test_leader_election_flags_are_accepted_and_ignored_with_a_warning(args, env, warnings):
    settings = parse(*args, env=env)
    ignored = "ignored: per-object Redis locks replace leader election"
    assert settings.warnings == tuple(f"{name} {ignored}" for name in warnings)


@pytest.mark.parametrize(
    ("argv", "flag", "message"),
    [
        ([], "", "missing command (expected one of worker, beat, watch, run, receiver, version)"),
        (["serve"], "<command>", "invalid choice: 'serve'"),
        (["worker", "--bogus=1"], "--bogus", "--bogus: unknown flag"),
        (["worker", "extra"], "extra", "extra: unexpected argument"),
        (["worker", "--namespace"], "--namespace", "--namespace: expected one argument"),
        (["worker", "--name=x"], "--name", "--name: unknown flag"),  # no abbreviations
        (["version", "--namespace=x"], "--namespace", "--namespace: unknown flag"),
    ],
    ids=["no-command", "unknown-command", "unknown-flag", "stray-argument", "missing-value",
         "abbreviation", "flag-on-version"],
)  # fmt: skip
def test_command_line_mistakes_are_config_errors(argv, flag, message):
    with pytest.raises(ConfigError) as caught:
        config.parse(argv, {})
    assert caught.value.flag == flag
    assert message in str(caught.value)


@pytest.mark.parametrize("command", list(Command), ids=str)
def test_help_is_a_request_not_an_exit(command):
    with pytest.raises(config.HelpRequested) as caught:
        config.parse([command, "--help"], {})
    for option in config.options(command):
        assert option.flag in caught.value.text
        assert option.env in caught.value.text


@pytest.mark.parametrize(
    ("argv", "field", "expected"),
    [
        (["--max-file-size", "5Mi"], "max_file_size", 5 * 1024 * 1024),
        (["--max-file-size=2048"], "max_file_size", 2048),
        (["--known-hosts", "/a:/b"], "known_hosts", (Path("/a"), Path("/b"))),
        (["--allow-file-urls"], "allow_file_urls", True),
        (["--events-namespace", "faros-system"], "events_namespace", "faros-system"),
        (["--apply-strategy=Server-Side"], "apply_strategy", config.ApplyStrategy.SERVER_SIDE),
    ],
    ids=["size-mi", "size-bytes", "known-hosts", "allow-file", "events-namespace", "ssa"],
)
def test_sync_flags(argv, field, expected):
    _, settings = config.parse(["worker", *argv], {})

    assert getattr(settings, field) == expected


@pytest.mark.parametrize("value", ["1", "1Gi", "ten", "-5Mi"], ids=["tiny", "huge", "word", "neg"])
def test_max_file_size_out_of_range_is_refused(value):
    with pytest.raises(config.ConfigError, match="--max-file-size"):
        config.parse(["worker", f"--max-file-size={value}"], {})


@pytest.mark.parametrize(
    ("argv", "env", "pool"),
    [([], {}, config.Pool.PREFORK), (["--pool=threads"], {}, config.Pool.THREADS),
     ([], {"FAROS_POOL": "Threads"}, config.Pool.THREADS)],
    ids=["default", "flag", "environment"],
)  # fmt: skip
def test_worker_pool(argv, env, pool):
    _, settings = config.parse(["worker", *argv], env)

    assert settings.pool is pool


def test_unknown_pool_is_refused_naming_the_choices():
    with pytest.raises(
        config.ConfigError, match=r"--pool: invalid value 'gevent'.*prefork, threads"
    ):
        config.parse(["worker", "--pool=gevent"], {})


def test_pool_is_a_worker_flag_only():
    with pytest.raises(config.ConfigError, match="--pool"):
        config.parse(["run", "--pool=threads"], {})
