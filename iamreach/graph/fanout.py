"""Run parts of a graph build in forked processes, with this process as the fallback.

The decided edges of a build (``can_assume``, data access, escalation) are loops over trust pools
and actors in which each one's edges depend on nothing another's added. The builder
(:mod:`iamreach.graph.builder`) cuts them into contiguous runs; each run after the first goes to a
forked child, which inherits the builder as it stands (copy-on-write), decides its run's edges and
sends them back as a log of the builder's own calls (``add_edge``, summary and service-principal
nodes, policies that did not parse). The parent decides the first run itself, then replays each
child's log in run order, so the graph is the one a single process builds: the same nodes, edges
and attributes, in the same order (``tests/test_build_fanout.py``).

A child that fails, exits, is killed (the out-of-memory killer is asked to pick a child first) or
takes far longer than this process took for its own run is not waited for: its run is decided again
here. By default, forking is used only where it is safe and pays: ``fork`` exists, the process runs
a single thread (a lock held by another thread would stay held in the child), there are at least two
CPUs, at least :data:`AUTO_MIN_ACTORS` actors, and the memory to hold a copy.
``IAMREACH_BUILD_JOBS`` (or ``build_graph(jobs=...)``) sets the number of processes: ``1`` forks none.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Child", "collect", "jobs_for", "memory", "spawn", "stop"]

log = logging.getLogger(__name__)

#: Fewest actors (users, roles, account administrators) for which the default fans a build out:
#: below it a build takes a few seconds and forking would save little.
AUTO_MIN_ACTORS = 1_000
#: Most processes the default uses.
AUTO_MAX_JOBS = 4


def cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def memory() -> tuple[int, int] | None:
    """(this process's resident bytes, bytes the system has available), or None where unknown."""
    try:
        with open("/proc/self/statm") as fh:
            rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo") as fh:
            avail = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, ValueError, StopIteration):
        return None
    return rss, avail


def jobs_for(requested: int | None, actors: int) -> int:
    """How many processes a build of ``actors`` actors uses.

    ``requested``: a number (``1`` or less: this process alone), or None for the default, read from
    ``IAMREACH_BUILD_JOBS`` (a number, or ``auto``/unset: up to :data:`AUTO_MAX_JOBS`, one per CPU,
    for builds of at least :data:`AUTO_MIN_ACTORS` actors). Either way, never more processes than
    the memory holds (each child may come to this process's size twice over: its copy of what it
    touches and the edges it decides) and none forked without ``fork``; the default forks none with
    a second thread running or on one CPU.
    """
    auto = requested is None
    if auto:
        env = os.environ.get("IAMREACH_BUILD_JOBS", "auto").strip().lower()
        if env not in ("", "auto"):
            try:
                requested, auto = int(env), False
            except ValueError:
                log.warning("IAMREACH_BUILD_JOBS=%r is not a number or 'auto': building in one process", env)
                return 1
    if auto:
        if actors < AUTO_MIN_ACTORS:
            return 1
        requested = min(cpus(), AUTO_MAX_JOBS)
    jobs = max(1, min(int(requested), actors))  # type: ignore[arg-type]
    if jobs == 1 or not hasattr(os, "fork"):
        return 1
    if auto and threading.active_count() > 1:
        return 1  # a forked child could wait on a lock another thread holds (a child that hangs is
        # stopped at its deadline and its part done here, but the default takes no such chance)
    mem = memory()
    if mem is not None:
        rss, avail = mem
        fits = max(1, 1 + avail // max(1, 2 * rss))
        if fits < jobs:
            log.info("building in %d processes, not %d: %.1f GiB available for a %.1f GiB process", fits, jobs,
                     avail / 2**30, rss / 2**30)
            jobs = int(fits)
    return jobs


@dataclass
class Child:
    """A forked child working on one part; its answer is pickled into ``file``, an unnamed
    temporary file both processes hold (so nothing is left on disk, however either ends)."""

    pid: int
    file: Any


def _prefer_me_when_memory_runs_out() -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


def _die_with(parent: int) -> None:
    """End this child when ``parent`` ends, however it ends (Linux: ``PR_SET_PDEATHSIG``), so that a
    killed build leaves no process behind working for nobody."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


def spawn(work: Callable[[], Any]) -> Child | None:
    """Fork a child that runs ``work()`` and sends back what it returns (None: fork failed)."""
    file = tempfile.TemporaryFile(prefix="iamreach-part-")
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as exc:
        file.close()
        log.warning("could not fork a build process (%s): building that part here", exc)
        return None
    if pid == 0:  # the child: runs work() and exits, never returning into the caller
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C stops a child at once
            _die_with(parent)
            _prefer_me_when_memory_runs_out()
            try:
                answer: tuple[str, Any] = ("ok", work())
            except BaseException as exc:  # report it: the parent logs it and does the part itself
                answer = ("error", f"{type(exc).__name__}: {exc}")
            pickle.dump(answer, file, protocol=pickle.HIGHEST_PROTOCOL)
            file.flush()
            status = 0
        finally:
            os._exit(status)
    return Child(pid, file)


def collect(child: Child, deadline: float) -> Any | None:
    """What ``child``'s ``work()`` returned; None when it failed, or was still busy at ``deadline``
    (a :func:`time.monotonic` time; it is then killed). The child is reaped and its file closed."""
    try:
        while True:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.kill(child.pid, signal.SIGKILL)
                os.waitpid(child.pid, 0)
                log.warning("a build process took too long and was stopped: building its part here")
                return None
            time.sleep(0.02)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.warning("a build process ended with %s: building its part here",
                        f"signal {-code}" if code < 0 else f"exit code {code}")
            return None
        child.file.seek(0)
        tag, value = pickle.load(child.file)
        if tag != "ok":
            log.warning("a build process failed (%s): building its part here", value)
            return None
        return value
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        log.warning("could not read a build process's answer (%s): building its part here", exc)
        return None
    finally:
        child.file.close()


def stop(children: list[Child | None]) -> None:
    """Kill and reap ``children`` and close their files (this process is giving up)."""
    for child in children:
        if child is None:
            continue
        try:
            os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
        except OSError:
            pass
        child.file.close()
