"""Scale-out: collection on a Dask cluster (:mod:`iamreach.scale.dask_collect`).

Needs the ``scale`` extra (``pip install 'iamreach[scale]'``); nothing here is imported by the
default code path. See ``docs/scale.md``.
"""

from __future__ import annotations

__all__: list[str] = []
