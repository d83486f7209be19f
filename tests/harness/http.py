"""Plain HTTP GETs against the loopback servers the tests start (metrics, health, Flower)."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request


def get(url: str, *, auth: str = "", timeout: float = 10.0) -> tuple[int, str]:
    """GET ``url`` (with basic auth ``user:password`` when given): (status, body).

    An HTTP error is a status like any other; (0, reason) while nothing listens yet.
    """
    request = urllib.request.Request(url)  # noqa: S310 - loopback servers of the tests
    if auth:
        request.add_header("Authorization", f"Basic {base64.b64encode(auth.encode()).decode()}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()
    except urllib.error.URLError as error:
        return 0, str(error.reason)
    except OSError as error:  # reset or timed out while starting
        return 0, str(error)
