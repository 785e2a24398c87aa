"""Report formatters, chosen from one dict: name -> module exposing ``render(report) -> str``.

Examples
--------
>>> sorted(FORMATS)
['json', 'markdown', 'sarif', 'text']
>>> from iamreach.analyses.report import Report
>>> get_formatter("json").render(Report()).startswith("{")
True
"""

from __future__ import annotations

import importlib
from types import ModuleType

from iamreach.errors import InputError

__all__ = ["FORMATS", "get_formatter", "render"]

#: Format name -> module path (imported on first use).
FORMATS: dict[str, str] = {
    "text": "iamreach.formatters.text",
    "json": "iamreach.formatters.json_",
    "sarif": "iamreach.formatters.sarif",
    "markdown": "iamreach.formatters.markdown",
}


def get_formatter(name: str) -> ModuleType:
    """The formatter module for ``name``; :class:`InputError` for an unknown one."""
    try:
        path = FORMATS[name]
    except KeyError:
        raise InputError(f"unknown format {name!r}; expected one of {', '.join(sorted(FORMATS))}",
                         field="--format") from None
    return importlib.import_module(path)


def render(report, name: str, **options) -> str:
    """Render ``report`` in format ``name`` (options go to the formatter, e.g. ``color`` for text)."""
    return get_formatter(name).render(report, **options)
