"""Fault injection for the collector: a small HTTP proxy in front of a moto server.

The proxy listens on ``127.0.0.1`` and forwards every request to the emulator, unless a *fault
rule* says otherwise: answer with an AWS error in the protocol the client speaks (AccessDenied,
Throttling, 500...), drop the connection without an answer (what a read timeout or a reset
looks like to botocore), or hold the request for a while. The collector under test runs as the
real ``iamreach collect`` subprocess with ``AWS_ENDPOINT_URL`` pointing at the proxy, exactly as
a user's run talks to AWS.

Every request is identified the way AWS would see it: the service from the SigV4 credential
scope (``X-Amz-Target`` for JSON services, ``Action=`` for query services, the botocore REST
URI templates for REST services), the region from the scope, the account from the access key
(the base key is the management account; keys handed out by ``sts:AssumeRole`` are mapped to
the role's account as they pass through). Attempts of one call share botocore's
``amz-sdk-invocation-id`` header, so :meth:`FaultProxy.failed_calls` lists the calls whose
*last* attempt failed — the calls the collector must have recorded as gaps — and leaves out
calls that a retry rescued.

:class:`MotoProcess` runs moto's server in its own process, so no other test's reset of the
in-process moto server can touch the state a module built.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "MOTO_DEFAULT_ACCOUNT",
    "Call",
    "Action",
    "Attempt",
    "FaultProxy",
    "MotoProcess",
    "OperationResolver",
    "free_port",
    "error_code",
    "seeded",
    "GLOBAL_SIGNING",
    "aws_env",
    "SeededFault",
    "on",
    "gap_counter",
    "hold",
    "interrupt",
    "CONNECTION_CODES",
    "DemoServer",
    "demo_server",
    "CleanCollect",
    "clean_collect",
    "CANARY_SECRET",
    "CANARY_TOKEN",
]

#: moto's account for the base ``testing`` credentials
MOTO_DEFAULT_ACCOUNT = "123456789012"
#: services whose gaps carry no region (global in the collector) plus STS
GLOBAL_SIGNING = frozenset({"organizations", "iam", "s3", "s3control", "sts"})
#: the boto3 client names the collector uses (signing names differ for Step Functions and S3 Control)
CLIENT_NAMES = ("iam", "sts", "organizations", "s3", "s3control", "ec2", "rds", "dynamodb", "kms",
                "secretsmanager", "lambda", "glue", "sagemaker", "stepfunctions", "cloudtrail", "lakeformation")

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

#: error codes per protocol for the named fault kinds
_CODES: dict[str, dict[str, tuple[str, int]]] = {
    "access_denied": {"query": ("AccessDenied", 403), "ec2": ("UnauthorizedOperation", 403),
                      "json": ("AccessDeniedException", 400), "rest-json": ("AccessDeniedException", 403),
                      "rest-xml": ("AccessDenied", 403)},
    "throttling": {"query": ("Throttling", 400), "ec2": ("RequestLimitExceeded", 503),
                   "json": ("ThrottlingException", 400), "rest-json": ("TooManyRequestsException", 429),
                   "rest-xml": ("SlowDown", 503)},
    "internal": {"query": ("InternalFailure", 500), "ec2": ("InternalError", 500),
                 "json": ("InternalFailure", 500), "rest-json": ("ServiceException", 500),
                 "rest-xml": ("InternalError", 500)},
    "region_disabled": {"query": ("InvalidClientTokenId", 403), "ec2": ("AuthFailure", 401),
                        "json": ("UnrecognizedClientException", 400),
                        "rest-json": ("UnrecognizedClientException", 403),
                        "rest-xml": ("InvalidAccessKeyId", 403)},
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def error_code(kind: str, protocol: str) -> tuple[str, int]:
    """The AWS error code and HTTP status a service of ``protocol`` answers for fault ``kind``."""
    return _CODES[kind][protocol]


def seeded(seed: int | str, key: str, probability: float) -> bool:
    """A deterministic coin: True for ``probability`` of keys, the same every run for the same seed."""
    digest = hashlib.sha256(f"{seed}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < probability


@dataclass(frozen=True)
class Call:
    """One HTTP attempt as the proxy understood it."""

    service: str            # boto3 client name (``stepfunctions``, ``s3control``)
    operation: str          # API operation name (``GetBucketPolicy``)
    protocol: str
    region: str
    account: str
    invocation: str         # amz-sdk-invocation-id: the same for every attempt of one call
    attempt: int
    params: str             # the request body / query string, for rules that look at arguments

    @property
    def key(self) -> str:
        """Identity of the call, stable across attempts and runs (not across invocation ids)."""
        return f"{self.account}|{self.region}|{self.service}|{self.operation}|{self.params}"

    @property
    def gap_region(self) -> str | None:
        """The region a gap for this call carries (``None`` for global services)."""
        return None if self.service in GLOBAL_SIGNING else self.region


@dataclass(frozen=True)
class Action:
    """What the proxy does instead of forwarding: ``error``, ``drop`` or ``delay`` (then forward)."""

    kind: str
    code: str | None = None
    status: int = 400
    seconds: float = 0.0
    body: bytes | None = None  # raw body for ``error`` (e.g. an HTML page), else built from the protocol

    @classmethod
    def fault(cls, kind: str, call: Call) -> Action:
        """A protocol-correct error of ``kind`` (see :data:`_CODES`) for ``call``."""
        code, status = error_code(kind, call.protocol)
        return cls("error", code=code, status=status)


Rule = Callable[[Call], "Action | None"]


@dataclass
class Attempt:
    """A logged attempt and what the proxy did with it."""

    call: Call
    outcome: str  # "ok" (forwarded), "error:<code>", "drop", "upstream-drop" (the emulator closed it)
    status: int | None = None


class OperationResolver:
    """Name the AWS operation of a raw HTTP request with botocore's service models."""

    def __init__(self, clients: Iterable[str] = CLIENT_NAMES) -> None:
        import botocore.session

        session = botocore.session.get_session()
        self._models = {name: session.get_service_model(name) for name in clients}
        self._by_target = {m.metadata.get("targetPrefix"): name for name, m in self._models.items()
                           if m.metadata.get("targetPrefix")}
        self._by_signing: dict[str, list[str]] = {}
        for name, model in self._models.items():
            self._by_signing.setdefault(model.signing_name, []).append(name)
        self._rest: dict[str, list[tuple[str, str, re.Pattern, tuple[str, ...], int]]] = {}
        for name, model in self._models.items():
            if model.metadata["protocol"] in ("rest-json", "rest-xml"):
                # S3 Express directory-bucket listing shares ListBuckets' URI on another endpoint
                self._rest[name] = [self._template(model.operation_model(op)) for op in model.operation_names
                                    if op not in ("ListDirectoryBuckets", "CreateSession")]

    @staticmethod
    def _template(op: Any) -> tuple[str, str, re.Pattern, tuple[str, ...], int]:
        uri = op.http["requestUri"]
        path, _, query = uri.partition("?")
        keys = tuple(k.split("=")[0] for k in query.split("&") if k and "{" not in k)
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        pattern = re.sub(r"\\\{[^}]+?\\\+\\\}", "(.+)", re.escape(path))
        pattern = re.sub(r"\\\{[^}]+?\\\}", "([^/]+)", pattern)
        return op.name, op.http["method"], re.compile(f"^{pattern}/?$"), keys, literal

    def protocol(self, service: str) -> str:
        """``query``, ``ec2``, ``json``, ``rest-json`` or ``rest-xml``."""
        return self._models[service].metadata["protocol"]

    def resolve(self, method: str, path: str, query: str, headers: Any, body: bytes,
                signing: str) -> tuple[str, str]:
        """``(client name, operation)`` of one request; ``("?", "?")`` when unknown."""
        target = headers.get("X-Amz-Target")
        if target:
            prefix, _, op = target.rpartition(".")
            return self._by_target.get(prefix, signing), op
        candidates = self._by_signing.get(signing, [signing])
        if signing == "s3":
            candidates = ["s3control"] if path.startswith("/v20180820/") else ["s3"]
        service = candidates[0]
        if service not in self._models:
            return service, "?"
        if self.protocol(service) in ("query", "ec2"):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace") or query)
            return service, (form.get("Action") or ["?"])[0]
        present = set(urllib.parse.parse_qs(query, keep_blank_values=True))
        best: tuple[int, int, str] | None = None
        for name, verb, regex, keys, literal in self._rest[service]:
            if verb != method or not regex.match(urllib.parse.unquote(path)) or not set(keys) <= present:
                continue
            score = (len(keys), literal, name)
            if best is None or score > best:
                best = score
        return service, best[2] if best else "?"


