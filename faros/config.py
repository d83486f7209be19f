"""Settings of every ``faros`` command: each flag, its default and its environment variable.

Parsing is pure: :func:`parse` takes the arguments and the environment and returns the
command and its :class:`Settings`, or raises :class:`ConfigError` naming the flag (or the
variable) and the bad value. A flag beats its variable ``FAROS_<FLAG>``, which beats the
default; an empty variable counts as unset. Flags, defaults and checks follow the Go
original (spec section 4), with two deliberate changes: ``--gittrack-mode`` defaults to
``Enabled``, and contradictory flags are an error instead of a silent exit 0.
"""

import argparse
import dataclasses
import enum
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TypeVar

from faros.api import names
from faros.core import errors, prune

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)


ConfigError = errors.ConfigError
"""A flag or variable has a bad value, or two of them contradict each other."""


class HelpRequested(Exception):  # a request, not a failure: no "Error" suffix
    """``--help`` was given: ``text`` is the help to print, and nothing else is done."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Command(enum.StrEnum):
    WORKER = "worker"
    BEAT = "beat"
    WATCH = "watch"
    RUN = "run"
    RECEIVER = "receiver"
    VERSION = "version"


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class EventsMode(enum.StrEnum):
    """Which Kubernetes Events Faros posts (``--events``)."""

    ALL = "all"
    """Every Event the Go controller posted: per object created or updated, and failures."""
    SUMMARY = "summary"
    """One ``Synced`` Event per sync that changed something; per-object Events only for
    failures and drift reverts."""


class Pool(enum.StrEnum):
    """How a worker runs its tasks side by side (``--pool``)."""

    PREFORK = "prefork"
    """One process per task at a time (``--concurrency`` processes)."""
    THREADS = "threads"
    """Threads of one process (``--concurrency`` threads): the tasks wait on round trips, so
    one process holds many at once in a fraction of the memory."""


class ApplyStrategy(enum.StrEnum):
    """How children are written: kubectl's client-side three-way merge, or server-side apply."""

    CLIENT_SIDE = "client-side"
    SERVER_SIDE = "server-side"


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ResourceRef(NamedTuple):
    """One ``--ignore-resource`` entry; ``group`` is empty for the core group."""

    resource: str
    group: str
    version: str


PROCESSES = (Command.WORKER, Command.BEAT, Command.WATCH, Command.RUN, Command.RECEIVER)
WEBHOOK_COMMANDS = (Command.RECEIVER, Command.RUN)
"""The commands that serve the webhook receiver (``faros run`` only when given an address)."""
RECEIVER_ADDRESS = ":9292"
"""Where ``faros receiver`` listens unless ``--webhook-bind-address`` says otherwise."""
_MICRO = Fraction(1, 10**6)
_UNITS = {"ns": _MICRO / 1000, "us": _MICRO, "µs": _MICRO, "μs": _MICRO, "ms": _MICRO * 1000}
_UNITS |= {"s": Fraction(1), "m": Fraction(60), "h": Fraction(3600)}
_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)"
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))  # longest first: "ms" before "m"
_DURATION = re.compile(rf"(?:{_NUMBER}(?:{_UNIT}))+")
_DURATION_PART = re.compile(rf"({_NUMBER})({_UNIT})")


def parse_duration(text: str) -> Fraction:
    """Return the seconds in a Go duration: ``300ms``, ``1h30m``, ``1.5h``, ``-5m``, ``0``."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return Fraction(0)
    if not _DURATION.fullmatch(body):
        hint = "missing unit; " if re.fullmatch(_NUMBER, body) else ""
        raise ValueError(f"invalid duration {text!r} ({hint}expected e.g. 30s, 5m, 1h30m)")
    parts = _DURATION_PART.findall(body)
    seconds = sum((Fraction(number) * _UNITS[unit] for number, unit in parts), Fraction(0))
    return -seconds if text.startswith("-") else seconds


def _duration(low: str, high: str) -> Callable[[str], timedelta]:
    def convert(text: str) -> timedelta:
        seconds = parse_duration(text)
        if seconds <= 0:
            raise ValueError(f"duration {text!r} must be greater than 0")
        if not parse_duration(low) <= seconds <= parse_duration(high):
            raise ValueError(f"duration {text!r} is out of range (allowed: {low} to {high})")
        return timedelta(microseconds=round(seconds / _MICRO))

    return convert


def parse_bool(text: str) -> bool:
    """Read a boolean as Go's ``strconv.ParseBool`` does (``true``, ``False``, ``1``, ``f`` …)."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise ValueError(f"invalid boolean {text!r} (expected true or false)")


