"""The demo: a healthcare AWS Organization built in moto, with planted failure patterns.

:mod:`iamreach.demo.builder` holds the composable :class:`OrgBuilder` scenario tests use;
:mod:`iamreach.demo.org` builds the full "Meridian Health" organization and lists what it
plants (:data:`PLANTED`); :func:`iamreach.demo.server.emulator` runs a private moto server for
it. See ``docs/demo.md``.
"""

from __future__ import annotations

from iamreach.demo.builder import OrgBuilder
from iamreach.demo.org import PLANTED, DemoOrg, Planted, build_demo_org
from iamreach.demo.server import emulator

__all__ = ["OrgBuilder", "DemoOrg", "Planted", "PLANTED", "build_demo_org", "emulator"]