def _error_body(protocol: str, code: str, message: str) -> tuple[bytes, dict[str, str]]:
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>fault-injected</RequestId></ErrorResponse>")
        return body.encode(), {"Content-Type": "text/xml"}
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>fault-injected</RequestID></Response>")
        return body.encode(), {"Content-Type": "text/xml"}
    if protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-injected</RequestId></Error>"
        return body.encode(), {"Content-Type": "application/xml"}
    if protocol == "rest-json":
        return json.dumps({"message": message}).encode(), {"Content-Type": "application/json",
                                                           "x-amzn-ErrorType": code}
    return json.dumps({"__type": code, "message": message}).encode(), {"Content-Type": "application/x-amz-json-1.1"}


@dataclass
class FaultProxy:
    """A forwarding proxy with fault rules; use as a context manager.

    Parameters
    ----------
    upstream : str
        The emulator URL (``http://127.0.0.1:PORT``).
    rules : list of callables
        ``rule(call) -> Action | None``; the first rule returning an action wins.
    """

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._resolver = OperationResolver()
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {"testing": MOTO_DEFAULT_ACCOUNT}
        self._server: ThreadingHTTPServer | None = None
        up = urllib.parse.urlsplit(self.upstream)
        self._up = (up.hostname, up.port)

    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self, rules: list[Rule] | None = None) -> None:
        """Forget logged attempts; install ``rules``."""
        with self._lock:
            self.attempts = []
            self.rules = list(rules or [])

    # -- request handling -------------------------------------------------------------------
    def _identify(self, req: BaseHTTPRequestHandler, body: bytes) -> Call:
        parts = urllib.parse.urlsplit(req.path)
        match = _SCOPE.search(req.headers.get("Authorization", ""))
        key, region, signing = match.groups() if match else ("?", "?", "?")
        service, operation = self._resolver.resolve(req.command, parts.path, parts.query, req.headers, body,
                                                    signing)
        protocol = self._resolver.protocol(service) if service in CLIENT_NAMES else "json"
        attempt = re.search(r"attempt=(\d+)", req.headers.get("amz-sdk-request", ""))
        with self._lock:
            account = self._keys.get(key, "?")
        return Call(service=service, operation=operation, protocol=protocol, region=region, account=account,
                    invocation=req.headers.get("amz-sdk-invocation-id", ""),
                    attempt=int(attempt.group(1)) if attempt else 1,
                    params=(parts.path + "?" + parts.query + "|" + body.decode("utf-8", "replace")))

    def _decide(self, call: Call) -> Action | None:
        for rule in list(self.rules):
            action = rule(call)
            if action is not None:
                return action
        return None

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        call = self._identify(req, body)
        action = self._decide(call)
        if action is not None and action.kind == "delay":
            time.sleep(action.seconds)
            action = None
        if action is not None and action.kind == "drop":
            self._log(Attempt(call, "drop"))
            req.close_connection = True
            with contextlib.suppress(OSError):
                req.connection.shutdown(socket.SHUT_RDWR)
            return
        if action is not None:
            if action.body is not None:
                payload, headers = action.body, {"Content-Type": "text/html"}
            else:
                payload, headers = _error_body(call.protocol, action.code or "InternalFailure",
                                               f"injected by tests/faults.py: {action.code}")
            self._log(Attempt(call, f"error:{action.code}", action.status))
            self._reply(req, action.status, headers, payload)
            return
        try:
            status, headers, payload = self._forward(req, body)
        except (http.client.HTTPException, OSError):
            # the emulator closed the connection without an answer: the client sees the same
            # (a dropped connection, which botocore retries), not a proxy thread's traceback
            self._log(Attempt(call, "upstream-drop"))
            req.close_connection = True
            with contextlib.suppress(OSError):
                req.connection.shutdown(socket.SHUT_RDWR)
            return
        if call.service == "sts" and call.operation == "AssumeRole" and status == 200:
            self._learn_key(call, payload)
        self._log(Attempt(call, "ok", status))
        self._reply(req, status, headers, payload)

    def _forward(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self._up, timeout=120)
        try:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(req.command, req.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            out = {k: v for k, v in resp.getheaders()
                   if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive")}
            return resp.status, out, payload
        finally:
            conn.close()

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (interrupted run)
            req.send_response(status)
            for k, v in headers.items():
                req.send_header(k, v)
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(payload)

    def _learn_key(self, call: Call, payload: bytes) -> None:
        arn = urllib.parse.parse_qs(call.params.split("|", 1)[1]).get("RoleArn", [""])[0]
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", payload)
        if key and arn.count(":") >= 5:
            with self._lock:
                self._keys[key.group(1).decode()] = arn.split(":")[4]

    def _log(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    # -- what happened ----------------------------------------------------------------------
    def calls(self) -> dict[str, list[Attempt]]:
        """Attempts grouped by invocation id, in arrival order."""
        grouped: dict[str, list[Attempt]] = {}
        with self._lock:
            for a in self.attempts:
                grouped.setdefault(a.call.invocation or f"?{id(a)}", []).append(a)
        return grouped

    def failed_calls(self) -> Counter:
        """Multiset of ``(account, region, service, operation, outcome)`` of calls whose last attempt failed.

        ``region`` is ``None`` for global services (as in the collector's gaps); operation
        names are AWS's exact spelling (``DescribeDBClusters``), which the collector's gaps
        must carry too. A failed
        ``sts:AssumeRole`` counts for the account of the role (the account left unread), as
        the collector records it.
        """
        out: Counter = Counter()
        for attempts in self.calls().values():
            last = attempts[-1]
            if last.outcome != "ok":
                c = last.call
                account = c.account
                if (c.service, c.operation) == ("sts", "AssumeRole"):
                    arn = urllib.parse.parse_qs(c.params.split("|", 1)[1]).get("RoleArn", [""])[0]
                    account = arn.split(":")[4] if arn.count(":") >= 5 else account
                out[(account, c.gap_region, c.service, c.operation, last.outcome)] += 1
        return out

    def rescued_calls(self) -> int:
        """Calls that failed at least once and then succeeded on a retry."""
        return sum(1 for atts in self.calls().values()
                   if atts[-1].outcome == "ok" and any(a.outcome != "ok" for a in atts))

    def operations(self) -> set[str]:
        """Every ``service:Operation`` the proxy saw."""
        with self._lock:
            return {f"{a.call.service}:{a.call.operation}" for a in self.attempts}


class MotoProcess:
    """moto's server in a child process on a free port (``with MotoProcess() as url: ...``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}
        self._proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError("moto server exited at start")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                return self.url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("moto server did not start within 60 s")

    def __exit__(self, *exc: Any) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def aws_env(endpoint: str, **extra: str) -> dict[str, str]:
    """A copy of ``os.environ`` pointing boto3 (and subprocesses) at ``endpoint`` with dummy credentials."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
                        "AWS_WEB_IDENTITY_TOKEN_FILE")}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "MOTO_IAM_LOAD_MANAGED_POLICIES": "false", **extra})
    return env


