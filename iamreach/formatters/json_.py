"""The JSON report: ``iamreach-report/1`` (schema in ``docs/report.schema.json``).

Keys are sorted and indented, findings are in the report's order (worst first), so the same
report always gives the same bytes.

Examples
--------
>>> from iamreach.analyses.report import Report
>>> import json
>>> json.loads(render(Report()))["schema"]
'iamreach-report/1'
"""

from __future__ import annotations

import orjson

from iamreach.analyses.report import Report

__all__ = ["render"]


def render(report: Report) -> str:
    """The report as sorted, indented JSON text ending in a newline."""
    return orjson.dumps(report.to_dict(), default=str,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
