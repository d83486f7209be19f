"""Logging for every ``faros`` process: one line per record on stderr, as key=value or JSON.

Messages are constant; variable data travels in ``extra={...}`` fields, which both
formats render after the fixed ones (``time``, ``level``, ``logger``, ``msg``).
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_BARE = re.compile(r"[\w.:/@+,-]+")


def fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, object]:
    """Return what a record says, fixed fields first, then its ``extra`` fields."""
    data: dict[str, object] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    data |= {k: v for k, v in vars(record).items() if k not in _STANDARD and k[:1] != "_"}
    if record.exc_info:
        data["error"] = formatter.formatException(record.exc_info)
    if record.stack_info:
        data["stack"] = formatter.formatStack(record.stack_info)
    return data


def _quote(value: object) -> str:
    text = str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time=… level=info logger=faros.tasks msg="applied child" gto=default/x``."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_quote(value)}" for key, value in fields(record, self).items())


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the same fields as :class:`TextFormatter`."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(fields(record, self), default=str, ensure_ascii=False)


class _StderrHandler(logging.Handler):
    """Write to whatever ``sys.stderr`` is when a record arrives (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure(*, level: str = "info", as_json: bool = False) -> None:
    """Send every log record at ``level`` or above to stderr; calling again replaces the setup."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JSONFormatter() if as_json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
