"""Collection and snapshot-load benchmark.

Measures, on this machine:

1. ``iamreach.loaders.collector.collect`` against a local moto server holding the 3-account
   organization of ``tests/data/loaders/org_scenario.py``: one account (``--org --accounts
   <production>``) and all three (``--org``), in us-east-1, default pool of 8 workers;
2. :func:`iamreach.snapshot.load` of a generated snapshot with 100,000 principals
   (``benchmarks/generate.py`` size L when present, else a simple inline generator).

Usage::

    .venv/bin/python benchmarks/bench_collect.py            # both
    .venv/bin/python benchmarks/bench_collect.py --skip-collect
    .venv/bin/python benchmarks/bench_collect.py --principals 20000 --inline

Prints a Markdown table (copied by hand into ``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "data" / "loaders"))

__all__ = ["bench_collect", "bench_load", "inline_inventory", "main"]


def _moto_env() -> object:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      MOTO_IAM_LOAD_MANAGED_POLICIES="false", AWS_CONFIG_FILE=os.devnull,
                      AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address  # noqa: SLF001 - moto has no public accessor
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    return server


def bench_collect(repeat: int = 3) -> list[tuple[str, float, float, int, int]]:
    """(label, median wall s, median CPU s of this process, principals, resources) for 1 and 3 accounts.

    The moto server runs in this process too, so the CPU time includes the emulator's.
    """
    import org_scenario

    from iamreach.loaders.collector import CollectOptions, collect

    server = _moto_env()
    try:
        ids = org_scenario.build()
        rows = []
        for label, options in (("1 account", CollectOptions(org=True, accounts=[ids["production"]])),
                               ("3 accounts", CollectOptions(org=True))):
            times, cpu, inv = [], [], None
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                inv = collect(options)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            rows.append((label, statistics.median(times), statistics.median(cpu), len(inv.principals),
                         len(inv.resources)))
        return rows
    finally:
        server.stop()


def inline_inventory(principals: int):
    """A simple inventory: ``principals`` roles over 100 accounts, each with one inline policy."""
    from iamreach.inventory import Account, Inventory, Principal

    accounts = [f"{100000000000 + i:012d}" for i in range(100)]
    inv = Inventory(accounts=[Account(id=a) for a in accounts])
    for i in range(principals):
        acct = accounts[i % len(accounts)]
        inv.principals.append(Principal(
            arn=f"arn:aws:iam::{acct}:role/role-{i}", kind="role", account=acct, name=f"role-{i}",
            trust_policy={"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            inline_policies={"p": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::bucket-{i % 500}/*"}]}}))
    return inv


def bench_load(principals: int, inline: bool, repeat: int = 3) -> tuple[str, int, float, float, float, float]:
    """(source, principals, file MiB, generate+save s, median load wall s, median load CPU s)."""
    from iamreach import snapshot

    t0 = time.perf_counter()
    source = "inline"
    if not inline and principals == 100_000 and (HERE / "generate.py").is_file():
        import generate

        inv = generate.generate(generate.SIZES["L"], seed=1)
        source = "generate.py L"
    else:
        inv = inline_inventory(principals)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json.gz"
        snapshot.save(inv, path, collected_at="2026-01-01T00:00:00Z")
        made = time.perf_counter() - t0
        size = path.stat().st_size / 2**20
        n = len(inv.principals)
        del inv
        times, cpu = [], []
        for _ in range(repeat):
            t1, c1 = time.perf_counter(), time.process_time()
            snapshot.load(path)
            times.append(time.perf_counter() - t1)
            cpu.append(time.process_time() - c1)
    return source, n, size, made, statistics.median(times), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="collection and snapshot load benchmark")
    parser.add_argument("--skip-collect", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--principals", type=int, default=100_000)
    parser.add_argument("--inline", action="store_true", help="use the inline generator, not generate.py")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if not args.skip_collect:
        print("\n| collect (moto server, us-east-1, 8 workers) | median wall s | median CPU s | principals |"
              " resources |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, secs, cpu, nprin, nres in bench_collect(args.repeat):
            print(f"| {label} | {secs:.2f} | {cpu:.2f} | {nprin} | {nres} |")
    if not args.skip_load:
        source, n, size, made, secs, cpu = bench_load(args.principals, args.inline, args.repeat)
        print("\n| snapshot.load | principals | gzip MiB | generate+save s | median load wall s | median load CPU s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        print(f"| {source} | {n} | {size:.1f} | {made:.1f} | {secs:.2f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