# -- rules --------------------------------------------------------------------------------------
class SeededFault:
    """Fail a seeded fraction of calls with ``kind`` (never the same call twice in one run).

    The coin is keyed by ``(account name, region, service, operation, n)`` where ``n`` counts
    the calls of that operation in that account, region and service: the collector runs one
    service of one account and region sequentially, so the same seed picks the same calls on
    every run even though generated ids (account ids, key ids) differ between builds.

    Parameters
    ----------
    seed : int
    probability : float
    kind : str
        A key of the error table (``access_denied``, ``throttling``, ``internal``).
    names : dict
        account id -> stable name (``management``, ``production``, ``synthetic``).
    spare : callable, optional
        ``spare(call) -> bool``: calls never failed (e.g. the organization bootstrap).
    attempts : int
        With a retryable ``kind``: fail only the first ``attempts`` attempts of a picked call
        (0 = every attempt).
    """

    def __init__(self, seed: int, probability: float, kind: str, names: dict[str, str], *,
                 spare: Callable[[Call], bool] | None = None, attempts: int = 0) -> None:
        self.seed, self.probability, self.kind, self.names = seed, probability, kind, names
        self.spare, self.attempts = spare, attempts
        self._lock = threading.Lock()
        self._picked: dict[str, bool] = {}
        self._counts: Counter = Counter()

    def __call__(self, call: Call) -> Action | None:
        if self.spare is not None and self.spare(call):
            return None
        with self._lock:
            picked = self._picked.get(call.invocation)
            if picked is None:
                base = (self.names.get(call.account, call.account), call.region, call.service, call.operation)
                n = self._counts[base]
                self._counts[base] += 1
                picked = seeded(self.seed, "|".join(map(str, (*base, n))), self.probability)
                self._picked[call.invocation] = picked
        if not picked or (self.attempts and call.attempt > self.attempts):
            return None
        return Action.fault(self.kind, call)