def _choice(kind: type[E]) -> Callable[[str], E]:
    def convert(text: str) -> E:
        for member in kind:
            if member.value.lower() == text.lower():
                return member
        allowed = ", ".join(kind)
        raise ValueError(f"invalid value {text!r} (expected one of {allowed})")

    return convert


def _account(text: str) -> str:
    if text and not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", text):
        raise ValueError(f"invalid service account name {text!r} (lower-case letters, digits, "
                         "'-' and '.')")  # fmt: skip
    return text


def _budget(text: str) -> str:
    prune.parse_budget(text, source="--max-deletions")  # BudgetError is a ValueError
    return text.strip()


def _namespace(text: str) -> str:
    if text and (len(text) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", text)):
        raise ValueError(
            f"invalid namespace {text!r} (expected a DNS-1123 label: at most 63 lower-case "
            "letters, digits or '-', starting and ending with a letter or digit)"
        )
    return text


def _resources(text: str) -> tuple[ResourceRef, ...]:
    return tuple(_resource(item.strip()) for item in text.split(",")) if text.strip() else ()


def _resource(item: str) -> ResourceRef:
    resource, _, group_version = item.partition(".")
    group, slash, version = group_version.partition("/")
    if not (resource and slash and version) or "/" in resource + version:
        raise ValueError(
            f"{item!r} is invalid, should be of format <resource>.<group>/<version> "
            "(e.g. jobs.batch/v1, or configmaps./v1 for the core group)"
        )
    return ResourceRef(resource, group, version)


def _bind_address(text: str) -> str:
    host, colon, port = text.rpartition(":")
    valid = text == "0" or (
        colon == ":"
        and re.fullmatch(r"[A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\]", host) is not None
        and re.fullmatch(r"[0-9]{1,5}", port) is not None
        and int(port) <= 65535
    )
    if not valid:
        raise ValueError(
            f"invalid address {text!r} (expected [host]:port with port 0-65535, e.g. :8080, "
            "or 0 to disable)"
        )
    return text


def _broker_url(text: str) -> str:
    for part in text.split(";"):  # sentinel URLs list their servers separated by ';'
        scheme, separator, _ = part.strip().partition("://")
        if not separator or scheme not in ("redis", "rediss", "sentinel", "memory"):
            redacted = re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", text)
            raise ValueError(
                f"unsupported broker URL {redacted!r} "
                "(expected a redis://, rediss://, sentinel:// or memory:// URL)"
            )
    return text


def _secret_name(text: str) -> str:
    namespace, slash, name = text.partition("/")
    valid = not text or (
        slash == "/"
        and re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace) is not None
        and re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name) is not None
    )
    if not valid:
        raise ValueError(
            f"invalid Secret {text!r} (expected NAMESPACE/NAME, e.g. faros-system/faros-webhooks)"
        )
    return text


def _rate(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text.strip()) or not 0 <= int(text) <= 10_000:
        raise ValueError(
            f"invalid rate {text!r} (expected requests per second per client, 0-10000; 0 disables)"
        )
    return int(text)


def _qps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100_000:
        raise ValueError(
            f"invalid rate {text!r} (expected API requests per second, 0-100000; 0 disables)"
        )
    return value


def _burst(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text.strip()) or not 1 <= int(text) <= 100_000:
        raise ValueError(f"invalid burst {text!r} (expected a number of requests, 1-100000)")
    return int(text)


