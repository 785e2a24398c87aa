"""Snapshots: the inventory serialized as deterministic, hash-verified JSON (optionally gzipped).

Layout::

    {"schema_version": 1, "generator": "iamreach 0.1.0", "collected_at": "2026-...Z",
     "content_hash": "sha256:<hex of the canonical inventory JSON>", "inventory": {...}}

Keys are sorted and every list is in canonical order, so two collections of the same state
are byte-identical apart from ``collected_at``. Gzip output (``.gz`` suffix) has a zero mtime
and no file name, for the same reason. Writing is atomic (temp file + rename, mode 0600).

Examples
--------
>>> import tempfile, os
>>> from iamreach.inventory import Inventory, Account
>>> inv = Inventory(accounts=[Account(id="111122223333")])
>>> path = os.path.join(tempfile.mkdtemp(), "s.json.gz")
>>> save(inv, path, collected_at="2026-01-01T00:00:00Z")
>>> load(path).accounts[0].id
'111122223333'
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import io
import os
import types
import typing
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson

from iamreach import __version__
from iamreach.errors import SnapshotError
from iamreach.fileio import atomic_write_bytes
from iamreach.gcpause import paused_gc
from iamreach.inventory import SCHEMA_VERSION, Inventory, OrgUnit

__all__ = ["save", "load", "dumps", "loads", "content_hash"]

_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
_CANON = orjson.OPT_SORT_KEYS


def content_hash(inventory_dict: dict) -> str:
    """``sha256:<hex>`` of the canonical (sorted, compact) JSON of an inventory dict."""
    return "sha256:" + hashlib.sha256(orjson.dumps(inventory_dict, option=_CANON)).hexdigest()


def dumps(inv: Inventory, *, collected_at: str | None = None, compress: bool = False) -> bytes:
    """Serialize an inventory to snapshot bytes."""
    body = inv.to_dict()
    if collected_at is None:
        collected_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generator": f"iamreach {__version__}",
        "collected_at": collected_at,
        "content_hash": content_hash(body),
        "inventory": body,
    }
    try:
        raw = orjson.dumps(doc, option=_OPTS)
    except TypeError as exc:  # a loader put a non-JSON value in: a bug, say where
        raise SnapshotError(f"inventory holds a value that is not JSON: {exc}") from exc
    if compress:
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
            gz.write(raw)
        return buf.getvalue()
    return raw


def save(inv: Inventory, path: str | os.PathLike[str], *, collected_at: str | None = None) -> None:
    """Write ``inv`` to ``path`` atomically; gzip when the name ends in ``.gz``."""
    data = dumps(inv, collected_at=collected_at, compress=str(path).endswith(".gz"))
    atomic_write_bytes(path, data)


def loads(data: bytes, *, source: str = "<snapshot>") -> tuple[Inventory, dict]:
    """Parse snapshot bytes; return the inventory and the header fields."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise SnapshotError(f"corrupt or truncated gzip data ({exc})", file=source) from exc
    try:
        with paused_gc():
            doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"not valid JSON ({exc}); is the file truncated?", file=source) from exc
    if not isinstance(doc, dict):
        raise SnapshotError("expected a JSON object at the top level", file=source)
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SnapshotError(
            f"schema_version {version!r} is not supported; this iamreach reads version {SCHEMA_VERSION}"
            " (re-collect, or use the iamreach version that wrote it)",
            file=source,
            field="schema_version",
        )
    body = doc.get("inventory")
    if not isinstance(body, dict):
        raise SnapshotError("expected a JSON object", file=source, field="inventory")
    expected = doc.get("content_hash")
    if not isinstance(expected, str):
        raise SnapshotError("missing content hash", file=source, field="content_hash")
    actual = content_hash(body)
    if actual != expected:
        raise SnapshotError(
            "content hash does not match the contents: the snapshot was edited or corrupted",
            file=source,
            field="content_hash",
        )
    try:
        with paused_gc():
            inv = Inventory.from_dict(body)
        _check_types(inv)
    except SnapshotError as exc:
        raise exc.with_file(source) from None
    header = {k: v for k, v in doc.items() if k != "inventory"}
    return inv, header


@functools.cache
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, resolved annotation) of a record dataclass."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _type_error(where: str, expected: str, value: Any) -> SnapshotError:
    return SnapshotError(f"expected {expected}, got {type(value).__name__}", field=where)


def _check_value(value: Any, hint: Any, where: str) -> None:
    """Raise SnapshotError unless ``value`` (from JSON) fits the annotation ``hint``."""
    if hint is Any:
        return
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return
        (hint,) = [o for o in options if o is not type(None)]
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        _check_record(value, where)
        return
    base = origin or hint
    if base is bool and not isinstance(value, bool) or base is not bool and not isinstance(value, base) \
            or base in (int, float) and isinstance(value, bool):
        raise _type_error(where, getattr(base, "__name__", str(base)), value)
    args = typing.get_args(hint)
    if base is list and args:
        for i, item in enumerate(value):
            _check_value(item, args[0], f"{where}[{i}]")
    elif base is dict and args:
        for key, item in value.items():
            _check_value(key, args[0], f"{where}.{key}")
            _check_value(item, args[1], f"{where}.{key}")


def _check_record(record: Any, where: str) -> None:
    for name, hint in _hints(type(record)):
        _check_value(getattr(record, name), hint, f"{where}.{name}")


def _check_types(inv: Inventory) -> None:
    """Every field of every record has the type its annotation promises (``from_dict`` checks only some)."""
    if inv.organization is not None:
        _check_record(inv.organization, "organization")
        for i, unit in enumerate(inv.organization.units):
            _check_record(OrgUnit.from_dict(unit, f"organization.units[{i}]"), f"organization.units[{i}]")
    for f in dataclasses.fields(Inventory):
        items = getattr(inv, f.name)
        if isinstance(items, list):
            for i, record in enumerate(items):
                _check_record(record, f"{f.name}[{i}]")


def load(path: str | os.PathLike[str]) -> Inventory:
    """Read and verify a snapshot file (``.json`` or ``.json.gz``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SnapshotError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    return loads(data, source=str(path))[0]
