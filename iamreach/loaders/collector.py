"""Live collection: accounts x regions x services through a bounded thread pool.

Read-only by construction: every call is a List/Get/Describe (plus ``sts:GetCallerIdentity``,
``sts:AssumeRole`` and ``ec2:DescribeRegions``); ``tests/test_loaders_collect_e2e.py`` checks
every operation sent during a full collection against :data:`READ_ONLY_PREFIXES`.

One driver, :func:`run_collection`, serves every way of running the work: it identifies the
caller, reads the organization, checks the accounts, hands the units of work (:class:`Unit`) to
an *executor*, and joins the partial inventories. :func:`collect` passes the local thread pool;
:func:`iamreach.scale.dask_collect.collect_distributed` passes a Dask cluster.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

from iamreach.errors import IamreachError, InputError
from iamreach.inventory import Account, Gap, Inventory
from iamreach.loaders.aws import GLOBAL_SERVICES, REGIONAL_SERVICES, SERVICES, service_module
from iamreach.loaders.aws._common import Context
from iamreach.loaders.combine import combine, resolve_vpcs

__all__ = [
    "CollectOptions",
    "Unit",
    "CollectionPlan",
    "Collected",
    "Progress",
    "Executor",
    "collect",
    "run_collection",
    "plan_units",
    "run_unit",
    "client_config",
    "base_session",
    "member_session",
    "print_gap_summary",
    "READ_ONLY_PREFIXES",
    "READ_ONLY_EXTRA",
    "is_read_only",
]

#: operation name prefixes that only read
READ_ONLY_PREFIXES = ("List", "Get", "Describe")
#: other operations the collector may send: sts reads and the credential exchange
READ_ONLY_EXTRA = frozenset({"AssumeRole", "GetCallerIdentity"})
DEFAULT_ROLE = "OrganizationAccountAccessRole"

#: ``progress(done, total, label)``, called after every finished piece of work
Progress = Callable[[int, int, str], None]


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


@dataclass(frozen=True)
class Unit:
    """One unit of work: one service of one account, in one region (the home region for global services)."""

    service: str
    account: str
    region: str

    @property
    def label(self) -> str:
        """``account region service`` for progress lines."""
        return f"{self.account} {self.region} {self.service}"


@dataclass
class CollectionPlan:
    """What the driver knows before any unit runs; an executor's input.

    Parameters
    ----------
    options : CollectOptions
        The run's options.
    config : botocore.config.Config
        Client configuration (retries, timeouts) of :func:`client_config`.
    session : boto3.session.Session
        The caller's session.
    home : str
        Region of the caller's session (STS, Organizations and the global services).
    caller : str
        The caller's account id.
    regions, services : list of str
        Regions and services to collect, in collection order.
    members : list of str
        Accounts to collect, checked against the organization; the caller's alone without ``org``.
    organization : Inventory
        What the Organizations unit read (empty when it did not run).
    gaps : list of Gap
        The Organizations unit's gaps.
    """

    options: CollectOptions
    config: Any
    session: Any
    home: str
    caller: str
    regions: list[str]
    services: list[str]
    members: list[str]
    organization: Inventory
    gaps: list[Gap]

    def units(self, accounts: Iterable[str]) -> list[Unit]:
        """The units of ``accounts`` in collection order (see :func:`plan_units`)."""
        return plan_units(accounts, self.regions, self.services, self.home)


@dataclass
class Collected:
    """An executor's answer.

    Parameters
    ----------
    accounts : list of str
        Accounts collected, in the plan's member order (a member whose role could not be
        assumed is left out).
    gaps : list of Gap
        Gaps about whole accounts (``sts:AssumeRole``), in member order.
    results : list of (Inventory, list of Gap)
        One partial inventory and its gaps per unit, in :meth:`CollectionPlan.units` order. A
        unit that produced no answer is an empty inventory with the gaps that say why.
    """

    accounts: list[str]
    gaps: list[Gap] = field(default_factory=list)
    results: list[tuple[Inventory, list[Gap]]] = field(default_factory=list)


#: ``execute(plan, progress) -> Collected``: runs the plan's units somewhere
Executor = Callable[[CollectionPlan, Progress | None], Collected]


def client_config(options: CollectOptions) -> Any:
    """The botocore client configuration of a run: adaptive retries, 10 s connect, 60 s read timeout."""
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": options.max_attempts},
                  user_agent_extra="iamreach-collect", connect_timeout=10, read_timeout=60)


def base_session(options: CollectOptions) -> Any:
    """A boto3 session from ``options.profile`` or the standard credential chain.

    Raises :class:`~iamreach.errors.InputError` for a profile that does not exist.
    """
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


def member_session(session: Any, account: str, role: str, home: str, config: Any) -> tuple[Any, Gap | None]:
    """A session in ``account`` through ``sts:AssumeRole`` of ``role``: ``(session, None)`` or ``(None, gap)``."""
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


def run_unit(unit: Unit, session: Any, config: Any) -> tuple[Inventory, list[Gap]]:
    """Collect and normalize one unit with ``session``: its partial inventory and its gaps.

    An answer the service's ``normalize`` cannot read is a gap for the whole unit
    (``api="collect"``, ``UnreadableResponse``), never an empty list.
    """
    module = service_module(unit.service)
    ctx = Context(session=session, account=unit.account, region=unit.region, config=config,
                  global_service=unit.service in GLOBAL_SERVICES)
    try:
        raw = module.collect(ctx)
        part = module.normalize(raw, unit.account, None if unit.service in GLOBAL_SERVICES else unit.region)
    except (KeyError, TypeError, ValueError, IamreachError) as exc:
        ctx.gap(unit.service, "collect", "UnreadableResponse", f"{type(exc).__name__}: {exc}")
        part = Inventory()
    return part, ctx.gaps


def plan_units(accounts: Iterable[str], regions: list[str], services: list[str], home: str) -> list[Unit]:
    """The units of work in collection order.

    Per account, each global service but Organizations (which the driver reads once) in the home
    region; then per account and region, each regional service. Services keep the order of
    :data:`iamreach.loaders.aws.SERVICES`.
    """
    accounts = list(accounts)
    units = [Unit(svc, acct, home) for acct in accounts
             for svc in services if svc in GLOBAL_SERVICES and svc != "organizations"]
    units += [Unit(svc, acct, region) for acct in accounts for region in regions
              for svc in services if svc in REGIONAL_SERVICES]
    return units


def _services(options: CollectOptions) -> list[str]:
    wanted = options.services or list(SERVICES)
    unknown = sorted(set(wanted) - set(SERVICES))
    if unknown:
        raise InputError(f"unknown service(s) {unknown}; expected some of {sorted(SERVICES)}", field="--services")
    return [s for s in SERVICES if s in wanted]


def _members(options: CollectOptions, caller: str, organization: Inventory) -> list[str]:
    """The accounts to collect: the caller's, or the organization's ACTIVE members (``--accounts``)."""
    if not options.org:
        if options.accounts and set(options.accounts) != {caller}:
            raise InputError("--accounts needs --org (without it only the caller's account is collected)",
                             field="--accounts")
        return [caller]
    members = sorted(a.id for a in organization.accounts if a.status in (None, "ACTIVE"))
    if not members:
        raise InputError("--org: the organization's accounts could not be listed from this account "
                         "(run from the management or a delegated administrator account)", field="--org")
    if options.accounts:
        unknown = sorted(set(options.accounts) - set(members))
        if unknown:
            raise InputError(f"account(s) {unknown} are not active members of the organization", field="--accounts")
        members = sorted(set(options.accounts))
    return members


def _plan(options: CollectOptions) -> CollectionPlan:
    """Identify the caller, resolve regions and services, read the organization, check the accounts."""
    config = client_config(options)
    session = base_session(options)
    home = session.region_name or "us-east-1"
    caller = _caller(session, home, config)
    regions = _regions(options, session, home, config)
    services = _services(options)
    organization, gaps = Inventory(), []
    if "organizations" in services or options.org:
        organization, gaps = run_unit(Unit("organizations", caller, home), session, config)
    return CollectionPlan(options=options, config=config, session=session, home=home, caller=caller,
                          regions=regions, services=services, members=_members(options, caller, organization),
                          organization=organization, gaps=list(gaps))


def run_collection(options: CollectOptions, execute: Executor, *,
                   progress: Progress | None = None) -> Inventory:
    """Collect an inventory, running the units of work with ``execute``.

    The one collection loop: plan (caller, regions, services, organization, accounts), execute,
    then join the partial inventories in a fixed order, so every executor that returns the same
    results yields the same snapshot bytes.

    Parameters
    ----------
    options : CollectOptions
        What to collect.
    execute : callable
        ``execute(plan, progress) -> Collected``: runs ``plan.units(...)`` of the accounts it
        could reach and returns their results in that order (see :class:`Collected`).
    progress : callable, optional
        Passed to ``execute``: ``progress(done, total, label)`` after every finished piece of work.

    Returns
    -------
    Inventory
        Sorted, with ``meta`` (``source="collect"``, caller, regions, services, accounts,
        ``org_mode``) and every gap of the run.

    Raises
    ------
    InputError
        The caller cannot be identified, the regions cannot be listed, or the services or
        accounts asked for do not exist.
    """
    plan = _plan(options)
    done = execute(plan, progress)
    parts = [plan.organization,
             Inventory(accounts=[Account(id=a, regions=list(plan.regions)) for a in done.accounts])]
    gaps = [*plan.gaps, *done.gaps]
    for part, unit_gaps in done.results:
        parts.append(part)
        gaps.extend(unit_gaps)
    parts.append(Inventory(gaps=gaps))
    meta = {"source": "collect", "caller_account": plan.caller, "regions": plan.regions,
            "services": plan.services, "accounts": sorted(done.accounts), "org_mode": options.org}
    return resolve_vpcs(combine(parts, meta=meta))


def collect(options: CollectOptions, *, progress: Progress | None = None) -> Inventory:
    """Collect an inventory from AWS in this process.

    ``progress(done, total, label)`` is called after every finished unit of work.
    Raises :class:`~iamreach.errors.InputError` when the caller cannot be identified.
    """
    return run_collection(options, _run_local, progress=progress)


def _run_local(plan: CollectionPlan, progress: Progress | None) -> Collected:
    """The local executor: assume into each member here, run the units on the thread pool."""
    sessions: dict[str, Any] = {}
    gaps: list[Gap] = []
    for acct in plan.members:
        if acct == plan.caller:  # the caller's own account uses the caller's credentials
            sessions[acct] = plan.session
            continue
        assumed, gap = member_session(plan.session, acct, plan.options.assume_role, plan.home, plan.config)
        if gap is not None:
            gaps.append(gap)
        else:
            sessions[acct] = assumed
    units = plan.units(sessions)
    results = _execute(units, lambda u: run_unit(u, sessions[u.account], plan.config),
                       plan.options.max_workers, progress)
    return Collected(accounts=list(sessions), gaps=gaps, results=results)


class _DaemonPool:
    """A bounded pool of *daemon* threads with ``ThreadPoolExecutor``'s ``submit`` / ``shutdown``.

    ``ThreadPoolExecutor`` joins its threads when the interpreter exits, so a run interrupted
    during an API call would still wait for that call (up to botocore's 60 s read timeout, per
    retry). Daemon threads are not joined: on Ctrl-C / SIGTERM the queued units are cancelled and
    the process exits at once, abandoning the calls in flight (they only read; nothing is written).
    """

    def __init__(self, workers: int, name: str) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        self._jobs.put((fut, fn, args))
        return fut

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            fut, fn, args = job
            if not fut.set_running_or_notify_cancel():  # cancelled while queued
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the waiting thread, as ThreadPoolExecutor does
                fut.set_exception(exc)
            else:
                fut.set_result(result)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop the workers after the queued jobs (or, with ``cancel_futures``, cancel those first)."""
        if cancel_futures:
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def _execute(units: list[Unit], run: Callable[[Unit], tuple[Inventory, list[Gap]]], workers: int,
             progress: Progress | None) -> list[tuple[Inventory, list[Gap]]]:
    """Run every unit on a bounded pool of daemon threads, results in unit order.

    On Ctrl-C (or SIGTERM, which the CLI turns into one) stop handing out units, cancel the
    queued ones and re-raise at once, without waiting for the calls in flight.
    """
    pool = _DaemonPool(min(max(1, workers), max(1, len(units))), "iamreach-collect")
    pending: dict[Future, int] = {pool.submit(run, u): i for i, u in enumerate(units)}
    results: list[tuple[Inventory, list[Gap]] | None] = [None] * len(units)
    finished_count = 0
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                results[i] = fut.result()
                finished_count += 1
                if progress is not None:
                    progress(finished_count, len(units), units[i].label)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [r for r in results if r is not None]


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
