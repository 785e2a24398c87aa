"""``iamreach collect``: read an AWS account or organization into a snapshot."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from iamreach.errors import InputError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``collect`` parser."""
    p = subparsers.add_parser(
        "collect", help="collect IAM, data stores and network from AWS into a snapshot",
        description="Read (List/Get/Describe only) an AWS account, or every account of an organization, "
                    "into a snapshot file. Failed calls are recorded as gaps and summarized on stderr.")
    p.add_argument("-o", "--output", required=True, help="snapshot path (.json or .json.gz)")
    p.add_argument("--profile", help="AWS named profile (default: the standard credential chain)")
    p.add_argument("--regions", default="", help="comma-separated regions, or 'all' for every enabled region "
                                                 "(default: the session's region)")
    p.add_argument("--org", action="store_true", help="walk the organization and assume into each member account")
    p.add_argument("--assume-role", default="OrganizationAccountAccessRole",
                   help="role name assumed in member accounts with --org (default: %(default)s)")
    p.add_argument("--accounts", default="", help="with --org: comma-separated account ids to collect")
    p.add_argument("--services", default="", help="comma-separated services (default: all)")
    p.add_argument("--max-workers", type=int, default=8, help="concurrent calls (default: %(default)s)")
    p.add_argument("--max-attempts", type=int, default=10,
                   help="botocore adaptive retry attempts (default: %(default)s)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster (iamreach[scale])")
    p.add_argument("--workers", type=int, metavar="N", help="run on a local Dask cluster of N process workers")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no gap summary")
    p.set_defaults(func=run)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so a killed run cleans up like Ctrl-C."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    """Collect and save; exit 0 (gaps are reported, not failures)."""
    from iamreach import snapshot
    from iamreach.loaders.collector import CollectOptions, collect, print_gap_summary

    regions = _csv(args.regions)
    if "all" in regions and len(regions) > 1:
        raise InputError("'all' cannot be combined with named regions", field="--regions")
    if args.max_workers < 1 or args.max_attempts < 1:
        raise InputError("expected a positive integer", field="--max-workers/--max-attempts")
    options = CollectOptions(profile=args.profile, regions=regions, org=args.org, assume_role=args.assume_role,
                             accounts=_csv(args.accounts), services=_csv(args.services),
                             max_workers=args.max_workers, max_attempts=args.max_attempts)
    with _term_as_interrupt():
        with _progress(quiet=args.quiet) as progress:
            if args.scheduler is not None or args.workers is not None:
                from iamreach.scale.dask_collect import collect_distributed

                inv = collect_distributed(options, scheduler=args.scheduler, workers=args.workers, progress=progress)
            else:
                inv = collect(options, progress=progress)
        snapshot.save(inv, args.output)
    if not args.quiet:
        print_gap_summary(inv)
        print(f"iamreach: wrote {args.output} ({len(inv.accounts)} account(s), {len(inv.principals)} principals, "
              f"{len(inv.resources)} resources, {len(inv.gaps)} gaps)", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _progress(*, quiet: bool) -> Iterator[Any]:
    """A rich progress bar on stderr, or ``None`` when quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("collect"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield update