def on(service: str | None = None, operation: str | None = None, *, region: str | None = None,
       account: str | None = None, action: Callable[[Call], Action]) -> Rule:
    """A rule for every call matching the given fields (``None`` = any)."""
    def rule(call: Call) -> Action | None:
        if service is not None and call.service != service:
            return None
        if operation is not None and call.operation != operation:
            return None
        if region is not None and call.region != region:
            return None
        if account is not None and call.account != account:
            return None
        return action(call)
    return rule


#: error codes botocore reports for a connection closed without an answer
CONNECTION_CODES = frozenset({"ConnectionClosedError", "ReadTimeoutError", "EndpointConnectionError",
                              "ProtocolError", "ConnectTimeoutError"})


def gap_counter(gaps: Iterable[Any]) -> Counter:
    """The gaps of a snapshot in :meth:`FaultProxy.failed_calls` shape."""
    out: Counter = Counter()
    for g in gaps:
        outcome = "drop" if g.error_code in CONNECTION_CODES else f"error:{g.error_code}"
        out[(g.account, g.region, g.service, g.api, outcome)] += 1
    return out


def hold(in_flight: threading.Event, seconds: float) -> Callable[[Call], Action]:
    """A rule action that sets ``in_flight`` (the proxy asks before it waits) and holds the call."""
    def action(call: Call) -> Action:
        in_flight.set()
        return Action("delay", seconds=seconds)
    return action


