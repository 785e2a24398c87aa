"""Distributed collection: one Dask task per account x region (and per global service).

The driver identifies the caller, lists the organization and the regions with its own
credentials, then submits one task per unit of work. Each task builds its *own* credentials on
the worker: the worker's standard credential chain (or ``--profile``), plus ``sts:AssumeRole``
into the member account. Task arguments and results hold account ids, region and service names
and inventory records only, never a credential.

The cluster is only an executor of :func:`iamreach.loaders.collector.run_collection`, the driver
the single-process collector runs too: it plans the run, and the task results go back to it as
one result per unit in the collector's unit order, to be joined by the same code, so the
snapshot is byte-identical to a single-process collect of the same state (``collected_at``
aside). Dask retries a failed task (``retries``) and reschedules the tasks of a worker that
died; a task that still fails becomes one recorded :class:`~iamreach.inventory.Gap` per service
it held (``api="collect"``, ``error_code`` = the exception's name), never a silent hole.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

from iamreach.errors import InputError
from iamreach.inventory import Gap, Inventory
from iamreach.loaders.aws import GLOBAL_SERVICES
from iamreach.loaders.collector import (
    Collected,
    CollectionPlan,
    CollectOptions,
    Progress,
    Unit,
    base_session,
    client_config,
    member_session,
    plan_units,
    run_collection,
    run_unit,
)

__all__ = ["TaskSpec", "TaskResult", "run_task", "plan_tasks", "collect_distributed", "dask_client"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskSpec:
    """One unit of distributed work: everything a worker needs, and no secret.

    Parameters
    ----------
    account : str
        Account to collect.
    region : str
        Region of the regional services; the home region for global services.
    services : tuple of str
        Services to run, in collection order.
    home : str
        Region of the STS call.
    assume_role : str or None
        Role name to assume in ``account``; ``None`` for the caller's own account.
    profile : str or None
        Named profile of the worker's shared AWS config.
    max_attempts : int
        botocore adaptive retry attempts per call.
    """

    account: str
    region: str
    services: tuple[str, ...]
    home: str
    assume_role: str | None = None
    profile: str | None = None
    max_attempts: int = 10

    @property
    def label(self) -> str:
        """``account region service,...`` for progress lines and task keys."""
        return f"{self.account} {self.region} {','.join(self.services)}"


@dataclass
class TaskResult:
    """What a task sends back: one ``(service, partial inventory, gaps)`` per service.

    ``assume_gap`` is set (and ``parts`` empty) when the member role could not be assumed.
    """

    spec: TaskSpec
    parts: list[tuple[str, Inventory, list[Gap]]] = field(default_factory=list)
    assume_gap: Gap | None = None


def run_task(spec: TaskSpec) -> TaskResult:
    """Collect ``spec.services`` of one account and region; runs on a Dask worker.

    The credentials come from the worker's own chain; for a member account the task assumes
    ``spec.assume_role`` itself. Failed calls are gaps in the result, as in the local collector.
    """
    options = CollectOptions(profile=spec.profile, max_attempts=spec.max_attempts)
    config = client_config(options)
    session = base_session(options)
    if spec.assume_role is not None:
        session, gap = member_session(session, spec.account, spec.assume_role, spec.home, config)
        if gap is not None:
            return TaskResult(spec, assume_gap=gap)
    result = TaskResult(spec)
    for svc in spec.services:
        part, gaps = run_unit(Unit(svc, spec.account, spec.region), session, config)
        result.parts.append((svc, part, gaps))
    return result


def plan_tasks(accounts: list[str], regions: list[str], services: list[str], *, caller: str, home: str,
               options: CollectOptions) -> list[TaskSpec]:
    """Tasks in the single-process collector's unit order (:func:`~iamreach.loaders.collector.plan_units`).

    One task per account and global service (IAM and S3 are the heavy ones), one per account and
    region for the regional services.
    """
    def spec(acct: str, region: str, svcs: tuple[str, ...]) -> TaskSpec:
        role = None if acct == caller or not options.org else options.assume_role
        return TaskSpec(acct, region, svcs, home, role, options.profile, options.max_attempts)

    def task_of(unit: Unit) -> tuple:
        return (unit.account, unit.region, unit.service if unit.service in GLOBAL_SERVICES else None)

    return [spec(acct, region, tuple(u.service for u in group))
            for (acct, region, _), group in itertools.groupby(plan_units(accounts, regions, services, home),
                                                              key=task_of)]


@contextlib.contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None,
                threads_per_worker: int = 4) -> Iterator[Any]:
    """A ``distributed.Client`` on an existing scheduler, or on a new local process cluster.

    Parameters
    ----------
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler.
    workers : int, optional
        Start a ``LocalCluster`` of this many process workers on 127.0.0.1 (closed on exit).
    threads_per_worker : int
        Threads of each local worker (collection waits on the network, not the CPU).
    """
    if (scheduler is None) == (workers is None):
        raise InputError("give exactly one of --scheduler and --workers", field="--scheduler/--workers")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("distributed collection needs Dask: pip install 'iamreach[scale]'",
                         field="--scheduler/--workers") from None
    if scheduler is not None:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise InputError(f"expected a scheduler address like tcp://HOST:PORT, got {scheduler!r}",
                             field="--scheduler")
        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler {scheduler} ({exc})", field="--scheduler") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers is None or workers < 1:
        raise InputError("expected a positive number of workers", field="--workers")
    with LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def collect_distributed(options: CollectOptions, *, client: Any = None, scheduler: str | None = None,
                        workers: int | None = None, retries: int = 2,
                        progress: Progress | None = None,
                        runner: Callable[[TaskSpec], TaskResult] = run_task) -> Inventory:
    """Collect like :func:`iamreach.loaders.collector.collect`, with the work spread over Dask.

    Parameters
    ----------
    options : CollectOptions
        What to collect (``max_workers`` is ignored: the cluster sets the concurrency).
    client : distributed.Client, optional
        A connected client; else ``scheduler`` or ``workers`` makes one for this run.
    scheduler, workers
        See :func:`dask_client`.
    retries : int
        Dask retries of a task that raised (a task on a worker that died is rescheduled by the
        scheduler up to ``distributed.scheduler.allowed-failures`` times).
    progress : callable, optional
        ``progress(done, total, label)`` after every finished task.
    runner : callable
        The task function, :func:`run_task` unless a test injects a fault.

    Returns
    -------
    Inventory
        The same inventory the single-process collector returns for the same state.
    """
    if client is None:
        with dask_client(scheduler=scheduler, workers=workers) as own:
            return collect_distributed(options, client=own, retries=retries, progress=progress, runner=runner)

    def on_cluster(plan: CollectionPlan, progress: Progress | None) -> Collected:
        tasks = plan_tasks(plan.members, plan.regions, plan.services, caller=plan.caller, home=plan.home,
                           options=options)
        return _assemble(tasks, _execute(client, tasks, runner, retries, progress), plan.members)

    return run_collection(options, on_cluster, progress=progress)


def _execute(client: Any, tasks: list[TaskSpec], runner: Callable[[TaskSpec], TaskResult], retries: int,
             progress: Progress | None) -> list[TaskResult | BaseException]:
    """Submit every task; return a result or the final exception per task, in task order."""
    from distributed import as_completed

    run_id = uuid.uuid4().hex[:12]
    futures = [client.submit(runner, spec, key=f"iamreach-collect-{run_id}-{i}", retries=retries, pure=False)
               for i, spec in enumerate(tasks)]
    index = {f.key: i for i, f in enumerate(futures)}
    out: list[TaskResult | BaseException | None] = [None] * len(tasks)
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            i = index[fut.key]
            out[i] = _outcome(fut)
            if progress is not None:
                progress(done, len(tasks), tasks[i].label)
    except BaseException:
        client.cancel(futures)
        raise
    return [r if r is not None else RuntimeError("no result") for r in out]


def _outcome(fut: Any) -> TaskResult | BaseException:
    """The result of a future ``as_completed`` yielded, or the exception it ended with.

    Its status is not read first: between the yield and the read, the worker that holds a
    finished result can die, and the future is then "lost" or "pending" while the scheduler
    computes it again. ``result()`` waits for that; only a task that raised past its retries,
    or was cancelled, ends in an exception.
    """
    try:
        return fut.result()
    except CancelledError:  # distributed's FutureCancelledError is one
        return RuntimeError("the task was cancelled on the cluster")
    except Exception as exc:  # the task's own exception, or KilledWorker from the scheduler
        log.warning("task %s failed after its retries: %s", fut.key, exc)
        return exc


def _assemble(tasks: list[TaskSpec], results: list[TaskResult | BaseException], members: list[str]) -> Collected:
    """The tasks' answers as the local collector's: accounts, assume gaps, one result per unit in order."""
    failed_assume: dict[str, list[Gap]] = {}
    task_count: dict[str, int] = {}
    for spec, res in zip(tasks, results, strict=True):
        task_count[spec.account] = task_count.get(spec.account, 0) + 1
        if isinstance(res, TaskResult) and res.assume_gap is not None:
            failed_assume.setdefault(spec.account, []).append(res.assume_gap)
    # an account whose every task failed to assume is not collected, as in the local collector
    skipped = {a for a, g in failed_assume.items() if len(g) == task_count.get(a, 0)}
    done = Collected(accounts=[a for a in members if a not in skipped],
                     gaps=[failed_assume[a][0] for a in members if a in failed_assume])
    for spec, res in zip(tasks, results, strict=True):
        if spec.account in skipped:
            continue
        if isinstance(res, BaseException):
            done.results.extend((Inventory(), [gap]) for gap in _unit_gaps(spec, type(res).__name__, str(res)))
        elif res.assume_gap is not None:
            done.results.extend((Inventory(), [gap]) for gap in _unit_gaps(spec, "AssumeRoleFailed",
                                                                           res.assume_gap.message))
        else:
            done.results.extend((part, unit_gaps) for _svc, part, unit_gaps in res.parts)
    return done


def _unit_gaps(spec: TaskSpec, code: str, message: str | None) -> list[Gap]:
    """One gap per service of a task that produced no answer."""
    text = " ".join(str(message or "").split())[:500] or None
    return [Gap(service=svc, api="collect", error_code=code, account=spec.account,
                region=None if svc in GLOBAL_SERVICES else spec.region, message=text)
            for svc in spec.services]
