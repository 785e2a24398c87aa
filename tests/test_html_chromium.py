"""The interactive HTML page, loaded and driven in headless Debian Chromium.

Chromium is driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so no extra Python package
is needed. Clicks are real mouse events dispatched at the element's position on screen.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_render_graphs import BUCKET, EC2, HOSTILE, LAMBDA, PROD_ROLE, SECRET, contract_graph

from iamreach.formatters.html import render_html, write_html

pytestmark = pytest.mark.xdist_group("chromium")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class CDP:
    """A tiny Chrome DevTools Protocol client over the debugging pipe of a headless Chromium."""

    def __init__(self, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: its fd 3 reads our commands, fd 4 answers
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--window-size=1400,900", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=wire_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the debugging pipe")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, *, browser: bool = False, timeout: float = 20) -> dict:
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open(self, url: str) -> None:
        if getattr(self, "target", None):
            self.send("Target.closeTarget", {"targetId": self.target}, browser=True)
        self.target = target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 browser=True)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.body && document.body.getAttribute('data-ready') === '1'")

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {expression}")

    def click_selector(self, selector: str) -> None:
        box = self.js(f"(function(){{var r=document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                      "return [r.left + r.width/2, r.top + r.height/2];})()")
        self.click(*box)

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "clickCount": 1})

    def screenshot(self, path: Path) -> None:
        import base64
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True, timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._r)
        os.close(self._w)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("Debian chromium is missing: apt-get install -y chromium chromium-driver")
    cdp = CDP(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield cdp
    finally:
        cdp.close()


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    G = contract_graph()
    out = tmp_path_factory.mktemp("page") / "graph.html"
    write_html(out, G, title=f"demo {HOSTILE}",
               tables=[("findings", [{"id": "IAMR-001", "resource": HOSTILE, "message": "<b>x</b>"}])])
    return G, out


@pytest.fixture
def page(browser, page_file):
    """A fresh tab on the contract-graph page for every test."""
    G, out = page_file
    browser.events.clear()
    browser.open(out.as_uri())
    return browser, G, out


def _node_id(cdp: CDP, arn: str) -> str:
    return cdp.js(f"JSON.parse(document.getElementById('iamreach-data').textContent).nodes"
                  f".find(function(n){{return n.arn === {json.dumps(arn)};}}).id")


def test_page_is_self_contained(page):
    _cdp, _G, out = page
    text = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(http" not in text
    assert out.stat().st_mode & 0o777 == 0o600
    # exactly two script blocks: the JSON data and our own script
    assert text.count("<script") == 2


def test_hostile_names_are_text_and_no_script_runs(page):
    cdp, _G, _out = page
    assert cdp.js("document.scripts.length") == 2
    assert cdp.js("document.title") == f"demo {HOSTILE}"
    assert cdp.js("document.querySelector('#tables td:nth-child(3)').textContent") == "<b>x</b>"
    assert not [e for e in cdp.events if e.get("method") == "Page.javascriptDialogOpening"]
    nid = _node_id(cdp, PROD_ROLE)
    cdp.click_selector(f"g#{nid} text")
    cdp.wait_for(f"document.getElementById('details').getAttribute('data-node') === '{nid}'")
    assert cdp.js("document.querySelector('#details h2').textContent") == PROD_ROLE
    assert cdp.js("document.querySelectorAll('#details script, #details b').length") == 0
    assert not [e for e in cdp.events if e.get("method") == "Page.javascriptDialogOpening"]


def test_click_node_shows_attributes_and_policies(page):
    cdp, _G, _out = page
    nid = _node_id(cdp, PROD_ROLE)
    cdp.click_selector(f"g#{nid} text")
    cdp.wait_for(f"document.getElementById('details').getAttribute('data-node') === '{nid}'")
    details = cdp.js("document.getElementById('details').textContent")
    assert "111122223333" in details and "production" in details
    assert f"tag Owner{HOSTILE}" in details
    assert "inline_policies" in details and '"Sid": "ReadPhi"' in details
    assert "trust_policy" in details and "sts:AssumeRole" in details
    assert cdp.js(f"document.getElementById('{nid}').classList.contains('sel')")


def test_click_edge_shows_evidence(page):
    cdp, _G, _out = page
    eid = cdp.js("JSON.parse(document.getElementById('iamreach-data').textContent).edges"
                 ".find(function(e){return e.kind === 'can_connect';}).id")
    cdp.click_selector(f"g#{eid} text")
    cdp.wait_for(f"document.getElementById('details').getAttribute('data-edge') === '{eid}'")
    details = cdp.js("document.getElementById('details').textContent")
    assert "tcp/5432" in details and "sg_rule" in details and EC2 in details


def test_highlight_paths_between_two_nodes_and_filter(page, tmp_path):
    cdp, G, _out = page
    src, dst = _node_id(cdp, LAMBDA), _node_id(cdp, BUCKET)
    cdp.js(f"document.getElementById('from').value = '{src}'; document.getElementById('to').value = '{dst}'")
    cdp.click_selector("#highlight")
    cdp.wait_for("document.querySelector('#canvas svg').classList.contains('hl-mode')")
    lit = set(cdp.js("Array.prototype.map.call(document.querySelectorAll('#canvas svg .hl'),"
                     "function(x){return x.id;})"))
    doc_nodes = {_node_id(cdp, a) for a in (LAMBDA, BUCKET, PROD_ROLE,
                                             "arn:aws:iam::222233334444:role/synthetic-lambda")}
    assert doc_nodes <= lit
    assert _node_id(cdp, SECRET) not in lit and _node_id(cdp, EC2) not in lit
    assert sum(1 for x in lit if x.startswith("e")) == 3
    assert "3 edge(s) on paths" in cdp.js("document.getElementById('status').textContent")
    shot = tmp_path / "highlight.png"
    cdp.screenshot(shot)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    # switching can_assume off breaks the only path
    cdp.click_selector("#kinds input[data-kind='can_assume']")
    cdp.wait_for("document.getElementById('status').textContent.indexOf('no path') === 0")
    hidden = cdp.js("Array.prototype.map.call(document.querySelectorAll('g.edge.kind-off'),"
                    "function(x){return x.id;})")
    assert len(hidden) == 1
    assert cdp.js(f"getComputedStyle(document.getElementById('{hidden[0]}')).display") == "none"
    cdp.click_selector("#kinds input[data-kind='can_assume']")
    cdp.wait_for("document.getElementById('status').textContent.indexOf('3 edge') === 0")
    cdp.click_selector("#clear")
    assert not cdp.js("document.querySelector('#canvas svg').classList.contains('hl-mode')")


def test_zoom_and_pan_move_the_view(page):
    cdp, _G, _out = page
    before = cdp.js("document.querySelector('#canvas svg').getAttribute('viewBox')")
    cdp.click_selector("#zoom-in")
    zoomed = cdp.js("document.querySelector('#canvas svg').getAttribute('viewBox')")
    assert float(zoomed.split()[2]) < float(before.split()[2])
    cdp.send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": 600, "y": 400, "deltaX": 0, "deltaY": 100})
    cdp.wait_for(f"document.querySelector('#canvas svg').getAttribute('viewBox') !== {json.dumps(zoomed)}")
    wheeled = cdp.js("document.querySelector('#canvas svg').getAttribute('viewBox')")
    for kind, x in (("mousePressed", 300), ("mouseMoved", 400), ("mouseReleased", 400)):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": 300, "button": "left", "clickCount": 1})
    panned = cdp.js("document.querySelector('#canvas svg').getAttribute('viewBox')")
    assert float(panned.split()[0]) < float(wheeled.split()[0])
    cdp.click_selector("#zoom-fit")
    fitted = cdp.js("document.querySelector('#canvas svg').getAttribute('viewBox')")
    assert [float(x) for x in fitted.split()] == pytest.approx([float(x) for x in before.split()], abs=0.01)


def test_overview_page_loads(browser, tmp_path):
    from test_render_graphs import big_graph

    out = tmp_path / "big.html"
    out.write_text(render_html(big_graph(2000), title="big"))
    browser.open(out.as_uri())
    assert browser.js("document.querySelectorAll('#canvas g.node').length") == 30
    browser.click_selector("#canvas g.node text")
    browser.wait_for("document.getElementById('details').hasAttribute('data-node')")
    assert "members" in browser.js("document.getElementById('details').textContent")
