"""The built book, opened in a real browser: headless Chromium, offline, driven over the DevTools protocol.

The session fixture `built_book` (tests/conftest.py) builds the book with warnings as errors. This
module serves that HTML folder on 127.0.0.1 (an ephemeral port, `http.server` in a thread), starts
Debian's `chromium` headless with every host except 127.0.0.1 unresolvable, and for every page in
`_toc.yml` evaluates JavaScript *in the page* to check that

- MathJax (vendored in book/_vendor/mathjax, no CDN) rendered every math element, with no TeX error
  and no raw `$$` left in the text;
- every <img> loaded (`complete && naturalWidth > 0`);
- the page requested nothing from outside 127.0.0.1, nothing failed to load, no script threw;

and on chapter 02 it moves the sliders of the optimal-discriminator explorer and checks that the
canvas and the numbers shown change to the ones ganlib computes.

Separately, every internal link of every HTML page (a/link href, script/img src, the root
redirect; `#fragment` included) is resolved against the files of the HTML folder in Python.

Screenshots of the front page and of chapter 01 are written to `_build/screenshots/`.

Chromium: `scripts/test.sh` installs Debian's `chromium` when no Chromium/Chrome is on the PATH
(as root, where apt-get exists); set CHROMIUM=/path/to/chrome to use another binary. The browser is
driven with a small DevTools-protocol client over a WebSocket written with the standard library
below, so no Python package and no chromedriver is needed.
"""
from __future__ import annotations

import base64
import functools
import html.parser
import http.server
import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Flags this project's machines need (no sandbox as root, no GPU, no background traffic to Google),
# and a resolver that makes every host but 127.0.0.1 unreachable: the book must work offline.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
WIDTH = 1280
TIMEOUT = 60.0


