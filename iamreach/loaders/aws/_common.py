"""Shared plumbing for the per-service AWS loaders: the collection context and small helpers.

A :class:`Context` wraps one boto3 session for one account and region. Every AWS call goes
through :meth:`Context.call` or :meth:`Context.paginate`, which turn a failure into a recorded
:class:`~iamreach.inventory.Gap` (and return ``None``) instead of an empty answer. Errors that
mean "this optional configuration is not set" (``NoSuchBucketPolicy``...) are passed as
``absent=`` and return :data:`ABSENT`.

The helpers below (:func:`tags_dict`, :func:`parse_document`, :func:`arn_account` ...) are pure
and shared by the ``normalize`` functions.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from iamreach.inventory import Gap

__all__ = [
    "ABSENT",
    "Context",
    "operation_name",
    "tags_dict",
    "parse_document",
    "arn_account",
    "arn_region",
    "jsonable",
    "strip_none_list",
]

#: Returned by :meth:`Context.call` when the API answered "not configured" (an expected error).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT", "__bool__": lambda self: False})()

_CLIENT_LOCK = threading.Lock()


@dataclass
class Context:
    """Where and how one service collection runs.

    Parameters
    ----------
    session : boto3.session.Session
        Credentials of the account being collected.
    account : str
        12-digit account id.
    region : str or None
        Region of regional services; for global services (IAM, S3, Organizations) the region
        their client is created in, while recorded gaps carry ``None``.
    config : botocore.config.Config or None
        Client configuration (retries, timeouts).
    global_service : bool
        True for IAM / S3 / Organizations: gaps are recorded with ``region=None``.
    """

    session: Any
    account: str
    region: str | None
    config: Any = None
    global_service: bool = False
    gaps: list[Gap] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A (cached) boto3 client for ``service`` in this context's region."""
        cli = self._clients.get(service)
        if cli is None:
            with _CLIENT_LOCK:  # boto3 sessions are not thread-safe while creating clients
                cli = self.session.client(service, region_name=self.region, config=self.config)
                if service == "s3control" and ".amazonaws.com" not in cli.meta.endpoint_url:
                    _strip_account_host_prefix(cli, self.account)
            self._clients[service] = cli
        return cli

    def gap(self, service: str, api: str, error_code: str, message: str | None = None,
            resource: str | None = None) -> None:
        """Record a failed call."""
        self.gaps.append(Gap(service=service, api=api, error_code=error_code, account=self.account,
                             region=None if self.global_service else self.region,
                             message=_one_line(message), resource=resource))

    def call(self, service: str, api: str, *, resource: str | None = None,
             absent: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """Call ``api`` (snake_case) on ``service``; return the response, ``ABSENT`` or ``None``.

        ``None`` means the call failed and a gap was recorded.
        """
        try:
            resp = getattr(self.client(service), api)(**kwargs)
        except ClientError as exc:
            return self._failed(service, api, exc, resource, absent)
        except (BotoCoreError, ResponseParserError) as exc:
            self.gap(service, self.operation(service, api), type(exc).__name__, str(exc), resource)
            return None
        resp.pop("ResponseMetadata", None)
        return resp

    def pages(self, service: str, api: str, *, resource: str | None = None,
              absent: tuple[str, ...] = (), **kwargs: Any) -> list[dict] | None:
        """Every page of ``api``; ``[]`` when absent, ``None`` (and a gap) on failure."""
        cli = self.client(service)
        try:
            if cli.can_paginate(api):
                return list(cli.get_paginator(api).paginate(**kwargs))
            return [getattr(cli, api)(**kwargs)]
        except ClientError as exc:
            res = self._failed(service, api, exc, resource, absent)
            return [] if res is ABSENT else None
        except (BotoCoreError, ResponseParserError) as exc:
            self.gap(service, self.operation(service, api), type(exc).__name__, str(exc), resource)
            return None

    def paginate(self, service: str, api: str, key: str, *, resource: str | None = None,
                 absent: tuple[str, ...] = (), **kwargs: Any) -> list | None:
        """Every item under ``key`` over all pages of ``api``; ``None`` (and a gap) on failure."""
        pages = self.pages(service, api, resource=resource, absent=absent, **kwargs)
        if pages is None:
            return None
        return [item for page in pages for item in page.get(key) or []]

    def _failed(self, service: str, api: str, exc: ClientError, resource: str | None,
                absent: tuple[str, ...]) -> Any:
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                   or "Unknown")
        if code in absent:
            return ABSENT
        self.gap(service, self.operation(service, api), code, err.get("Message") or str(exc), resource)
        return None

    def operation(self, service: str, api: str) -> str:
        """The AWS operation name of boto3 method ``api`` of ``service``, as recorded in gaps.

        The client's own mapping when the client exists, else :func:`operation_name`.
        """
        cli = self._clients.get(service)
        name = cli.meta.method_to_api_mapping.get(api) if cli is not None else None
        return name or operation_name(service, api)


