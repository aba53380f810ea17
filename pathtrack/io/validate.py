"""Checks driven by :mod:`pathtrack.io.schema`: which kind of file, which version, what it must hold.

Each check raises :class:`~pathtrack.io.schema.StorageError` with a one-line message
naming the file and what is wrong with it.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

from ..status import Status
from .schema import LEGACY_FORMATS, SCHEMA_VERSIONS, StorageError, one_line


def root_attrs(h, path: str) -> Dict[str, Any]:
    """The root attributes with byte strings decoded."""
    try:
        attrs = {k: h.attrs[k] for k in h.attrs.keys()}
    except Exception as exc:
        raise StorageError(f"{path}: unreadable attributes ({one_line(exc)})") from None
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}


def identify(attrs: Dict[str, Any], path: str, expected: Optional[str] = None) -> Tuple[str, int]:
    """``(format, schema_version)`` of a file from its root attributes.

    Layouts written before the common header (:data:`~pathtrack.io.schema.LEGACY_FORMATS`)
    map to their format with schema version 1. ``expected`` restricts the formats accepted.
    """
    raw = attrs.get("format")
    if isinstance(raw, str) and raw in LEGACY_FORMATS:
        fmt, version = LEGACY_FORMATS[raw]
    else:
        fmt, version = raw, None
    if expected is not None and fmt != expected:
        raise StorageError(f"{path}: not a pathtrack {expected.split('-')[-1]} file (format attribute "
                           f"{raw!r}, expected {expected!r})")
    if fmt not in SCHEMA_VERSIONS:
        raise StorageError(f"{path}: not a pathtrack file (format attribute {raw!r}; expected one of "
                           f"{', '.join(map(repr, SCHEMA_VERSIONS))})")
    if version is None:
        if "schema_version" not in attrs:
            raise StorageError(f"{path}: missing root attribute 'schema_version'")
        try:
            version = int(attrs["schema_version"])
        except (TypeError, ValueError):
            raise StorageError(f"{path}: bad schema_version {attrs['schema_version']!r}") from None
    newest = SCHEMA_VERSIONS[fmt]
    if not 1 <= version <= newest:
        raise StorageError(f"{path}: {fmt} schema_version {version} is not supported (this pathtrack reads "
                           f"1..{newest}); upgrade pathtrack")
    return fmt, version


def require_attrs(attrs: Dict[str, Any], path: str, names: Iterable[str]) -> None:
    for key in names:
        if key not in attrs:
            raise StorageError(f"{path}: missing root attribute {key!r}")


def check_status(attrs: Dict[str, Any], path: str) -> str:
    """The ``status`` attribute, which must name a :class:`~pathtrack.Status` member."""
    status = str(attrs["status"])
    if status not in Status.__members__:
        raise StorageError(f"{path}: unknown status {status!r}")
    return status


def require_datasets(h, path: str, keys: Iterable[str]) -> None:
    for key in keys:
        if key not in h:
            raise StorageError(f"{path}: missing dataset /{key}")
