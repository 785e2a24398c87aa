"""A private moto server for the demo: start it, point boto3 at it, stop it.

The demo never talks to real AWS. :func:`emulator` starts moto's threaded server on a free
local port and, while the ``with`` block runs, points the process's AWS environment at it
(``AWS_ENDPOINT_URL`` and dummy credentials), restoring every variable afterwards.

Usage::

    with emulator() as endpoint:
        org = build_demo_org(endpoint_url=endpoint)
        inventory = collect(...)          # boto3 reaches the emulator through AWS_ENDPOINT_URL
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator

from iamreach.errors import InputError

__all__ = ["emulator", "EMULATOR_ENV"]

#: What the process environment holds while :func:`emulator` runs (plus ``AWS_ENDPOINT_URL``).
EMULATOR_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
}
#: Variables removed while the emulator runs, so no real profile or session token leaks in.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def emulator(*, set_env: bool = True) -> Iterator[str]:
    """Run a moto server on ``127.0.0.1`` for the duration of the block; yield its URL.

    Parameters
    ----------
    set_env : bool
        Point ``AWS_ENDPOINT_URL`` and dummy credentials at the server while the block runs
        (and clear profile / token variables); every variable is restored afterwards.

    Raises
    ------
    InputError
        When moto's server is not installed.
    """
    previous = {key: os.environ.get(key) for key in (*EMULATOR_ENV, *_CLEARED, "AWS_ENDPOINT_URL")}
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")  # read by moto at import
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        _restore(previous)
        raise InputError("the demo needs the AWS emulator moto; expected it installed: "
                         "pip install 'moto[server]>=5,<6'", field="moto") from exc
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        if set_env:
            for key in _CLEARED:
                os.environ.pop(key, None)
            os.environ.update(EMULATOR_ENV)
            os.environ["AWS_ENDPOINT_URL"] = endpoint
        yield endpoint
    finally:
        server.stop()
        _restore(previous)


def _restore(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
