"""Driving the `exhibit` CLI: a fresh workspace and case per run, capture, export, verify.

Actors follow docs/user-guide.md: the first actor (a-0001) is supervisor and custodian and
verifies; a-0002 is investigator and analyst, so it opens, captures and exports.
"""

import re
import shutil
import tempfile
from pathlib import Path

from common import BenchError, run

CUSTODIAN, INVESTIGATOR = "a-0001", "a-0002"


class Exhibit:
    def __init__(self, bin_dir):
        self.exe = bin_dir / "exhibit"
        self.bench_exe = bin_dir / "exhibit-bench"

    def has_bench_tool(self):
        return self.bench_exe.exists()

    def version(self):
        return run([self.exe, "--version"], what="exhibit --version")[1].strip()

    def _cli(self, *args, what, ok=(0,), **kw):
        return run([self.exe, *args], what=f"exhibit {what}", ok=ok, **kw)

    def new_case(self, scratch):
        """A new workspace with two actors and one open online-crime case; returns (ws, case id)."""
        ws = Path(tempfile.mkdtemp(prefix="ws-", dir=scratch)) / "workspace"
        self._cli("init", "--workspace", ws, "--agency", "Bench", what="init")
        first = self._cli("actor", "add", "--workspace", ws, "--name", "B", "--badge", "1",
                          "--role", "supervisor", what="actor add")[1].strip()
        second = self._cli("actor", "add", "--workspace", ws, "--actor", CUSTODIAN, "--name", "I",
                           "--badge", "2", "--role", "investigator", "--role", "analyst",
                           what="actor add")[1].strip()
        if (first, second) != (CUSTODIAN, INVESTIGATOR):
            raise BenchError(f"exhibit actor add gave ids {first!r}, {second!r}; expected a-0001, a-0002.")
        case = self._cli("case", "open", "--workspace", ws, "--actor", INVESTIGATOR,
                         "--category", "online-crime", "--title", "Bench",
                         "--field", "subtype=other", "--field", "complainant_reference=R-1",
                         what="case open")[1].strip()
        if not case.startswith("OC-"):
            raise BenchError(f"exhibit case open printed {case!r} instead of a case id.")
        return ws, case

    def capture_cmd(self, ws, case, urls_file, *, media=False, max_bytes=None, timeout=None):
        """The capture command under test: concurrency 8, loopback opened explicitly."""
        cmd = [self.exe, "capture", "--workspace", ws, "--actor", INVESTIGATOR, case,
               "--urls-file", urls_file, "--concurrency", "8",
               "--allow-network", "127.0.0.1/32", "--reason", "bench"]
        if media:
            cmd.append("--media")
        if max_bytes:
            cmd += ["--max-bytes", str(max_bytes)]
        if timeout:
            cmd += ["--timeout", str(timeout)]
        return cmd

    def capture(self, ws, case, urls_file, expect, log_path, **options):
        """Run one capture, check it captured `expect` URLs, return its wall-clock seconds."""
        seconds = run(self.capture_cmd(ws, case, urls_file, **options), stdout_path=log_path,
                      what=f"exhibit capture of {urls_file.name}")[3]
        check_summary(log_path, expect)
        return seconds

    def add_watches(self, ws, case, urls_file):
        """One `watch add` per URL (every day, loopback opened as for capture)."""
        for url in Path(urls_file).read_text().split():
            self._cli("watch", "add", "--workspace", ws, "--actor", INVESTIGATOR, case, url, "--every", "1d",
                      "--allow-network", "127.0.0.1/32", "--reason", "bench", what="watch add")

    def watch_run_cmd(self, ws, due=True):
        """`watch run [--due]` with the capture benchmark's concurrency."""
        return [self.exe, "watch", "run", "--workspace", ws, "--actor", INVESTIGATOR, "--concurrency", "8",
                *(["--due"] if due else [])]

    def verify_case_cmd(self, ws, case):
        return [self.exe, "verify", "--workspace", ws, "--actor", CUSTODIAN, case]

    def verify_bag_cmd(self, bag):
        return [self.exe, "verify", bag]

    def export(self, ws, case, out):
        self._cli("export", "--workspace", ws, "--actor", INVESTIGATOR, case, "--out", out,
                  what="export")

    def digest_cmd(self, path, all_algorithms=False):
        return [self.bench_exe, "digest", *(["--all"] if all_algorithms else []), path]

    def analyze_cmd(self, path):
        return [self.bench_exe, "analyze", path]

    def screen_cmd(self, path, plain=False):
        return [self.bench_exe, "screen", *(["--plain"] if plain else []), path]


def drop_workspace(ws):
    """Workspaces of big captures are removed at once: the disk holds one at a time."""
    shutil.rmtree(Path(ws).parent, ignore_errors=True)


def check_summary(log_path, expect):
    """A fast capture that skipped URLs would be a false result: count what it says it captured."""
    text = Path(log_path).read_text(errors="replace")
    match = re.search(r"(\d+) captured, (\d+) failed, (\d+) refused", text)
    if not match or int(match.group(1)) != expect:
        last = text.strip().splitlines()[-1] if text.strip() else "nothing"
        raise BenchError(f"exhibit capture should have captured {expect} URLs but reported: {last}")