def _strip_account_host_prefix(cli: Any, account: str) -> None:
    """S3 Control puts ``<account>.`` before the host; a custom endpoint (emulator, proxy) has no such names."""
    prefix = f"://{account}."

    def rewrite(request: Any, **_: Any) -> None:
        if prefix in request.url:
            request.url = request.url.replace(prefix, "://", 1)

    cli.meta.events.register("before-send.s3-control", rewrite)


@functools.cache
def _operation_names(service: str) -> dict[str, str]:
    """boto3 method name -> operation name for every operation of ``service``'s botocore model."""
    from botocore import xform_name
    from botocore.session import get_session

    model = get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def operation_name(service: str, api: str) -> str:
    """The AWS operation name (botocore's, the IAM action's spelling) of a boto3 method.

    boto3 method names are the operation names in snake_case, which loses their capitals
    (``DescribeDBClusters`` -> ``describe_db_clusters``), so the name is looked up in botocore's
    service model, not rebuilt from the method name. A method the model does not know (or a
    service botocore does not have) falls back to capitalizing each word.

    Examples
    --------
    >>> operation_name("rds", "describe_db_clusters"), operation_name("s3", "get_bucket_policy")
    ('DescribeDBClusters', 'GetBucketPolicy')
    >>> operation_name("rds", "describe_db_snapshot_attributes")
    'DescribeDBSnapshotAttributes'
    """
    try:
        name = _operation_names(service).get(api)
    except BotoCoreError:  # UnknownServiceError, DataNotFoundError
        name = None
    return name or "".join(part.capitalize() for part in api.split("_"))


def _one_line(message: str | None) -> str | None:
    if message is None:
        return None
    text = " ".join(str(message).split())
    return text[:500] or None


def tags_dict(tags: Any) -> dict[str, str]:
    """Normalize AWS tag shapes (``[{"Key","Value"}]``, ``[{"key","value"}]`` or a dict) to a dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        value = tag.get("Value", tag.get("value", tag.get("TagValue")))
        if key is not None:
            out[str(key)] = "" if value is None else str(value)
    return out


def parse_document(doc: Any, *, where: str = "policy document") -> dict | None:
    """A policy document as a dict, from a dict, a JSON string or a URL-encoded JSON string.

    Raises ``ValueError`` naming ``where`` for text that is not a JSON object.

    Examples
    --------
    >>> parse_document('%7B%22Version%22%3A%222012-10-17%22%7D')
    {'Version': '2012-10-17'}
    >>> parse_document({"Statement": []})
    {'Statement': []}
    """
    if doc is None or doc == "":
        return None
    if isinstance(doc, dict):
        return doc
    if not isinstance(doc, str):
        raise ValueError(f"{where}: expected a JSON object or string, got {type(doc).__name__}")
    text = doc.strip()
    if text.startswith("%"):
        text = urllib.parse.unquote(text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = json.loads(urllib.parse.unquote(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    return value


def arn_account(arn: str) -> str | None:
    """Account field of an ARN (``None`` when empty).

    >>> arn_account("arn:aws:iam::111122223333:role/x")
    '111122223333'
    """
    parts = arn.split(":", 5)
    return (parts[4] or None) if len(parts) > 5 else None


def arn_region(arn: str) -> str | None:
    """Region field of an ARN (``None`` when empty)."""
    parts = arn.split(":", 5)
    return (parts[3] or None) if len(parts) > 5 else None


def jsonable(value: Any) -> Any:
    """Deep-convert datetimes and other non-JSON scalars in an API response to strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def strip_none_list(values: Any) -> list:
    """``[v for v in values if v]`` sorted, tolerating ``None``."""
    return sorted({v for v in (values or []) if v})
