"""``iamreach demo``: the Meridian Health organization in an in-process AWS emulator, collected,
checked and drawn (see :mod:`iamreach.demo.run`). Exit codes: 0 done, 2 bad input / missing tool."""

from __future__ import annotations

import gc
import sys

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("demo", help="build a demo organization in a local AWS emulator and analyze it",
                       description="Start an in-process moto server, build the Meridian Health demo organization, "
                                   "collect it with the real collector, run the checks and the synthetic -> phi "
                                   "path search, and write report.html, attack-paths.svg, findings.sarif, "
                                   "summary.md and snapshot.json.gz. Nothing leaves this machine.")
    p.add_argument("-o", "--output", default="demo-output", metavar="DIR",
                   help="output directory (default: %(default)s)")
    p.add_argument("--region", default="us-east-1", help="region of the demo resources (default: %(default)s)")
    p.set_defaults(func=run)


def run(args) -> int:
    from iamreach.demo.run import run_demo, summary_text

    result = run_demo(args.output, region=args.region, say=lambda text: print(text, file=sys.stderr, flush=True))
    print(summary_text(result))
    # The emulator's state is garbage now and the process is about to exit: keep the collector
    # from walking millions of objects during interpreter teardown (several seconds).
    gc.freeze()
    return 0
