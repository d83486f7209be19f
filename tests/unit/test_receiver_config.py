"""The receiver's flags: which commands take them, their defaults and bad values."""

from __future__ import annotations

from datetime import timedelta

import pytest

from faros import config
from faros.config import Command, ConfigError


def test_faros_receiver_listens_on_9292_and_faros_run_not_at_all_by_default():
    _, receiver = config.parse(["receiver"], {})
    _, run = config.parse(["run"], {})

    assert receiver.webhook_bind_address == ":9292"
    assert run.webhook_bind_address == "0"
    assert run == config.Settings()
    assert receiver.webhook_secret == ""
    assert receiver.webhook_max_body_size == 1024 * 1024
    assert receiver.webhook_rate_limit == 10
    assert receiver.webhook_replay_window == timedelta(minutes=10)


def test_receiver_flags_and_variables():
    command, settings = config.parse(
        ["receiver", "--webhook-bind-address=127.0.0.1:9000", "--webhook-secret=faros/hooks",
         "--webhook-max-body-size=64Ki", "--webhook-rate-limit=0"],
        {"FAROS_WEBHOOK_REPLAY_WINDOW": "1h"},
    )  # fmt: skip

    assert command is Command.RECEIVER
    assert settings.webhook_bind_address == "127.0.0.1:9000"
    assert settings.webhook_secret == "faros/hooks"
    assert settings.webhook_max_body_size == 64 * 1024
    assert settings.webhook_rate_limit == 0
    assert settings.webhook_replay_window == timedelta(hours=1)


def test_run_serves_the_receiver_when_given_an_address():
    _, settings = config.parse(["run", "--webhook-bind-address=:9292"], {})
    assert settings.webhook_bind_address == ":9292"


@pytest.mark.parametrize("command", ["worker", "beat", "watch"])
def test_other_processes_do_not_take_receiver_flags(command):
    with pytest.raises(ConfigError, match="unknown flag"):
        config.parse([command, "--webhook-secret=faros/hooks"], {})
    _, settings = config.parse([command], {"FAROS_WEBHOOK_SECRET": "faros/hooks"})
    assert settings.webhook_secret == ""  # the variable of another command's flag is ignored


@pytest.mark.parametrize(
    ("args", "flag", "reason"),
    [(["--webhook-bind-address=0"], "--webhook-bind-address", "needs an address"),
     (["--webhook-secret=hooks"], "--webhook-secret", "expected NAMESPACE/NAME"),
     (["--webhook-secret=Faros/hooks"], "--webhook-secret", "expected NAMESPACE/NAME"),
     (["--webhook-secret=faros/"], "--webhook-secret", "expected NAMESPACE/NAME"),
     (["--webhook-rate-limit=-1"], "--webhook-rate-limit", "0-10000"),
     (["--webhook-rate-limit=fast"], "--webhook-rate-limit", "0-10000"),
     (["--webhook-max-body-size=10"], "--webhook-max-body-size", "1Ki to 100Mi"),
     (["--webhook-replay-window=0s"], "--webhook-replay-window", "greater than 0"),
     (["--webhook-bind-address=9292"], "--webhook-bind-address", "[host]:port")],
    ids=["receiver-off", "no-namespace", "upper-case", "no-name", "negative-rate", "rate-text",
         "tiny-body", "no-window", "no-colon"],
)  # fmt: skip
def test_bad_receiver_values_name_the_flag(args, flag, reason):
    with pytest.raises(ConfigError) as refused:
        config.parse(["receiver", *args], {})

    assert refused.value.flag == flag
    assert reason in str(refused.value)


def test_receiver_checks_the_modes_like_every_process():
    with pytest.raises(ConfigError, match="clustergittrack-mode enabled"):
        config.parse(["receiver", "--namespace=team-a"], {})
    _, settings = config.parse(
        ["receiver", "--namespace=team-a", "--clustergittrack-mode=Disabled"], {}
    )
    assert settings.namespace == "team-a"
