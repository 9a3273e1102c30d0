"""Shared plumbing for the benchmark harness: settings, running commands, timing, errors."""

import dataclasses
import errno
import os
import re
import shutil
import signal
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


class BenchError(Exception):
    """A step failed or a tool is missing: the harness stops with this one sentence."""


@dataclasses.dataclass
class Settings:
    """Everything the environment decides (see docs/benchmarks.md, "Running it")."""
    bin_dir: Path          # where the release `exhibit` and `exhibit-bench` are
    venv: Path             # the test venv with bagit 1.9.0
    runs: int              # repetitions per comparison; the median is reported
    quick: bool            # tiny inputs for a smoke run
    strict: bool           # exit 1 on any MISS
    root: Path             # .bench (or .bench/quick): inputs, nginx prefix, scratch
    docs: Path             # where benchmarks.md and benchmarks.svg go
    only: frozenset        # BENCH_ONLY: the sections to run (empty: all); reports go to .bench/only/
    work: Path = None      # binaries, nginx prefixes and scratch of this run (private to a BENCH_ONLY run)

    @classmethod
    def from_env(cls):
        bin_dir = os.environ.get("BENCH_BIN", "").strip()
        if not bin_dir:
            raise BenchError("BENCH_BIN is not set: name the folder that holds the release `exhibit` "
                             "(make bench sets it from `swift build -c release --show-bin-path`).")
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
        try:
            runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
        except ValueError:
            raise BenchError("BENCH_RUNS must be a whole number, e.g. BENCH_RUNS=3.")
        if runs < 1:
            raise BenchError("BENCH_RUNS must be at least 1.")
        root = REPO / ".bench"
        only = frozenset(name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip())
        # A smoke run or a partial run must never overwrite the committed figures; a smoke run
        # must not overwrite the full-size inputs either.
        docs = root / "quick" if quick else (root / "only" if only else REPO / "docs")
        root = root / "quick" if quick else root
        # Partial runs may overlap (several engineers on one machine): each keeps its copied
        # binaries, nginx prefixes and scratch in a folder of its own, so none wipes another's.
        work = root / "only" / f"run-{os.getpid()}" if only else root
        return cls(bin_dir=Path(bin_dir).resolve(),
                   venv=Path(os.environ.get("BENCH_VENV", REPO / ".venv")).resolve(),
                   runs=runs, quick=quick,
                   strict=os.environ.get("BENCH_STRICT", "") not in ("", "0"),
                   root=root, docs=docs, only=only, work=work)


def clean_env():
    """The environment every child runs in.

    Proxy variables are dropped so that libcurl and wget talk to 127.0.0.1 directly and
    never to another address; EXHIBIT_* are dropped so each command says exactly which
    workspace and actor it uses (a set EXHIBIT_ACTOR would turn an anonymous verify into a
    recorded one).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("EXHIBIT_")}
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1"
    env["LC_ALL"] = "C"
    return env


def _short(cmd):
    return " ".join(str(c) for c in cmd)


def _tail(text, lines=8):
    text = (text or "").strip()
    return "\n".join(text.splitlines()[-lines:])


def run(cmd, *, cwd=None, ok=(0,), stdout_path=None, what=None):
    """Run a command and return (returncode, stdout, stderr, seconds).

    Fails loudly with the command's stderr unless the exit code is in `ok`. A binary that
    is being rebuilt under us ("text file busy", briefly missing) is retried for a while.
    stdout goes to a file when it may be large (a 10,000-URL capture).
    """
    deadline = time.monotonic() + 120
    while True:
        out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
        try:
            start = time.perf_counter()
            proc = _run_group([str(c) for c in cmd], cwd=cwd, stdout=out)
            seconds = time.perf_counter() - start
            break
        except OSError as err:
            if err.errno not in (errno.ETXTBSY, errno.ENOENT) or time.monotonic() > deadline:
                raise BenchError(f"Could not start {what or cmd[0]} ({err.strerror}: {cmd[0]}).")
            time.sleep(3)
        finally:
            if stdout_path:
                out.close()
    stdout = "" if stdout_path else proc.stdout_bytes.decode(errors="replace")
    stderr = proc.stderr_bytes.decode(errors="replace")
    if ok is not None and proc.returncode not in ok:
        how = f"was killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exited {proc.returncode}"
        raise BenchError(f"{what or cmd[0]} {how}: `{_short(cmd)}`\n{_tail(stderr) or _tail(stdout)}")
    return proc.returncode, stdout, stderr, seconds


def _run_group(cmd, *, cwd, stdout):
    """Run cmd in its own process group and kill that group if we are interrupted.

    Killing only the direct child is not enough: under /usr/bin/time the measured command
    would outlive it.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, env=clean_env(), stdout=stdout, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.stdout_bytes, proc.stderr_bytes = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return proc


def timed(cmd, **kw):
    """Wall-clock seconds of one run of cmd (process start included, as for every tool)."""
    return run(cmd, **kw)[3]


def peak_rss_mib(cmd, *, scratch, **kw):
    """Peak resident set size of cmd in MiB, from GNU time's "Maximum resident set size"."""
    report = Path(scratch) / "time-v.txt"
    run(["/usr/bin/time", "-v", "-o", report, *cmd], **kw)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
    if not match:
        raise BenchError(f"/usr/bin/time -v gave no peak RSS for `{_short(cmd)}`.")
    return int(match.group(1)) / 1024


def median(values):
    return statistics.median(values)


def require_tools(names):
    """Fail with one sentence naming the first missing tool."""
    for name in names:
        if shutil.which(name) is None:
            raise BenchError(f"{name} is not installed: run `make bench` (it installs nginx-light wrk "
                             f"wget libxml2-utils time) or install it with apt.")


def fresh_dir(path):
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
