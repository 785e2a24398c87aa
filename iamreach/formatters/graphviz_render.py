"""Turn DOT source into SVG or PNG with Debian's Graphviz (through the ``graphviz`` package).

If the ``dot`` program is missing the error says exactly how to install it.

Examples
--------
>>> fmt_for_path("out.svg"), fmt_for_path("OUT.PNG"), fmt_for_path("x.dot")
('svg', 'png', 'dot')
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import graphviz

from iamreach.errors import IamreachError, InputError
from iamreach.fileio import atomic_write_bytes

__all__ = [
    "GraphvizMissingError",
    "APT_COMMAND",
    "FORMATS",
    "dot_available",
    "render",
    "render_svg_text",
    "fmt_for_path",
    "write_picture",
]

APT_COMMAND = "apt-get install -y graphviz"
#: File extensions we write, mapped to Graphviz output formats ("dot" = the source itself).
FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


class GraphvizMissingError(IamreachError):
    """Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's 'dot' program is not installed (needed for SVG/PNG pictures); "
            f"install it with: sudo {APT_COMMAND}  (or write a .dot file instead)"
        )


def dot_available() -> bool:
    """Is Graphviz's ``dot`` on ``PATH``?"""
    return shutil.which("dot") is not None


def render(source: str, fmt: str = "svg", *, engine: str = "dot") -> bytes:
    """Lay out and draw DOT ``source``; return the bytes of format ``fmt`` (``svg``, ``png``...).

    Raises
    ------
    GraphvizMissingError
        When ``dot`` is not installed.
    IamreachError
        When Graphviz rejects the source (with its first error line).
    """
    if fmt == "dot":
        return source.encode("utf-8")
    try:
        return graphviz.Source(source, engine=engine).pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError() from None
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        first = next((line for line in stderr.splitlines() if line.strip()), "no message")
        raise IamreachError(f"Graphviz failed to draw the picture: {first}") from None


def render_svg_text(source: str) -> str:
    """SVG text of ``source`` without the XML prolog and DOCTYPE (ready to inline in HTML)."""
    svg = render(source, "svg").decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def fmt_for_path(path: str | os.PathLike[str]) -> str:
    """The output format implied by a file name's extension.

    Raises
    ------
    InputError
        For an extension we do not write.
    """
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"unsupported picture format {ext or '(none)'!r}; expected one of "
                         + ", ".join(sorted(FORMATS)), field="-o")
    return FORMATS[ext]


def write_picture(source: str, path: str | os.PathLike[str]) -> str:
    """Render DOT ``source`` to ``path`` (format from its extension), atomically, mode 0600.

    Returns the format written.
    """
    fmt = fmt_for_path(path)
    atomic_write_bytes(path, render(source, fmt))
    return fmt
