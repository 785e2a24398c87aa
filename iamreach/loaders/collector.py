"""Live collection: accounts x regions x services through a bounded thread pool.

Read-only by construction: every call is a List/Get/Describe (plus ``sts:GetCallerIdentity``,
``sts:AssumeRole`` and ``ec2:DescribeRegions``); ``tests/test_loaders_collect_e2e.py`` checks
every operation sent during a full collection against :data:`READ_ONLY_PREFIXES`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from iamreach.errors import IamreachError, InputError
from iamreach.inventory import Account, Gap, Inventory
from iamreach.loaders.aws import GLOBAL_SERVICES, REGIONAL_SERVICES, SERVICES, service_module
from iamreach.loaders.aws._common import Context
from iamreach.loaders.combine import combine, resolve_vpcs

__all__ = ["CollectOptions", "collect", "print_gap_summary", "READ_ONLY_PREFIXES", "READ_ONLY_EXTRA", "is_read_only"]

#: operation name prefixes that only read
READ_ONLY_PREFIXES = ("List", "Get", "Describe")
#: other operations the collector may send: sts reads and the credential exchange
READ_ONLY_EXTRA = frozenset({"AssumeRole", "GetCallerIdentity"})
DEFAULT_ROLE = "OrganizationAccountAccessRole"


def is_read_only(operation: str) -> bool:
    """True for the operations the collector is allowed to send.

    >>> is_read_only("GetBucketPolicy"), is_read_only("PutBucketPolicy")
    (True, False)
    """
    return operation.startswith(READ_ONLY_PREFIXES) or operation in READ_ONLY_EXTRA


@dataclass
class CollectOptions:
    """What to collect and how.

    Parameters
    ----------
    profile : str, optional
        Named profile of the shared AWS config (else the standard credential chain).
    regions : list of str, optional
        Regions to collect; ``["all"]`` for every enabled region; empty for the session's region.
    org : bool
        Walk the organization and assume ``assume_role`` in every member account.
    accounts : list of str, optional
        With ``org``: only these account ids.
    services : list of str, optional
        Only these services (keys of :data:`iamreach.loaders.aws.SERVICES`).
    max_workers : int
        Thread pool size.
    max_attempts : int
        botocore adaptive retry attempts per call.
    """

    profile: str | None = None
    regions: list[str] = field(default_factory=list)
    org: bool = False
    assume_role: str = DEFAULT_ROLE
    accounts: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    max_workers: int = 8
    max_attempts: int = 10


@dataclass
class _Unit:
    service: str
    account: str
    region: str
    session: Any


def _config(options: CollectOptions) -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": options.max_attempts},
                  user_agent_extra="iamreach-collect", connect_timeout=10, read_timeout=60)


def _base_session(options: CollectOptions) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.Session(profile_name=options.profile)
    except ProfileNotFound as exc:
        raise InputError(f"AWS profile not found ({exc})", field="--profile") from None


def _caller(session: Any, region: str, config: Any) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return session.client("sts", region_name=region, config=config).get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        raise InputError(f"cannot identify the caller with sts:GetCallerIdentity ({exc})",
                         field="AWS credentials") from None


def _regions(options: CollectOptions, session: Any, home: str, config: Any) -> list[str]:
    if not options.regions:
        return [home]
    if options.regions == ["all"]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = session.client("ec2", region_name=home, config=config).describe_regions(AllRegions=False)
        except (ClientError, BotoCoreError) as exc:
            raise InputError(f"cannot list the enabled regions with ec2:DescribeRegions ({exc})",
                             field="--regions") from None
        return sorted(r["RegionName"] for r in resp["Regions"]
                      if r.get("OptInStatus") in (None, "opt-in-not-required", "opted-in"))
    return sorted(set(options.regions))


def _assume(session: Any, account: str, role: str, home: str, config: Any) -> tuple[Any, Gap | None]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    arn = f"arn:aws:iam::{account}:role/{role}"
    try:
        creds = session.client("sts", region_name=home, config=config).assume_role(
            RoleArn=arn, RoleSessionName="iamreach-collect")["Credentials"]
    except ClientError as exc:
        err = exc.response.get("Error", {})
        return None, Gap(service="sts", api="AssumeRole", error_code=str(err.get("Code") or "Unknown"),
                         account=account, message=err.get("Message"), resource=arn)
    except BotoCoreError as exc:
        return None, Gap(service="sts", api="AssumeRole", error_code=type(exc).__name__, account=account,
                         message=str(exc), resource=arn)
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=home), None


def _run_unit(unit: _Unit, config: Any) -> tuple[Inventory, list[Gap]]:
    module = service_module(unit.service)
    ctx = Context(session=unit.session, account=unit.account, region=unit.region, config=config,
                  global_service=unit.service in GLOBAL_SERVICES)
    try:
        raw = module.collect(ctx)
        part = module.normalize(raw, unit.account, None if unit.service in GLOBAL_SERVICES else unit.region)
    except (KeyError, TypeError, ValueError, IamreachError) as exc:
        # an answer we cannot read is a gap for the whole unit, never an empty list
        ctx.gap(unit.service, "collect", "UnreadableResponse", f"{type(exc).__name__}: {exc}")
        part = Inventory()
    return part, ctx.gaps


def _services(options: CollectOptions) -> list[str]:
    wanted = options.services or list(SERVICES)
    unknown = sorted(set(wanted) - set(SERVICES))
    if unknown:
        raise InputError(f"unknown service(s) {unknown}; expected some of {sorted(SERVICES)}", field="--services")
    return [s for s in SERVICES if s in wanted]


def collect(options: CollectOptions, *, progress: Callable[[int, int, str], None] | None = None) -> Inventory:
    """Collect an inventory from AWS.

    ``progress(done, total, label)`` is called after every finished unit of work.
    Raises :class:`~iamreach.errors.InputError` when the caller cannot be identified.
    """
    config = _config(options)
    session = _base_session(options)
    home = session.region_name or "us-east-1"
    caller = _caller(session, home, config)
    regions = _regions(options, session, home, config)
    services = _services(options)
    parts: list[Inventory] = []
    gaps: list[Gap] = []

    org_part = Inventory()
    if "organizations" in services or options.org:
        org_part, org_gaps = _run_unit(_Unit("organizations", caller, home, session), config)
        parts.append(org_part)
        gaps.extend(org_gaps)
    sessions = _account_sessions(options, session, caller, home, config, org_part, gaps)
    units = [_Unit(svc, acct, home, sess) for acct, sess in sessions.items()
             for svc in services if svc in GLOBAL_SERVICES and svc != "organizations"]
    units += [_Unit(svc, acct, region, sess) for acct, sess in sessions.items() for region in regions
              for svc in services if svc in REGIONAL_SERVICES]
    parts.append(Inventory(accounts=[Account(id=a, regions=list(regions)) for a in sessions]))
    results = _execute(units, config, options.max_workers, progress)
    for part, unit_gaps in results:
        parts.append(part)
        gaps.extend(unit_gaps)
    parts.append(Inventory(gaps=gaps))
    meta = {"source": "collect", "caller_account": caller, "regions": regions, "services": services,
            "accounts": sorted(sessions), "org_mode": options.org}
    return resolve_vpcs(combine(parts, meta=meta))


def _account_sessions(options: CollectOptions, session: Any, caller: str, home: str, config: Any,
                      org_part: Inventory, gaps: list[Gap]) -> dict[str, Any]:
    """account id -> session; the caller's own account uses the caller's credentials."""
    if not options.org:
        if options.accounts and set(options.accounts) != {caller}:
            raise InputError("--accounts needs --org (without it only the caller's account is collected)",
                             field="--accounts")
        return {caller: session}
    members = sorted(a.id for a in org_part.accounts if a.status in (None, "ACTIVE"))
    if not members:
        raise InputError("--org: the organization's accounts could not be listed from this account "
                         "(run from the management or a delegated administrator account)", field="--org")
    if options.accounts:
        unknown = sorted(set(options.accounts) - set(members))
        if unknown:
            raise InputError(f"account(s) {unknown} are not active members of the organization", field="--accounts")
        members = sorted(set(options.accounts))
    sessions: dict[str, Any] = {}
    for acct in members:
        if acct == caller:
            sessions[acct] = session
            continue
        assumed, gap = _assume(session, acct, options.assume_role, home, config)
        if gap is not None:
            gaps.append(gap)
        else:
            sessions[acct] = assumed
    return sessions


def _execute(units: list[_Unit], config: Any, workers: int,
             progress: Callable[[int, int, str], None] | None) -> list[tuple[Inventory, list[Gap]]]:
    """Run every unit on a bounded pool; on Ctrl-C cancel what has not started and re-raise."""
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="iamreach-collect")
    pending: dict[Future, _Unit] = {pool.submit(_run_unit, u, config): u for u in units}
    order = {id(u): i for i, u in enumerate(units)}
    done_units: list[tuple[int, tuple[Inventory, list[Gap]]]] = []
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                unit = pending.pop(fut)
                done_units.append((order[id(unit)], fut.result()))
                if progress is not None:
                    progress(len(done_units), len(units), f"{unit.account} {unit.region} {unit.service}")
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    results = [r for _, r in sorted(done_units, key=lambda x: x[0])]
    return results


def print_gap_summary(inv: Inventory, stream: Any = None) -> None:
    """One line per (service, api, error code) with its count, on stderr."""
    stream = stream or sys.stderr
    if not inv.gaps:
        print("iamreach: collection complete, no gaps", file=stream)
        return
    counts: dict[tuple[str, str, str], int] = {}
    for g in inv.gaps:
        key = (g.service, g.api, g.error_code)
        counts[key] = counts.get(key, 0) + 1
    print(f"iamreach: {len(inv.gaps)} gap(s): these calls failed and their answers are UNKNOWN:", file=stream)
    for (svc, api, code), n in sorted(counts.items()):
        print(f"  {svc}:{api}  {code}  x{n}", file=stream)