#: A command prefix that starts the program with SIGINT at its default disposition, then execs it
#: in the same process (so a signal sent to the Popen's pid reaches it). A shell without job control
#: starts background jobs with SIGINT ignored; a child inherits that, Python then installs no
#: KeyboardInterrupt handler, and the Ctrl-C a user would press could not be tested.
SIGINT_DEFAULT = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execv(sys.argv[1], sys.argv[1:])"]


def interrupt(proc: subprocess.Popen, sig: int, *, timeout: float = 60.0) -> tuple[str, float]:
    """Send ``sig`` to ``proc``; return its stderr and the seconds it took to exit.

    Raises ``TimeoutError`` (after killing it) when it is still running after ``timeout``.
    """
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise TimeoutError(f"still running {timeout:.0f} s after signal {sig}") from None
    return err, time.monotonic() - sent


# -- one demo organization per test process ---------------------------------------------------
@dataclass
class DemoServer:
    """A moto child process holding the Meridian Health demo organization."""

    url: str
    org: Any
    names: dict[str, str]
    env: dict[str, str]
    _moto: MotoProcess | None = None


_DEMO: dict[str, Any] = {}
_DEMO_LOCK = threading.Lock()


def demo_server() -> DemoServer:
    """Start (once per process) a moto child process and build the demo organization in it.

    The server is stopped when the process exits. Building it takes 5–20 s depending on load.
    """
    import atexit

    with _DEMO_LOCK:
        if "server" in _DEMO:
            return _DEMO["server"]
        moto = MotoProcess()
        url = moto.__enter__()
        atexit.register(moto.__exit__, None, None, None)
        env = aws_env(url)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            from iamreach.demo.org import build_demo_org

            org = build_demo_org(endpoint_url=url)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        names = {org.management: "management", org.production: "production", org.synthetic: "synthetic"}
        _DEMO["server"] = DemoServer(url=url, org=org, names=names, env=env, _moto=moto)
        return _DEMO["server"]


#: recognizable credential values the clean collect runs with (must never appear in any output)
CANARY_SECRET = "CANARYsecretKEY0123456789abcdefghijklmnopq"
CANARY_TOKEN = "CANARYsessionTOKEN-FwoGZXIvYXdzEJr-never-store-me"


@dataclass
class CleanCollect:
    """The demo organization collected once through a proxy that injects nothing."""

    path: str
    server: DemoServer
    operations: set[str]
    stderr: str
    returncode: int


def clean_collect(directory: str) -> CleanCollect:
    """Collect the demo organization once per process (``--org``) with canary credentials in the env."""
    with _DEMO_LOCK:
        if "clean" in _DEMO:
            return _DEMO["clean"]
    server = demo_server()
    path = os.path.join(directory, "demo.json.gz")
    with FaultProxy(server.url) as proxy:
        env = aws_env(proxy.url, AWS_SECRET_ACCESS_KEY=CANARY_SECRET, AWS_SESSION_TOKEN=CANARY_TOKEN)
        proc = subprocess.run([sys.executable, "-m", "iamreach", "collect", "--org", "--quiet", "-o", path],
                              env=env, capture_output=True, text=True, timeout=600)
        ops = proxy.operations()
    result = CleanCollect(path=path, server=server, operations=ops, stderr=proc.stderr, returncode=proc.returncode)
    with _DEMO_LOCK:
        _DEMO["clean"] = result
    return result
