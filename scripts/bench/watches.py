"""The `watches` row of `make bench` (issue 21): `exhibit watch run --due` over 1,000
watches spread over 20 loopback hosts, against one `exhibit capture --urls-file` of the
same 1,000 URLs (the comparison bookkeeping must be nearly free: target ≤ 1.2×).

The 20 hosts are 20 loopback addresses (127.0.0.2 … 127.0.0.21) on which one nginx of
our own listens, serving the site-C pages: the capture engine treats each address as a
host of its own for politeness (per-host connections and delay), as it would 20 sites.
Both commands run with the capture benchmark's concurrency and the same network
override (127.0.0.0/27, the 20 addresses and no others beyond loopback's first 32).
"""

import shutil
import socket
import subprocess
import time

from common import BenchError, fresh_dir, median, timed
from exhibit import INVESTIGATOR, check_summary, drop_workspace
from report import Row
from server import Nginx

HOSTS = 20
WATCHES = 1000
NETWORK = "127.0.0.0/27"


def host(k):
    return f"127.0.0.{2 + k % HOSTS}"


class HostsNginx(Nginx):
    """nginx listening on the 20 loopback addresses, all on one port."""

    def _write_config(self):
        conf = super()._write_config()
        listens = "".join(f"        listen {host(k)}:{self.port};\n" for k in range(HOSTS))
        text = conf.read_text().replace(f"        listen 127.0.0.1:{self.port};\n", listens)
        if listens not in text:
            raise BenchError("scripts/bench/server.py's nginx configuration changed: its listen line was not found.")
        conf.write_text(text)
        return conf

    def _wait_ready(self, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                for k in range(HOSTS):
                    with socket.create_connection((host(k), self.port), timeout=0.5):
                        pass
                return True
            except OSError:
                time.sleep(0.1)
        return False


def _cli(ctx, *args, what):
    proc = subprocess.run([str(ctx.exhibit.exe), *[str(a) for a in args]], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"exhibit {what} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def _add_watches(ctx, ws, case, urls):
    """One `watch add` per URL, every day, with the 20 hosts' network override sealed in."""
    for url in urls:
        _cli(ctx, "watch", "add", "--workspace", ws, "--actor", INVESTIGATOR, case, url, "--every", "1d",
             "--allow-network", NETWORK, "--reason", "bench", what="watch add")


def _capture_cmd(ctx, ws, case, urls_file):
    cmd = ctx.exhibit.capture_cmd(ws, case, urls_file)
    cmd[cmd.index("127.0.0.1/32")] = NETWORK
    return cmd


def bench_watches(ctx):
    n = min(WATCHES, ctx.spec["site_c_pages"])
    server = HostsNginx(ctx.settings.work / "nginx-hosts", ctx.www)
    server.start()
    try:
        urls = [f"http://{host(k)}:{server.port}/c/p{k:05d}.html" for k in range(n)]
        urls_file = ctx.scratch / f"watch-urls-{n}.txt"
        urls_file.write_text("".join(u + "\n" for u in urls))
        # The watches are added once (1,000 commands); each run works on a fresh copy.
        ws0, case = ctx.exhibit.new_case(ctx.scratch)
        _add_watches(ctx, ws0, case, urls)
        caps, runs, again = [], [], []
        for i in range(ctx.settings.runs):
            ws, case_c = ctx.exhibit.new_case(ctx.scratch)
            caps.append(timed(_capture_cmd(ctx, ws, case_c, urls_file), stdout_path=ctx.scratch / "capture.out",
                              what=f"exhibit capture of {n} URLs on {HOSTS} hosts"))
            check_summary(ctx.scratch / "capture.out", n)
            drop_workspace(ws)
            copy = fresh_dir(ctx.scratch / f"watch-ws-{i}") / "workspace"
            shutil.copytree(ws0, copy, symlinks=True)
            cmd = ctx.exhibit.watch_run_cmd(copy)
            runs.append(timed(cmd, stdout_path=ctx.scratch / "watch.out", what=f"exhibit watch run --due ({n} watches)"))
            summary = (ctx.scratch / "watch.out").read_text(errors="replace").strip().splitlines()[-1]
            if not summary.startswith(f"{n} watches ran ({n} captured)"):
                raise BenchError(f"exhibit watch run --due should have captured {n} watched URLs but reported: {summary}")
            # Every page again, now compared with its first capture (unchanged by payload digest).
            again.append(timed(ctx.exhibit.watch_run_cmd(copy, due=False), stdout_path=ctx.scratch / "watch.out",
                               what="exhibit watch run (unchanged)"))
            summary = (ctx.scratch / "watch.out").read_text(errors="replace").strip().splitlines()[-1]
            if not summary.startswith(f"{n} watches ran ({n} unchanged)"):
                raise BenchError(f"exhibit watch run should have found {n} watched URLs unchanged but reported: {summary}")
            drop_workspace(copy)
            print(f"bench:    run {i + 1}: {n} watches on {HOSTS} hosts: watch run --due {runs[-1]:.2f} s, "
                  f"again (unchanged) {again[-1]:.2f} s; capture --urls-file {caps[-1]:.2f} s", flush=True)
        drop_workspace(ws0)
    finally:
        server.stop()
    ctx.results.facts[f"watch run of {n} unchanged watches on {HOSTS} hosts"] = (
        f"{median(again):.2f} s (capture --urls-file of the same URLs {median(caps):.2f} s)")
    ctx.results.rows.append(Row("watches", f"watch run --due ÷ capture --urls-file, {n} URLs on {HOSTS} hosts",
                                f"{median(runs):.2f} s", f"capture {median(caps):.2f} s", median(runs) / median(caps), 1.2, False))
