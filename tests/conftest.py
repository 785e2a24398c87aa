"""Shared fixtures: one moto server per test session (per xdist worker), reset between tests.

End-to-end tests talk to it exactly as a user's run talks to AWS: boto3 through
``AWS_ENDPOINT_URL``. Tests that use the server should be marked
``@pytest.mark.xdist_group("moto")`` only when they must share state across tests; by default
each test gets a reset server via the ``moto`` fixture.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IAMREACH = [sys.executable, "-m", "iamreach"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """Start a ThreadedMotoServer on 127.0.0.1; yield its endpoint URL."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto(moto_server, monkeypatch):
    """A freshly reset moto server with the environment a boto3 client (or subprocess) needs.

    Yields the endpoint URL; ``os.environ`` carries AWS_ENDPOINT_URL and dummy credentials, so
    subprocesses started with ``env=os.environ`` reach the same server.
    """
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE",
                "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    yield moto_server


@pytest.fixture
def shared_dir() -> Path:
    """The read-only ../shared folder (SARIF schema, pathfinding.cloud catalogue)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: tests read the shared reference data beside the project")
    return SHARED


def _benchmark(script: str, name: str):
    """``benchmarks/<script>`` imported as the module ``name`` (the scripts are not a package)."""
    import importlib.util
    import sys

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location(name, root / "benchmarks" / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def benchmark_script():
    """Import a script of ``benchmarks/`` as a module: ``benchmark_script("run.py", "bench_run")``."""
    return _benchmark


@pytest.fixture(scope="session")
def gen():
    """``benchmarks/generate.py`` (the organization generator) imported as a module."""
    return _benchmark("generate.py", "bench_generate")
