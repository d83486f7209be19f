"""A raw-JSON client for the Kubernetes API, built from a kubeconfig or the in-cluster config.

It sends requests through the official client's connection pool and authentication (tokens,
client certificates, exec plugins and their refresh) but reads and writes plain dicts: typed
models cost about ten times ``json.loads`` and hide fields we need.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from faros.kube import errors

logger = logging.getLogger(__name__)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
"""Accept types asking for objects' metadata only (what controller-runtime's metadata-only
watches ask for), with plain JSON as the fallback a server may answer instead."""

DEFAULT_TIMEOUT = 30.0
POOL_SIZE = 64
"""Connections kept open to the API server per client."""
MAX_BUDGET_WAIT = 60.0
"""Longest a request waits for its turn in the API budget (a 429 may ask for more)."""


class ConnectError(Exception):
    """No usable kubeconfig or in-cluster configuration; ``str()`` says which and why."""


class Budget(Protocol):
    """The API budget requests draw from (``faros.core.budget``; in Redis or in-process)."""

    def take(self) -> float: ...

    def pause(self, seconds: float) -> None: ...


class Kube:
    """One API server connection; thread-safe (urllib3 pool)."""

    def __init__(self, api_client: k8s_client.ApiClient, *, impersonate: str = "") -> None:
        self.api_client = api_client
        self.budget: Budget | None = None
        """When set, every request waits for its turn in it, and a 429 pauses it."""
        self.impersonate = impersonate
        """The user every request acts as (``Impersonate-User``); "" for our own identity."""

    def impersonating(self, user: str) -> Kube:
        """A view of this connection whose requests act as ``user`` (a tenant's service
        account, ``system:serviceaccount:<namespace>:<name>``): same pool and budget; never
        close it (close the connection it came from)."""
        view = Kube(self.api_client, impersonate=user)
        view.budget = self.budget
        return view

    @classmethod
    def connect(cls, kubeconfig: str | Path | None = None) -> Kube:
        """From ``kubeconfig`` if given, else the in-cluster config, else ``~/.kube/config``."""
        configuration = k8s_client.Configuration()
        # Writers, task threads and watch streams share one client: room for all of them, or
        # urllib3 drops connections beyond 10 and every request pays a new TLS handshake.
        configuration.connection_pool_maxsize = POOL_SIZE
        try:
            if kubeconfig:
                k8s_config.load_kube_config(
                    config_file=str(kubeconfig), client_configuration=configuration
                )
            else:
                try:
                    k8s_config.load_incluster_config(client_configuration=configuration)
                except ConfigException:
                    k8s_config.load_kube_config(client_configuration=configuration)
        except (ConfigException, OSError) as error:
            where = str(kubeconfig) if kubeconfig else "in-cluster or ~/.kube/config"
            raise ConnectError(
                f"cannot load the Kubernetes configuration ({where}): {error}"
            ) from None
        return cls(k8s_client.ApiClient(configuration))

    @property
    def host(self) -> str:
        """The API server URL."""
        return str(self.api_client.configuration.host)

    def close(self) -> None:
        """Release the connection pool."""
        self.api_client.close()

    def __enter__(self) -> Kube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str | int | bool] | None = None,
        content_type: str = JSON,
        timeout: float = DEFAULT_TIMEOUT,
        accept: str = JSON,
    ) -> Any:
        """Send one request and return the decoded JSON answer (raises ``errors.ApiError``)."""
        response = self.open(
            method, path, body=body, query=query, content_type=content_type, timeout=timeout,
            accept=accept,
        )  # fmt: skip
        try:
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise errors.broken(error) from error
        finally:
            response.release_conn()
        try:
            return json.loads(data) if data else None
        except ValueError as error:
            raise errors.Unavailable(status=0, reason="", message="invalid JSON answer") from error

    def open(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str | int | bool] | None = None,
        content_type: str = JSON,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        accept: str = JSON,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request and return the open response (for streams such as watches)."""
        self._wait_for_budget()
        params = [(k, _query_value(v)) for k, v in (query or {}).items()]
        headers = {"Accept": accept if accept == JSON else f"{accept},{JSON}"}
        if self.impersonate:
            headers["Impersonate-User"] = self.impersonate
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            prepared = self.api_client.param_serialize(
                method,
                path,
                query_params=params,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            answer = self.api_client.call_api(*prepared, _request_timeout=timeout)
        except ApiException as error:  # TLS and similar failures before any HTTP status
            raise errors.Unavailable(status=0, reason="", message=str(error.reason)) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise errors.broken(error) from error
        response: urllib3.BaseHTTPResponse = answer.response
        if not 200 <= response.status < 300:
            try:
                data = response.read()
            finally:
                response.release_conn()
            failure = errors.from_response(response.status, data, dict(response.headers))
            if response.status == 429 and self.budget is not None:
                self._pause_budget(failure.retry_after or 1.0)
            raise failure
        return response

    def _wait_for_budget(self) -> None:
        if self.budget is None:
            return
        try:
            wait = self.budget.take()
        except Exception as error:  # the budget's store is away: requests go on unthrottled
            logger.debug("api budget unavailable", extra={"error": str(error)})
            return
        if wait > 0:
            time.sleep(min(wait, MAX_BUDGET_WAIT))

    def _pause_budget(self, seconds: float) -> None:
        if self.budget is None:
            return
        try:
            self.budget.pause(seconds)
        except Exception as error:  # best effort, as above
            logger.debug("api budget unavailable", extra={"error": str(error)})


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
