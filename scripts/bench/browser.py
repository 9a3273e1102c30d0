"""The `browser` row of `make bench` (issue 19): 50 JavaScript pages from nginx captured
with `exhibit capture --browser`, against headless Chromium alone loading the same 50
pages from the same nginx the way Exhibit's job does — one Chromium, a fresh browser
context and tab per page, four pages at once, over the DevTools pipe — with its own
network (the physical floor of browser capture: Exhibit adds the interception, the
engine, the records, a scroll round and its settle time, the PNG, the PDF and the seal).
The same Chromium loading one page at a time is measured too and reported beside it.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

from common import BenchError, fresh_dir, median, peak_rss_mib
from exhibit import check_summary, drop_workspace
from report import Row

PAGES = 50
CHROMIUM = os.environ.get("EXHIBIT_CHROMIUM") or "/usr/bin/chromium"
# The settle time Exhibit waits after the last request; Chromium alone waits as long
# once the script has written its text (docs/capture.md, "Browser capture").
WAIT = 0.25
# Pages Exhibit loads at once with the bench's --concurrency 8 (CaptureRun.pagesAtOnce):
# Chromium alone gets as many, so the floor is measured in the same shape.
TABS = 4

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>JS page {n}</title>
<link rel="stylesheet" href="site.css"></head>
<body><h1>JS page {n}</h1><p id="out">loading</p>
<script src="app.js"></script>
<script>render("data-{n:02d}.json");</script>
</body></html>
"""

APP = """function render(url) {
  fetch(url).then(r => r.json()).then(d => {
    const out = document.getElementById("out");
    out.textContent = d.text;
    for (const item of d.items) { const p = document.createElement("p"); p.textContent = item; document.body.appendChild(p); }
  });
}
"""


def write_pages(www):
    """50 pages, each built by a shared script from its own JSON; regenerated every run."""
    folder = fresh_dir(www / "js")
    (folder / "app.js").write_text(APP)
    (folder / "site.css").write_text("body { font: 16px sans-serif; margin: 2em; } p { line-height: 1.5; }\n")
    for n in range(PAGES):
        (folder / f"p{n:02d}.html").write_text(PAGE.format(n=n))
        data = {"text": f"Page {n} written by script; call +1 202 555 01{n:02d}.",
                "items": [f"Item {n}.{i}: " + "lorem ipsum dolor sit amet " * 8 for i in range(20)]}
        (folder / f"data-{n:02d}.json").write_text(json.dumps(data))
    return [f"/js/p{n:02d}.html" for n in range(PAGES)]


class DevToolsPipe:
    """Chromium's --remote-debugging-pipe: NUL-terminated JSON, commands on its fd 3, replies on 4."""

    def __init__(self, profile):
        to_child, self.write_fd = os.pipe()
        self.read_fd, from_child = os.pipe()

        def fds():
            # Moved above 10 first, so that neither dup2 clobbers the other's source.
            high_in, high_out = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)
        # The switches Exhibit's job gives Chromium (BrowserSession), less those that take
        # its network away (proxy, host resolver, WebRTC): the same window, features and
        # background work, so that only the capture's own work differs.
        cmd = [CHROMIUM, "--headless=new", "--remote-debugging-pipe", "--disable-gpu", "--no-first-run",
               "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-pings",
               "--disable-domain-reliability", "--disable-breakpad", "--disk-cache-size=1",
               "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,IsolateOrigins,"
               "site-per-process,BackForwardCache,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,"
               "SpareRendererForSitePerProcess",
               "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1", "--window-size=1280,800",
               f"--user-data-dir={profile}", "about:blank"]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     close_fds=False, preexec_fn=fds)
        os.close(to_child)
        os.close(from_child)
        self.buffer, self.next_id = b"", 0

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline):
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise BenchError("headless Chromium did not answer in time.")
            if select.select([self.read_fd], [], [], 0.5)[0]:
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    raise BenchError("headless Chromium exited during the bench.")
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method, params=None, session=None, deadline=None):
        wanted = self.send(method, params, session)
        deadline = deadline or time.monotonic() + 30
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BenchError(f"headless Chromium refused {method}: {message['error']}")
                return message.get("result", {})

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self.write_fd)
        os.close(self.read_fd)


