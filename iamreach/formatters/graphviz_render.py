"""Turn DOT source into SVG or PNG with Debian's Graphviz (through the ``graphviz`` package).

If the ``dot`` program is missing the error says exactly how to install it. Layout is bounded
in time: ``dot``'s layered layout can take minutes on graphs with long chains of dependent
edges, so after ``timeout`` seconds it is stopped and the force-directed ``sfdp`` engine (which
lays out thousands of nodes in about a second) draws the picture instead.

Examples
--------
>>> fmt_for_path("out.svg"), fmt_for_path("OUT.PNG"), fmt_for_path("x.dot")
('svg', 'png', 'dot')
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import graphviz

from iamreach.errors import IamreachError, InputError
from iamreach.fileio import atomic_write_bytes

__all__ = [
    "GraphvizMissingError",
    "RenderTimeoutError",
    "APT_COMMAND",
    "DEFAULT_TIMEOUT",
    "FORMATS",
    "dot_available",
    "render",
    "render_svg_text",
    "fmt_for_path",
    "write_picture",
]

APT_COMMAND = "apt-get install -y graphviz"
#: Seconds ``dot`` may take before the fallback engine draws the picture.
DEFAULT_TIMEOUT = 20.0
_FALLBACK_ENGINE = "sfdp"
#: File extensions we write, mapped to Graphviz output formats ("dot" = the source itself).
FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


class GraphvizMissingError(IamreachError):
    """Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "Graphviz's 'dot' program is not installed (needed for SVG/PNG pictures); "
            f"install it with: sudo {APT_COMMAND}  (or write a .dot file instead)"
        )


class RenderTimeoutError(IamreachError):
    """Graphviz did not finish laying out the picture in time (with either engine)."""


def dot_available() -> bool:
    """Is Graphviz's ``dot`` on ``PATH``?"""
    return shutil.which("dot") is not None


def _run(source: str, fmt: str, engine: str, timeout: float | None, extra: tuple[str, ...] = ()) -> bytes:
    if engine not in graphviz.ENGINES or fmt not in graphviz.FORMATS:
        raise InputError(f"unknown Graphviz engine {engine!r} or format {fmt!r}")
    cmd = ["dot", f"-K{engine}", f"-T{fmt}", *extra]
    try:
        proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=timeout,
                              check=False)
    except FileNotFoundError:
        raise GraphvizMissingError() from None
    except subprocess.TimeoutExpired:
        raise RenderTimeoutError(f"Graphviz ({engine}) took more than {timeout:g} s to lay out the picture; "
                                 "draw fewer nodes (--max-nodes, --from/--to, --around)") from None
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        first = next((line for line in stderr.splitlines() if line.strip() and "Warning" not in line), "no message")
        raise IamreachError(f"Graphviz failed to draw the picture: {first}")
    return proc.stdout


def render(source: str, fmt: str = "svg", *, engine: str = "dot", timeout: float | None = DEFAULT_TIMEOUT) -> bytes:
    """Lay out and draw DOT ``source``; return the bytes of format ``fmt`` (``svg``, ``png``...).

    When ``dot`` exceeds ``timeout`` seconds, the ``sfdp`` engine draws the picture instead
    (same nodes, edges, labels and colours; no layers), bounded by the same timeout.

    Raises
    ------
    GraphvizMissingError
        When ``dot`` is not installed.
    RenderTimeoutError
        When neither engine finishes in time.
    IamreachError
        When Graphviz rejects the source (with its first error line).
    """
    if fmt == "dot":
        return source.encode("utf-8")
    try:
        return _run(source, fmt, engine, timeout)
    except RenderTimeoutError:
        if engine == _FALLBACK_ENGINE:
            raise
        return _run(source, fmt, _FALLBACK_ENGINE, timeout, ("-Goverlap=prism", "-Gsep=+6"))


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