def _directory(text: str) -> Path | None:
    return Path(text) if text else None


QUEUES = ("sync", "apply")


def _queues(text: str) -> tuple[str, ...]:
    queues = tuple(dict.fromkeys(q.strip() for q in text.split(",") if q.strip()))
    if not queues or any(q not in QUEUES for q in queues):
        raise ValueError(f"invalid queues {text!r} (expected sync, apply or sync,apply)")
    return queues


def _concurrency(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text.strip()) or not 1 <= int(text) <= 64:
        raise ValueError(f"invalid concurrency {text!r} (expected a number of tasks, 1-64)")
    return int(text)


def _paths(text: str) -> tuple[Path, ...]:
    return tuple(Path(item) for item in text.split(os.pathsep) if item)


_SIZE_UNITS = {"": 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "k": 1000, "M": 1000**2}


def _size(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|k|M)?", text.strip())
    value = int(match.group(1)) * _SIZE_UNITS[match.group(2) or ""] if match else 0
    if not 1024 <= value <= 100 * 1024**2:
        raise ValueError(
            f"invalid size {text!r} (expected bytes with an optional Ki/Mi suffix, "
            "from 1Ki to 100Mi, e.g. 10Mi)"
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """How one flag is read: name, converter, help, and where else to look for it."""

    flag: str
    convert: Callable[[str], object]
    help: str
    metavar: str
    commands: tuple[Command, ...] = PROCESSES
    fallback_env: tuple[str, ...] = ()
    default_help: str = ""
    """What ``--help`` says the default is, when the value itself does not say it."""
    boolean: bool = False
    repeated: bool = False

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def env(self) -> str:
        return f"FAROS_{self.dest.upper()}"


def _flag(flag: str, **option: Any) -> dict[str, Option]:
    """Return the field metadata declaring that a settings field is read from ``flag``."""
    return {"option": Option(flag=flag, **option)}


_IGNORED = "accepted for compatibility and ignored"
LEADER_ELECTION_OPTIONS = (
    Option(flag="--leader-election", convert=parse_bool, help=_IGNORED, metavar="BOOL",
           default_help="false", boolean=True),
    Option(flag="--leader-election-id", convert=str, help=_IGNORED, metavar="ID"),
    Option(flag="--leader-election-namespace", convert=str, help=_IGNORED, metavar="NS"),
)  # fmt: skip
LEADER_ELECTION_IGNORED = "ignored: per-object Redis locks replace leader election"


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Everything a ``faros`` process reads from its flags and environment.

    ``Settings()`` holds the defaults; each field's metadata names its flag.
    """

    namespace: str = dataclasses.field(default="", metadata=_flag(
        "--namespace", convert=_namespace, metavar="NS",
        help="only handle GitTracks in this namespace (a DNS-1123 label); empty means all",
    ))  # fmt: skip
    ignore_resources: tuple[ResourceRef, ...] = dataclasses.field(default=(), metadata=_flag(
        "--ignore-resource", convert=_resources, metavar="RES", repeated=True,
        help="never manage this <resource>.<group>/<version>; repeatable and comma-separated "
        "(e.g. jobs.batch/v1, configmaps./v1 for the core group)",
    ))  # fmt: skip
    server_dry_run: bool = dataclasses.field(default=True, metadata=_flag(
        "--server-dry-run", convert=parse_bool, metavar="BOOL", boolean=True,
        help="dry-run updates on the API server before applying them",
    ))  # fmt: skip
    fetch_timeout: timedelta = dataclasses.field(default=timedelta(seconds=30), metadata=_flag(
        "--fetch-timeout", convert=_duration("1ms", "1h"), metavar="DURATION",
        help="timeout for git clone, fetch and checkout (Go duration, at most 1h)",
    ))  # fmt: skip
    repository_dir: Path | None = dataclasses.field(default=None, metadata=_flag(
        "--repository-dir", convert=_directory, metavar="DIR",
        help="clone repositories under this directory", default_help="a temporary directory",
    ))  # fmt: skip
    gittrack_mode: names.GitTrackMode = dataclasses.field(
        default=names.GitTrackMode.ENABLED, metadata=_flag(
        "--gittrack-mode", convert=_choice(names.GitTrackMode), metavar="MODE",
        help="handle GitTracks: Disabled or Enabled (the Go original defaulted to Disabled)",
    ))  # fmt: skip
    clustergittrack_mode: names.ClusterGitTrackMode = dataclasses.field(
        default=names.ClusterGitTrackMode.INCLUDE_NAMESPACED, metadata=_flag(
        "--clustergittrack-mode", convert=_choice(names.ClusterGitTrackMode), metavar="MODE",
        help="handle ClusterGitTracks: Disabled, IncludeNamespaced or ExcludeNamespaced",
    ))  # fmt: skip
    metrics_bind_address: str = dataclasses.field(default=":8080", metadata=_flag(
        "--metrics-bind-address", convert=_bind_address, metavar="ADDR",
        help="serve Prometheus /metrics on [host]:port; 0 disables",
    ))  # fmt: skip
    sync_period: timedelta = dataclasses.field(default=timedelta(minutes=5), metadata=_flag(
        "--sync-period", convert=_duration("1s", "24h"), metavar="DURATION",
        help="how often every GitTrack is synced (Go duration, 1s to 24h)",
    ))  # fmt: skip
    kubeconfig: str = dataclasses.field(default="", metadata=_flag(
        "--kubeconfig", convert=str, metavar="PATH", fallback_env=("KUBECONFIG",),
        help="kubeconfig file",
        default_help="$KUBECONFIG, else the in-cluster config or ~/.kube/config",
    ))  # fmt: skip
    # repr=False: the URL may hold a password, and reprs end up in logs.
    broker_url: str = dataclasses.field(default="redis://localhost:6379/0", repr=False,
        metadata=_flag("--broker-url", convert=_broker_url, metavar="URL",
        help="Celery broker: redis://, rediss://, sentinel:// or memory://",
        fallback_env=("CELERY_BROKER_URL",),
        default_help="$CELERY_BROKER_URL, else redis://localhost:6379/0",
    ))  # fmt: skip
    log_format: LogFormat = dataclasses.field(default=LogFormat.TEXT, metadata=_flag(
        "--log-format", convert=_choice(LogFormat), metavar="FORMAT",
        help="log lines as text (key=value) or json",
    ))  # fmt: skip
    log_level: LogLevel = dataclasses.field(default=LogLevel.INFO, metadata=_flag(
        "--log-level", convert=_choice(LogLevel), metavar="LEVEL",
        help="lowest level logged: debug, info, warning or error",
    ))  # fmt: skip
    allow_file_urls: bool = dataclasses.field(default=False, metadata=_flag(
        "--allow-file-urls", convert=parse_bool, metavar="BOOL", boolean=True,
        help="accept file:// repository URLs (development and tests only: a GitTrack could "
        "read any repository on the worker's disk)",
    ))  # fmt: skip
    default_service_account: str = dataclasses.field(default="", metadata=_flag(
        "--default-service-account", convert=_account, metavar="NAME",
        help="the service account (in each GitTrack's own namespace) whose identity writes the "
        "children of GitTracks without spec.serviceAccountName (the lock-down mode of a "
        "multi-tenant cluster); empty: the controller's own identity",
        default_help="empty (the controller's identity)",
    ))  # fmt: skip
    allow_http_credentials: bool = dataclasses.field(default=False, metadata=_flag(
        "--allow-http-credentials", convert=parse_bool, metavar="BOOL", boolean=True,
        help="send a deployKey's HTTP basic credentials over plain http:// repository URLs "
        "(a trusted network only: anyone on the path can read them); off, such a GitTrack "
        "is refused with an error in FilesFetched",
    ))  # fmt: skip
    known_hosts: tuple[Path, ...] = dataclasses.field(default=(), metadata=_flag(
        "--known-hosts", convert=_paths, metavar="FILES",
        help="known_hosts files for SSH host key checking, separated by ':'; a deployKey "
        "Secret may add its own under the key known_hosts",
        default_help="~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts",
    ))  # fmt: skip
    max_file_size: int = dataclasses.field(default=10 * 1024 * 1024, metadata=_flag(
        "--max-file-size", convert=_size, metavar="SIZE",
        help="manifest files larger than this are refused with a per-file error",
        default_help="10Mi",
    ))  # fmt: skip
    apply_strategy: ApplyStrategy = dataclasses.field(
        default=ApplyStrategy.CLIENT_SIDE, metadata=_flag(
        "--apply-strategy", convert=_choice(ApplyStrategy), metavar="STRATEGY",
        help="client-side (kubectl's three-way merge with the last-applied annotation, as the "
        "original) or server-side (server-side apply, field manager faros)",
    ))  # fmt: skip
    kube_api_qps: float = dataclasses.field(default=500.0, metadata=_flag(
        "--kube-api-qps", convert=_qps, metavar="QPS",
        help="API requests per second that all Faros processes sharing one Redis (or one "
        "faros run) make together, at most; a 429 from the API server pauses them all for its "
        "Retry-After; 0 disables",
    ))  # fmt: skip
    kube_api_burst: int = dataclasses.field(default=1000, metadata=_flag(
        "--kube-api-burst", convert=_burst, metavar="N",
        help="API requests allowed at once above --kube-api-qps",
    ))  # fmt: skip
    max_deletions: str = dataclasses.field(default="", metadata=_flag(
        "--max-deletions", convert=_budget, metavar="N|P%",
        help="the deletion budget of a GitTrack without spec.prune.maxDeletions: a sync that "
        "would delete more objects (a count, or a percentage of the GitTrack's objects) deletes "
        "none until the commit is approved with the faros.pusher.com/approve-deletions "
        "annotation; empty: no budget",
        default_help="empty (no budget)",
    ))  # fmt: skip
    max_pause: timedelta = dataclasses.field(default=timedelta(hours=24), metadata=_flag(
        "--max-pause", convert=_duration("1m", "720h"), metavar="DURATION",
        help="how far ahead a faros.pusher.com/pause-until annotation on a live object may "
        "pause its reverts (break-glass; Go duration, 1m to 720h); a time further ahead is "
        "refused with a Warning Event",
    ))  # fmt: skip
    events: EventsMode = dataclasses.field(default=EventsMode.ALL, metadata=_flag(
        "--events", convert=_choice(EventsMode), metavar="MODE",
        help="all (an Event per object created or updated, as the original) or summary (one "
        "Event per sync that changed something, per-object Events only for failures and drift "
        "reverts: about half the writes of creating an object)",
    ))  # fmt: skip
    queues: tuple[str, ...] = dataclasses.field(default=QUEUES, metadata=_flag(
        "--queues", convert=_queues, metavar="QUEUES", commands=(Command.WORKER,),
        help="queues this worker consumes: sync, apply or sync,apply", default_help="sync,apply",
    ))  # fmt: skip
    concurrency: int = dataclasses.field(default=2, metadata=_flag(
        "--concurrency", convert=_concurrency, metavar="N", commands=(Command.WORKER,),
        help="tasks a worker runs at once, 1-64: processes of the prefork pool or threads of "
        "the threads pool",
    ))  # fmt: skip
    pool: Pool = dataclasses.field(default=Pool.PREFORK, metadata=_flag(
        "--pool", convert=_choice(Pool), metavar="POOL", commands=(Command.WORKER,),
        help="prefork (a process per task at a time) or threads (threads of one process: the "
        "same throughput in less memory, more syncs at once; a task that hangs past "
        "FAROS_TASK_TIME_LIMIT fails /healthz instead of being killed)",
    ))  # fmt: skip
    events_namespace: str = dataclasses.field(default="default", metadata=_flag(
        "--events-namespace", convert=_namespace, metavar="NS",
        help="namespace of the Events about cluster-scoped objects (ClusterGitTracks and "
        "their objects); with --namespace, that namespace",
    ))  # fmt: skip
    webhook_bind_address: str = dataclasses.field(default="0", metadata=_flag(
        "--webhook-bind-address", convert=_bind_address, metavar="ADDR",
        commands=WEBHOOK_COMMANDS,
        help="serve the webhook receiver (/hook/<provider>, /healthz) on [host]:port; 0 disables",
        default_help=f"{RECEIVER_ADDRESS} for faros receiver, 0 (off) for faros run",
    ))  # fmt: skip
    webhook_secret: str = dataclasses.field(default="", metadata=_flag(
        "--webhook-secret", convert=_secret_name, metavar="NAMESPACE/NAME",
        commands=WEBHOOK_COMMANDS,
        help="the Secret holding the shared webhook secret of each provider, one key each: "
        "github, gitlab, bitbucket, bitbucket-server, gitea, azure (user:password), generic; "
        "empty: only GitTracks' own spec.webhookSecretRef",
    ))  # fmt: skip
    webhook_max_body_size: int = dataclasses.field(default=1024 * 1024, metadata=_flag(
        "--webhook-max-body-size", convert=_size, metavar="SIZE", commands=WEBHOOK_COMMANDS,
        help="larger deliveries are refused (413) before they are read", default_help="1Mi",
    ))  # fmt: skip
    webhook_rate_limit: int = dataclasses.field(default=10, metadata=_flag(
        "--webhook-rate-limit", convert=_rate, metavar="N", commands=WEBHOOK_COMMANDS,
        help="requests per second per client address (bursts of 5 s worth), beyond which the "
        "receiver answers 429; 0 disables",
    ))  # fmt: skip
    webhook_replay_window: timedelta = dataclasses.field(
        default=timedelta(minutes=10), metadata=_flag(
        "--webhook-replay-window", convert=_duration("1s", "24h"), metavar="DURATION",
        commands=WEBHOOK_COMMANDS,
        help="a delivery id seen again within this long is a replay: answered 200, nothing "
        "queued (Go duration, 1s to 24h)",
    ))  # fmt: skip
    warnings: tuple[str, ...] = ()
    """Sentences for the CLI to log, such as flags accepted but ignored."""


def fields() -> dict[str, tuple[Option, object]]:
    """Return each settings field read from a flag: its name, option and default."""
    declared = dataclasses.fields(Settings)
    return {f.name: (f.metadata["option"], f.default) for f in declared if "option" in f.metadata}


def options(command: Command) -> tuple[Option, ...]:
    """Return the flags ``command`` accepts, in the order ``--help`` lists them."""
    every = [*(option for option, _ in fields().values()), *LEADER_ELECTION_OPTIONS]
    return tuple(option for option in every if command in option.commands)


def show(value: object) -> str:
    """Write a default value the way a user would type it (``30s``, ``true``, ``""``)."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        size, unit = next((s, u) for s, u in ((3600, "h"), (60, "m"), (1, "s")) if seconds % s == 0)
        return f"{seconds // size}{unit}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value) if value else '""'


SUMMARIES = {
    Command.WORKER: "run a Celery worker for the sync and apply queues",
    Command.BEAT: "run the beat that schedules a sync of every GitTrack",
    Command.WATCH: "run the watchers that queue work on changes and drift",
    Command.RUN: "run everything in one process, without Redis",
    Command.RECEIVER: "run the webhook receiver that queues a sync of the GitTracks a push moves",
    Command.VERSION: "print the version and exit",
}
_DESCRIPTION = "Faros keeps a Kubernetes cluster equal to what Git repositories say."


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        flag, colon, reason = message.removeprefix("argument ").partition(": ")
        if not message.startswith("argument ") or not colon:
            flag, reason = "", message
        raise ConfigError(flag=flag, value=None, reason=reason)

    def print_help(self, file: Any = None) -> NoReturn:
        raise HelpRequested(self.format_help())


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``faros`` command line; it raises, it never exits."""
    parser = _Parser(prog="faros", description=_DESCRIPTION, allow_abbrev=False)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="<command>", title="commands")
    defaults = {option.flag: default for option, default in fields().values()}
    for command in Command:
        summary = SUMMARIES[command]
        sub = commands.add_parser(
            command.value, help=summary, description=summary, allow_abbrev=False
        )
        for option in options(command):
            default = option.default_help or show(defaults.get(option.flag))
            text = f"{option.help} (default: {default}; env: {option.env})"
            kwargs: dict[str, Any] = {"metavar": option.metavar, "help": text.replace("%", "%%")}
            if option.boolean:  # Go style: --flag alone is true, --flag=false is false
                kwargs |= {"nargs": "?", "const": "true"}
            if option.repeated:
                kwargs["action"] = "append"
            sub.add_argument(option.flag, **kwargs)
    return parser


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Command, Settings]:
    """Read the command and its settings from the arguments (after the program name).

    Raises:
        ConfigError: a bad value, an unknown flag, a missing command or contradictory flags.
        HelpRequested: ``--help`` was given.
    """
    args, extra = build_parser().parse_known_args(list(argv))
    if extra:
        kind = "unknown flag" if extra[0].startswith("-") else "unexpected argument"
        raise ConfigError(flag=extra[0].partition("=")[0], value=extra[0], reason=kind)
    if args.version or args.command == Command.VERSION:
        return Command.VERSION, Settings()
    if args.command is None:
        raise ConfigError(
            flag="", value=None, reason=f"missing command (expected one of {', '.join(Command)})"
        )
    command = Command(args.command)

    def source(option: Option) -> tuple[str, str] | None:
        raw = getattr(args, option.dest, None)
        if raw is not None:
            return option.flag, ",".join(raw) if option.repeated else raw
        for name in (option.env, *option.fallback_env):
            if environ.get(name) and command in option.commands:
                return name, environ[name]
        return None

    def read(option: Option) -> tuple[str, Any] | None:
        if (found := source(option)) is None:
            return None
        name, raw = found
        try:
            return name, option.convert(raw)
        except ValueError as exc:
            raise ConfigError(flag=name, value=raw, reason=str(exc)) from None

    given = {field: read(option) for field, (option, _) in fields().items()}
    values = {field: found[1] for field, found in given.items() if found is not None}
    ignored = (read(option) for option in LEADER_ELECTION_OPTIONS)
    warnings = tuple(f"{found[0]} {LEADER_ELECTION_IGNORED}" for found in ignored if found)
    if command is Command.RECEIVER and given["webhook_bind_address"] is None:
        values["webhook_bind_address"] = RECEIVER_ADDRESS
    settings = Settings(**values, warnings=warnings)
    _check(settings, namespace_source=(given["namespace"] or ("",))[0])
    if command is Command.RECEIVER and settings.webhook_bind_address == "0":
        flag = (given["webhook_bind_address"] or ("--webhook-bind-address",))[0]
        raise ConfigError(flag=flag, value="0", reason="faros receiver needs an address to serve")
    return command, settings


def _check(settings: Settings, *, namespace_source: str) -> None:
    """Refuse modes that cannot work together (spec section 4, "Validation")."""
    namespace = settings.namespace
    gittracks = settings.gittrack_mode is not names.GitTrackMode.DISABLED
    clustergittracks = settings.clustergittrack_mode is not names.ClusterGitTrackMode.DISABLED
    if namespace and not gittracks:
        reason = "Cannot run with both a namespace and gittrack-mode disabled"
        raise ConfigError(flag=namespace_source, value=namespace, reason=reason)
    if namespace and clustergittracks:
        reason = f'Cannot run with namespace "{namespace}" and clustergittrack-mode enabled'
        raise ConfigError(flag=namespace_source, value=namespace, reason=reason)
    if not gittracks and not clustergittracks:
        reason = "gittrack-mode and clustergittrack-mode are both Disabled: Faros would have "
        raise ConfigError(
            flag="--clustergittrack-mode", value="Disabled", reason=reason + "nothing to do"
        )