def _load_page(base, n, path):
    """One page as Chromium alone loads it (a generator of DevTools steps, so several run at
    once): a fresh browser context and tab, navigate, poll until the script's text is in
    the DOM, the settle time, the DOM read, the context disposed of."""
    context = (yield "Target.createBrowserContext", {"disposeOnDetach": True}, None)["browserContextId"]
    target = (yield "Target.createTarget", {"url": "about:blank", "browserContextId": context}, None)["targetId"]
    session = (yield "Target.attachToTarget", {"targetId": target, "flatten": True}, None)["sessionId"]
    yield "Page.navigate", {"url": base + path}, session
    deadline = time.monotonic() + 30
    probe = "document.getElementById('out') ? document.getElementById('out').textContent : ''"
    while f"Page {n} written by script" not in (yield "Runtime.evaluate", {"expression": probe, "returnByValue": True},
                                                       session)["result"].get("value", ""):
        if time.monotonic() > deadline:
            raise BenchError(f"headless Chromium did not run the script of page {n} within 30 s.")
        yield "sleep", 0.01, None
    yield "sleep", WAIT, None
    yield "Runtime.evaluate", {"expression": "document.documentElement.outerHTML", "returnByValue": True}, session
    yield "Target.disposeBrowserContext", {"browserContextId": context}, None


def chromium_alone(ctx, paths, tabs):
    """Seconds for one headless Chromium to load every page, `tabs` pages at once (the shape
    of Exhibit's job: one Chromium, a fresh browser context and tab per page)."""
    profile = fresh_dir(ctx.scratch / "chromium-profile")
    start = time.perf_counter()
    browser = DevToolsPipe(profile)
    try:
        todo = list(enumerate(paths))
        waiting, sleeping = {}, []   # command id -> page; (wake time, page)

        def advance(page, value):
            try:
                method, params, session = page.send(value)
            except StopIteration:
                return False
            if method == "sleep":
                sleeping.append((time.monotonic() + params, page))
            else:
                waiting[browser.send(method, params, session)] = page
            return True

        def fill():
            while todo and len(waiting) + len(sleeping) < tabs:
                n, path = todo.pop(0)
                advance(_load_page(ctx.base, n, path), None)

        fill()
        while waiting or sleeping:
            now = time.monotonic()
            for item in [s for s in sleeping if s[0] <= now]:
                sleeping.remove(item)
                if not advance(item[1], None):
                    fill()
            if not waiting:
                time.sleep(0.002)
                continue
            if b"\0" not in browser.buffer and not select.select([browser.read_fd], [], [], 0.002)[0]:
                continue
            message = browser.receive(time.monotonic() + 30)
            page = waiting.pop(message.get("id"), None)
            if page is None:
                continue
            if "error" in message:
                raise BenchError(f"headless Chromium refused a command: {message['error']}")
            if not advance(page, message.get("result", {})):
                fill()
    finally:
        browser.close()
    seconds = time.perf_counter() - start
    shutil.rmtree(profile, ignore_errors=True)
    return seconds


def bench_browser(ctx):
    if not os.access(CHROMIUM, os.X_OK):
        ctx.results.rows.append(Row("browser", "exhibit ÷ chromium seconds", "-", "chromium not installed", None, 1.5,
                                    higher_is_better=False))
        return
    paths = write_pages(ctx.www)
    urls = ctx.url_list("js", paths)
    ex_times, ch_times, seq_times, rss = [], [], [], []
    for i in range(ctx.settings.runs):
        ws, case = ctx.exhibit.new_case(ctx.scratch)
        cmd = ctx.exhibit.capture_cmd(ws, case, urls) + ["--browser", "--wait", str(WAIT)]
        start = time.perf_counter()
        rss.append(peak_rss_mib(cmd, scratch=ctx.scratch, stdout_path=ctx.scratch / "browser.out", what="exhibit capture --browser"))
        ex_times.append(time.perf_counter() - start)
        check_summary(ctx.scratch / "browser.out", PAGES)
        drop_workspace(ws)
        ch_times.append(chromium_alone(ctx, paths, TABS))
        seq_times.append(chromium_alone(ctx, paths, 1))
        print(f"bench:    run {i + 1}: exhibit --browser {ex_times[-1]:.1f} s, chromium alone {ch_times[-1]:.1f} s "
              f"({TABS} tabs), {seq_times[-1]:.1f} s (one page at a time), peak RSS {rss[-1]:.0f} MiB", flush=True)
    ex, ch, seq = median(ex_times), median(ch_times), median(seq_times)
    ctx.results.rows.append(Row("browser", f"exhibit --browser ÷ chromium alone ({TABS} tabs), seconds for {PAGES} JS pages",
                                f"{ex:.1f} s", f"chromium {ch:.1f} s", ex / ch, 1.5, higher_is_better=False))
    ctx.results.facts[f"browser capture of {PAGES} JavaScript pages"] = (
        f"exhibit {ex:.1f} s, peak RSS {median(rss):.0f} MiB (largest process: exhibit or one Chromium process); "
        f"headless Chromium alone {ch:.1f} s with {TABS} pages at once as Exhibit loads them, {seq:.1f} s one page "
        f"at a time ({ex / seq:.2f}×); settle time {WAIT} s in both; Exhibit also scrolls, waits the settle time "
        f"after the scroll, and seals a PNG, a PDF and the records")