def toc_pages() -> list[str]:
    """Every page of _toc.yml: the root, the chapters and their sections (the API reference's modules)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())

    def files(entries):
        for entry in entries:
            yield entry["file"]
            yield from files(entry.get("sections", []))

    return [f"{f}.html" for f in [toc["root"]] + [f for part in toc["parts"] for f in files(part["chapters"])]]


# --------------------------------------------------------------------------------------------------
# A minimal WebSocket client (RFC 6455) and Chrome DevTools protocol session, standard library only.


class DevTools:
    """One WebSocket connection to a DevTools target: `call` a method, collect the events."""

    def __init__(self, ws_url: str, timeout: float = TIMEOUT):
        url = urllib.parse.urlsplit(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        # No Origin header: Chromium refuses DevTools WebSockets from origins it was not told about.
        request = (
            f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the WebSocket handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"WebSocket handshake refused: {head.decode(errors='replace')}")
        self.next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        try:
            self._send(b"", opcode=0x8)
        except OSError:
            pass
        self.sock.close()

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        # Clients must mask every frame (RFC 6455, 5.3): XOR with the key repeated.
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        self.sock.sendall(header + mask + masked)

    def _message(self) -> dict:
        data = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:  # ping
                self._send(payload, opcode=0xA)
                continue
            if opcode == 0xA:  # pong
                continue
            data += payload
            if b0 & 0x80:  # FIN: the message is complete
                return json.loads(data)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self._send(json.dumps({"id": my_id, "method": method, "params": params}).encode())
        while True:
            msg = self._message()
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.events):
                if msg["method"] == event:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            msg = self._message()
            if "method" in msg:
                self.events.append(msg)


def find_browser() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


# --------------------------------------------------------------------------------------------------
# Fixtures: the HTTP server, the browser, and every page's in-browser report.


@pytest.fixture(scope="module")
def server(built_book):
    """Serve the built HTML on 127.0.0.1 at an ephemeral port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_book)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with remote debugging on an ephemeral port; yields a DevTools session on its tab."""
    exe = find_browser()
    if exe is None:
        pytest.fail(
            "no Chromium/Chrome on the PATH: `bash scripts/test.sh` installs Debian's chromium "
            "(as root, where apt-get exists), or set CHROMIUM=/path/to/chrome"
        )
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = open(profile.parent / "chromium.log", "wb")
    proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"], stdout=log, stderr=log)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"{exe} did not start:\n{(profile.parent / 'chromium.log').read_text()[-3000:]}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page")
        session = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Network", "Runtime"):
            session.call(f"{domain}.enable")
        yield session
        session.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# Runs in the page once it has loaded: waits for MathJax to finish and every image to settle, then
# reports what a reader would see.
CHECK_JS = r"""
(async () => {
  if (document.readyState !== "complete") {
    await new Promise((resolve) => window.addEventListener("load", resolve, { once: true }));
  }
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;
  for (const img of document.images) if (img.loading === "lazy") img.loading = "eager";
  await Promise.all([...document.images].map((img) => img.complete ? null : new Promise((resolve) => {
    img.addEventListener("load", resolve, { once: true });
    img.addEventListener("error", resolve, { once: true });
  })));
  const text = document.body.cloneNode(true);
  text.querySelectorAll("pre, code, script, style, textarea, mjx-container").forEach((e) => e.remove());
  return {
    url: location.href,
    title: document.title,
    mathjax: mj && mj.version ? mj.version : null,
    mathjaxScripts: [...document.scripts].filter((s) => /mathjax/i.test(s.src)).map((s) => s.src),
    mathElements: document.querySelectorAll(".math").length,
    rendered: document.querySelectorAll("mjx-container").length,
    unrendered: [...document.querySelectorAll(".math")].filter((e) => !e.querySelector("mjx-container"))
      .map((e) => e.textContent.slice(0, 120)),
    texErrors: [...document.querySelectorAll("[data-mjx-error], mjx-merror, [data-mml-node='merror']")]
      .map((e) => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 120)),
    rawDollars: text.textContent.includes("$$"),
    images: [...document.images].map((img) => ({
      src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0, width: img.naturalWidth,
    })),
    height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
    firstFigureBottom: (() => {
      const img = [...document.querySelectorAll("main img, article img")]
        .find((i) => i.naturalWidth > 100 && i.getBoundingClientRect().height > 50);  // visible, not an icon
      return img ? Math.ceil(img.getBoundingClientRect().bottom + window.scrollY) : null;
    })(),
  };
})()
"""


def open_page(session: DevTools, url: str) -> dict:
    """Navigate, wait for load, run CHECK_JS; attach the network/JS trouble seen on the way."""
    session.events.clear()
    session.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=900, deviceScaleFactor=1, mobile=False)
    nav = session.call("Page.navigate", url=url)
    assert not nav.get("errorText"), f"{url}: {nav['errorText']}"
    session.wait_for("Page.loadEventFired")
    res = session.call("Runtime.evaluate", expression=CHECK_JS, awaitPromise=True, returnByValue=True, timeout=TIMEOUT * 1000)
    assert "exceptionDetails" not in res, f"{url}: the check script failed: {res['exceptionDetails']}"
    report = res["result"]["value"]
    time.sleep(0.2)  # let late network events arrive
    try:
        session.call("Runtime.evaluate", expression="1")  # drains pending events into session.events
    except RuntimeError:
        pass
    external, failed, thrown = [], [], []
    for ev in session.events:
        p = ev.get("params", {})
        if ev["method"] == "Network.requestWillBeSent":
            req = urllib.parse.urlsplit(p["request"]["url"])
            if req.scheme in ("http", "https", "ws", "wss") and req.hostname != "127.0.0.1":
                external.append(p["request"]["url"])
        elif ev["method"] == "Network.loadingFailed" and not p.get("canceled"):
            failed.append(f"{p.get('type')}: {p.get('errorText')}")
        elif ev["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
            if urllib.parse.urlsplit(p["response"]["url"]).path == "/favicon.ico":
                continue  # the browser's own guess, not a request of the page (the book has no favicon)
            failed.append(f"{p['response']['status']} {p['response']['url']}")
        elif ev["method"] == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            thrown.append(d.get("exception", {}).get("description") or d.get("text"))
    report.update(external=external, failed=failed, thrown=thrown)
    return report


def screenshot(session: DevTools, path: pathlib.Path, height: int) -> None:
    session.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False)
    time.sleep(0.3)  # one layout pass at the new size
    shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    session.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=900, deviceScaleFactor=1, mobile=False)


@pytest.fixture(scope="module")
def reports(server, browser):
    """Open every _toc.yml page in Chromium; screenshot the front page and chapter 01."""
    out = {}
    for page in toc_pages():
        out[page] = open_page(browser, urllib.parse.urljoin(server, page))
        if page == toc_pages()[0]:
            screenshot(browser, SCREENSHOTS / "front.png", 900)
        elif page.startswith("notebooks/01_"):
            # From the top down to the chapter's first figure: displayed math, code, outputs, a plot.
            bottom = out[page]["firstFigureBottom"] or 3000
            screenshot(browser, SCREENSHOTS / "chapter01.png", min(bottom + 60, out[page]["height"], 8000))
    return out


# --------------------------------------------------------------------------------------------------
# The checks in the browser.


@pytest.mark.parametrize("page", toc_pages())
def test_page_renders_offline_in_chromium(reports, page):
    r = reports[page]
    assert r["url"].endswith(page), f"{page} was redirected to {r['url']}"
    assert not r["external"], f"{page} requested hosts other than 127.0.0.1 (the book must work offline): {r['external']}"
    assert not r["failed"], f"{page}: requests failed: {r['failed']}"
    assert not r["thrown"], f"{page}: uncaught JavaScript errors: {r['thrown']}"


@pytest.mark.parametrize("page", toc_pages())
def test_math_is_rendered_by_mathjax(reports, page):
    r = reports[page]
    assert not r["rawDollars"], f"{page}: raw $$ left in the rendered text"
    if r["mathElements"] == 0:
        return
    assert r["mathjax"], f"{page} has math but MathJax did not load (scripts: {r['mathjaxScripts']})"
    assert len(r["mathjaxScripts"]) == 1, f"{page} loads MathJax {len(r['mathjaxScripts'])} times: {r['mathjaxScripts']}"
    assert r["rendered"] >= r["mathElements"], f"{page}: {r['rendered']} of {r['mathElements']} math elements rendered"
    assert not r["unrendered"], f"{page}: math left as TeX source: {r['unrendered'][:5]}"
    assert not r["texErrors"], f"{page}: MathJax reported TeX errors: {r['texErrors'][:5]}"


@pytest.mark.parametrize("page", toc_pages())
def test_every_image_loads(reports, page):
    broken = [img["src"] for img in reports[page]["images"] if not img["ok"]]
    assert not broken, f"{page}: images that did not load (naturalWidth 0): {broken}"


def test_pages_with_math_and_figures_were_checked(reports):
    """Guard against a vacuous pass: the front page and chapter 01 do have math, chapter 01 figures."""
    front, ch1 = reports[toc_pages()[0]], next(r for p, r in reports.items() if p.startswith("notebooks/01_"))
    assert front["rendered"] > 0 and ch1["rendered"] > 10
    assert sum(img["ok"] and img["width"] > 100 for img in ch1["images"]) >= 2
    assert "3." in str(ch1["mathjax"]), f"expected the vendored MathJax 3, got {ch1['mathjax']}"


def test_screenshots_written(reports):
    for name in ("front.png", "chapter01.png"):
        png = SCREENSHOTS / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} missing or not a PNG"
        assert png.stat().st_size > 20_000, f"{png} is suspiciously small (blank page?)"


EXPLORER_JS = """
(() => {
  const root = document.querySelector(".gan-explorer");
  if (!root) return {found: false};
  const cv = root.querySelector("canvas"), out = root.querySelector(".gan-explorer-readout");
  const state = () => ({text: out.textContent, pixels: cv.toDataURL(), frame: root.dataset.frame});
  const move = (cls, value) => {
    const el = root.querySelector(".gan-explorer-" + cls);
    el.value = String(value);
    el.dispatchEvent(new Event("input"));
  };
  const before = state();
  move("mean", %(mean)d); move("std", %(std)d);
  const after = state();
  return {found: true, before, after};
})()
"""


def test_the_discriminator_explorer_moves_without_a_kernel(server, browser):
    """Chapter 02's explorer on the static page: moving both sliders redraws the canvas and shows
    the numbers ganlib computes for that p_g (p_g = p_data: C(G) = -log 4, JSD = 0)."""
    from ganlib.data import toy
    from ganlib.viz import explorer

    means, stds = [round(-3.0 + 0.25 * i, 2) for i in range(25)], [0.3, 0.5, 0.7, 1.0, 1.5, 2.5]
    i, j = means.index(0.0), stds.index(1.0)
    page = next(p for p in toc_pages() if p.startswith("notebooks/02_"))
    open_page(browser, urllib.parse.urljoin(server, page))
    res = browser.call("Runtime.evaluate", expression=EXPLORER_JS % {"mean": i, "std": j}, returnByValue=True)
    r = res["result"]["value"]
    assert r["found"], f"{page}: no explorer (.gan-explorer) on the page"
    assert r["before"]["text"] != r["after"]["text"] and r["before"]["pixels"] != r["after"]["pixels"]
    assert r["after"]["frame"] == f"{i},{j}"
    expected = explorer.discriminator_frames([0.0], [1.0], data=toy.gaussian_1d(0.0, 1.0), n_plot=121)
    assert r["after"]["text"] == expected["frames"][0][0]["label"]
    assert "C(G) = V(G, D*) = -1.386" in r["after"]["text"] and "JSD = 0.000" in r["after"]["text"]


# --------------------------------------------------------------------------------------------------
# Internal links, over every HTML file (no browser needed).


class _Links(html.parser.HTMLParser):
    ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src", "iframe": "src"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag in self.ATTRS and a.get(self.ATTRS[tag]):
            self.links.append((tag, a[self.ATTRS[tag]]))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh" and "url=" in (a.get("content") or "").lower():
            self.links.append(("meta", a["content"].split("=", 1)[1].strip()))


def _parse(path: pathlib.Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def test_every_internal_link_resolves(built_book):
    html_root = built_book.resolve()
    # _static/ holds theme templates (Jinja, not pages): skip it.
    pages = sorted(p for p in html_root.rglob("*.html") if "_static" not in p.relative_to(html_root).parts)
    assert len(pages) >= len(toc_pages())
    parsed = {p: _parse(p) for p in pages}
    problems, checked = [], 0
    for page, links in parsed.items():
        for tag, raw in links.links:
            url = urllib.parse.urlsplit(raw)
            if url.scheme or url.netloc:  # external (http:, https:, mailto:, data:, javascript:, //host)
                continue
            checked += 1
            rel = page.relative_to(html_root).as_posix()
            if url.path:
                target = (page.parent / urllib.parse.unquote(url.path)).resolve()
                if url.path.endswith("/") or target.is_dir():
                    target = target / "index.html"
            else:
                target = page
            if html_root not in target.parents or not target.is_file():
                problems.append(f"{rel}: <{tag}> {raw} -> no such file")
            elif tag == "a" and url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    problems.append(f"{rel}: <a> {raw} -> no id {url.fragment!r} in {target.name}")
    assert checked > 100, f"only {checked} internal links found: is the HTML folder complete?"
    assert not problems, "broken internal links:\n" + "\n".join(problems[:40])
