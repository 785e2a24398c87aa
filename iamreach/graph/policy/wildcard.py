"""Linear-time glob matching for IAM patterns, and the ARN parser.

IAM wildcards are ``*`` (any run of characters, possibly empty) and ``?`` (exactly one
character). Both cross ``:`` and ``/``. There are no character classes and no escapes in
the pattern text itself; policy variables (``${*}``) produce *literal* stars, which is why
patterns are compiled from a token list where literal text and wildcards are kept apart.

Matching never backtracks more than to the last star: the pattern is split on ``*`` into
fixed-width segments; the first segment must match at the start, the last at the end, and the
middle ones are placed leftmost-first (which is optimal for fixed-width segments). Finding a
segment uses :meth:`str.find` on its longest literal piece, so typical patterns cost a few C
calls.

Examples
--------
>>> match_wildcard("s3:Get*", "s3:GetObject")
True
>>> match_wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x.txt")
True
>>> match_wildcard("arn:aws:s3:::B/*", "arn:aws:s3:::b/k")
False
>>> match_wildcard("S3:get*", "s3:GetObject", case_sensitive=False)
True
>>> match_wildcard("a?c", "abc"), match_wildcard("a?c", "ac")
(True, False)
>>> parse_arn("arn:aws:iam::111122223333:role/path/R")
Arn(partition='aws', service='iam', region='', account='111122223333', resource='role/path/R')
>>> parse_arn("not-an-arn") is None
True
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Glob", "compile_glob", "compile_tokens", "match_wildcard", "Arn", "parse_arn"]

# Segment parts: a literal ``str`` or an ``int`` n meaning "exactly n arbitrary characters".
_Part = str | int

_EXACT, _ANY, _PREFIX, _GENERAL = 0, 1, 2, 3


class Glob:
    """A compiled wildcard pattern. Use :func:`compile_glob` or :func:`compile_tokens`.

    ``match(text)`` (also ``glob(text)``) tells whether ``text`` matches the whole pattern; it is
    a callable chosen at compile time for the pattern's shape (plain equality, ``startswith``, or
    the general segment matcher), so the common shapes cost one C call.

    >>> g = compile_glob("a*b?d*")
    >>> g.match("aXXbcdYY"), g.match("abd")
    (True, False)
    >>> compile_glob("x").is_literal, compile_glob("*").matches_everything
    (True, True)
    """

    __slots__ = ("match", "_kind", "_text", "_first", "_last", "_middle", "_minlen", "_fold", "_nostar", "_flen", "_llen",
                 "pattern")

    def __init__(self, segments: list[list[_Part]], *, case_sensitive: bool, pattern: str):
        self._fold = not case_sensitive
        self.pattern = pattern
        segs = [s if len(s) < 2 else _normalise(s) for s in segments]
        self._nostar = len(segs) == 1
        self._middle: tuple[tuple[tuple[_Part, ...], int], ...] = ()
        self._first: tuple[_Part, ...] = tuple(segs[0])
        self._last: tuple[_Part, ...] = tuple(segs[-1]) if len(segs) > 1 else ()
        self._text = ""
        self._flen = _seg_len(self._first)
        self._llen = _seg_len(self._last)
        self._minlen = sum(map(_seg_len, segs))
        if self._nostar and all(isinstance(p, str) for p in segs[0]):
            self._kind = _EXACT
            self._text = "".join(segs[0])  # type: ignore[arg-type]
            matcher: Callable[[str], bool] = functools.partial(operator.eq, self._text)
        elif not self._nostar and all(not s for s in segs):
            self._kind = _ANY
            matcher = _always
        elif len(segs) == 2 and not segs[1] and all(isinstance(p, str) for p in segs[0]):
            self._kind = _PREFIX
            self._text = "".join(segs[0])  # type: ignore[arg-type]
            matcher = operator.methodcaller("startswith", self._text)
        else:
            self._kind = _GENERAL
            middle: list[tuple[tuple[_Part, ...], int]] = []
            carry = 0  # '?'-only segments between stars just push the next segment right
            for seg in segs[1:-1]:
                if not seg:
                    continue
                if len(seg) == 1:
                    only = seg[0]
                    if only.__class__ is int:
                        carry += only  # type: ignore[operator]
                        continue
                    if not carry:  # the common case: a plain literal between two stars
                        middle.append(((only,), len(only)))  # type: ignore[arg-type]
                        continue
                full = _normalise([carry, *seg]) if carry else seg
                middle.append((tuple(full), _seg_len(full)))
                carry = 0
            if carry:
                middle.append(((carry,), carry))
            self._middle = tuple(middle)
            matcher = _literal_matcher(self) or self._match_general
        if self._fold:
            matcher = _folding(matcher)
        self.match = matcher

    @property
    def is_literal(self) -> bool:
        """True when the pattern has no wildcard at all (plain equality)."""
        return self._kind == _EXACT

    @property
    def matches_everything(self) -> bool:
        """True for ``*`` (and ``**``...)."""
        return self._kind == _ANY

    @property
    def literal_prefix(self) -> str:
        """The literal text every match starts with (``""`` when the pattern starts with a wildcard)."""
        if self._kind in (_EXACT, _PREFIX):
            return self._text
        out = []
        for p in self._first:
            if isinstance(p, int):
                break
            out.append(p)
        return "".join(out)

    def __call__(self, text: str) -> bool:
        return self.match(text)

    def _match_general(self, text: str) -> bool:
        n = len(text)
        if n < self._minlen:
            return False
        first = self._first
        if self._nostar:
            # No star at all: the one segment must cover the whole text.
            return self._minlen == n and _seg_at(first, text, 0)
        if not _seg_at(first, text, 0):
            return False
        lo = self._flen
        hi = n - self._llen
        if hi < lo or not _seg_at(self._last, text, hi):
            return False
        for seg, width in self._middle:
            pos = _seg_find(seg, width, text, lo, hi)
            if pos < 0:
                return False
            lo = pos + width
        return True

    def __repr__(self) -> str:
        return f"Glob({self.pattern!r})"


def _literal_matcher(glob: Glob) -> Callable[[str], bool] | None:
    """A matcher for a pattern with stars but no ``?`` (``arn:aws:s3:::b-*/*``, ``*-prod``):
    ``startswith`` / ``endswith`` for the ends, leftmost ``str.find`` for each middle piece.
    ``None`` for other shapes."""
    if glob._nostar:
        return None
    parts = [glob._first, glob._last, *(seg for seg, _ in glob._middle)]
    if any(len(p) > 1 or (p and p[0].__class__ is not str) for p in parts):
        return None
    first = glob._first[0] if glob._first else ""
    last = glob._last[0] if glob._last else ""
    middle = tuple((seg[0], width) for seg, width in glob._middle)
    minlen = glob._minlen
    start = len(first)
    if not middle:

        def ends(text: str) -> bool:
            return len(text) >= minlen and text.startswith(first) and text.endswith(last)

        return ends
    if len(middle) == 1 and not last:
        piece = middle[0][0]

        def prefix_then(text: str) -> bool:
            return text.startswith(first) and text.find(piece, start) >= 0

        return prefix_then
    tail = len(last)

    def pieces(text: str) -> bool:
        if len(text) < minlen or not text.startswith(first) or not text.endswith(last):
            return False
        pos = start
        hi = len(text) - tail
        for piece, width in middle:
            pos = text.find(piece, pos, hi)
            if pos < 0:
                return False
            pos += width
        return True

    return pieces


def _always(text: str) -> bool:
    return True


def _folding(matcher: Callable[[str], bool]) -> Callable[[str], bool]:
    """A case-insensitive matcher: lower-case the text, then match (the pattern is lower-case)."""

    def match(text: str) -> bool:
        return matcher(text.lower())

    return match


def _normalise(seg: list[_Part]) -> list[_Part]:
    out: list[_Part] = []
    for p in seg:
        if isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + p
            else:
                out.append(p)
        else:
            if out and isinstance(out[-1], int):
                out[-1] = out[-1] + p
            else:
                out.append(p)
    return out


def _seg_len(seg: tuple[_Part, ...] | list[_Part]) -> int:
    return sum(p if isinstance(p, int) else len(p) for p in seg)


def _seg_at(seg: tuple[_Part, ...], text: str, pos: int) -> bool:
    n = len(text)
    for p in seg:
        if isinstance(p, int):
            pos += p
            if pos > n:
                return False
        else:
            if not text.startswith(p, pos):
                return False
            pos += len(p)
    return True


def _seg_find(seg: tuple[_Part, ...], width: int, text: str, lo: int, hi: int) -> int:
    """Leftmost position ``p`` in ``[lo, hi - width]`` where ``seg`` matches, else -1."""
    last_start = hi - width
    if last_start < lo:
        return -1
    if len(seg) == 1:
        only = seg[0]
        if isinstance(only, int):
            return lo
        pos = text.find(only, lo, hi)
        return pos if 0 <= pos <= last_start else -1
    if width > 32:
        return _bitap_find(seg, width, text, lo, hi)
    # Anchor on the longest literal piece, verify the whole segment around each hit.
    offset = best_off = 0
    anchor = ""
    for p in seg:
        if isinstance(p, str):
            if len(p) > len(anchor):
                anchor, best_off = p, offset
            offset += len(p)
        else:
            offset += p
    if not anchor:
        return lo
    start = lo + best_off
    stop = last_start + best_off + len(anchor)
    while True:
        idx = text.find(anchor, start, stop)
        if idx < 0:
            return -1
        cand = idx - best_off
        if _seg_at(seg, text, cand):
            return cand
        start = idx + 1


def _bitap_find(seg: tuple[_Part, ...], width: int, text: str, lo: int, hi: int) -> int:
    """Shift-and search for a long segment with ``?`` holes: O(len(text) * width / wordsize)."""
    any_mask = 0
    masks: dict[str, int] = {}
    bit = 0
    for p in seg:
        if isinstance(p, int):
            any_mask |= ((1 << p) - 1) << bit
            bit += p
        else:
            for ch in p:
                masks[ch] = masks.get(ch, 0) | (1 << bit)
                bit += 1
    for ch in masks:
        masks[ch] |= any_mask
    top = 1 << (width - 1)
    state = 0
    get = masks.get
    for i in range(lo, hi):
        state = ((state << 1) | 1) & get(text[i], any_mask)
        if state & top:
            return i - width + 1
    return -1


_WILD_RUN = re.compile(r"[*?]{2,}")  # maximal runs: no backtracking (each character is read once)


def _collapse_run(m: re.Match[str]) -> str:
    run = m.group()
    if "*" not in run:
        return run
    return "?" * run.count("?") + "*"


def compile_tokens(tokens: list[tuple[bool, str]], *, case_sensitive: bool = True, pattern: str = "") -> Glob:
    """Compile ``[(is_literal, text), ...]``: literal tokens never act as wildcards.

    >>> compile_tokens([(False, "a*"), (True, "*b")]).match("aXX*b")
    True
    >>> compile_tokens([(False, "a*"), (True, "*b")]).match("aXXb")
    False
    """
    segments: list[list[_Part]] = [[]]
    for literal, text in tokens:
        if not case_sensitive:
            text = text.lower()
        if literal:
            segments[-1].append(text)
            continue
        if "**" in text or "*?" in text or "?*" in text:
            # A run of wildcards holding a star and n question marks means "at least n characters":
            # rewrite it as n '?' then one '*' (one C pass; "*?*?...*?" stays one segment, not 50,000).
            text = _WILD_RUN.sub(_collapse_run, text)
        if text and not text.strip("*?"):
            # Only wildcards: ``*?*?...`` is just "at least n characters" (or exactly n, no star).
            if "?" in text:
                segments[-1].append(text.count("?"))
            if "*" in text:
                segments.append([])
            continue
        for i, piece in enumerate(text.split("*")):
            if i:
                segments.append([])
            if not piece:
                continue
            if "?" not in piece:
                segments[-1].append(piece)
            elif not piece.strip("?"):
                segments[-1].append(len(piece))
            else:
                for j, lit in enumerate(piece.split("?")):
                    if j:
                        segments[-1].append(1)
                    if lit:
                        segments[-1].append(lit)
    if not pattern:
        pattern = "".join(t for _, t in tokens)
    return Glob(segments, case_sensitive=case_sensitive, pattern=pattern)


# Compiled plain patterns, case-sensitive and case-insensitive, keyed by the pattern text.
_GLOB_CACHES: tuple[dict[str, Glob], dict[str, Glob]] = ({}, {})


def compile_glob(pattern: str, *, case_sensitive: bool = True) -> Glob:
    """Compile a plain wildcard pattern (every ``*`` and ``?`` is a wildcard). Cached."""
    cache = _GLOB_CACHES[0 if case_sensitive else 1]
    glob = cache.get(pattern)
    if glob is None:
        glob = compile_tokens([(False, pattern)], case_sensitive=case_sensitive, pattern=pattern)
        if len(cache) > 100_000:
            cache.clear()
        cache[pattern] = glob
    return glob


def match_wildcard(pattern: str, text: str, case_sensitive: bool = True) -> bool:
    """Whether ``text`` matches the IAM wildcard ``pattern`` (``*``, ``?``); linear time."""
    glob = _GLOB_CACHES[0 if case_sensitive else 1].get(pattern)
    if glob is None:
        glob = compile_glob(pattern, case_sensitive=case_sensitive)
    return glob.match(text)


class Arn(NamedTuple):
    """The six colon-separated parts of an ARN (``resource`` keeps any further colons)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    """Split an ARN into its parts; ``None`` when ``text`` is not an ARN."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or not parts[1] or not parts[2]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])
