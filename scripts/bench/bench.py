#!/usr/bin/env python3
"""`make bench`: Exhibit side by side with wget, OpenSSL, bagit.py and xmllint (issue 8).

Each comparison runs BENCH_RUNS times and reports the median as a ratio against its
target. Everything talks to 127.0.0.1 only. See docs/benchmarks.md ("About the harness").
"""

import contextlib
import datetime
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MIB, BenchError, Settings, fresh_dir, median, peak_rss_mib, require_tools, run, timed  # noqa: E402
from browser import bench_browser  # noqa: E402
from import_bench import bench_import  # noqa: E402
from export_bench import bench_export  # noqa: E402
from exhibit import Exhibit, check_summary, drop_workspace  # noqa: E402
from inputs import ensure_inputs  # noqa: E402
from report import Results, Row, svg_chart, text_report, write_markdown  # noqa: E402
from server import Nginx, wrk_ceiling  # noqa: E402
from search import bench_search  # noqa: E402
from watches import bench_watches  # noqa: E402


def log(message):
    print(f"bench: {message}", flush=True)


class Context:
    """What every section needs: settings, inputs, the server, the binaries, the results."""

    def __init__(self, settings):
        self.settings = settings
        self.results = Results()
        self.scratch = settings.work / "runs"
        self.www = self.spec = self.base = self.exhibit = None

    @contextlib.contextmanager
    def section(self, name):
        log(f"== {name}")
        start = time.monotonic()
        yield
        seconds = time.monotonic() - start
        self.results.sections.append((name, seconds))
        log(f"   {name} took {seconds:.0f} s")

    def url_list(self, name, paths):
        """A --urls-file / wget -i list on the running nginx."""
        path = self.scratch / f"{name}.txt"
        path.write_text("".join(f"{self.base}{p}\n" for p in paths))
        return path


# ---------------------------------------------------------------- set-up

def check_tools(settings):
    require_tools(["nginx", "wrk", "wget", "xmllint", "openssl", "sqlite3"])
    if not os.access("/usr/bin/time", os.X_OK):
        raise BenchError("/usr/bin/time is not installed: run `make bench` or `apt-get install time`.")
    python = settings.venv / "bin" / "python"
    if not python.exists():
        raise BenchError(f"{python} does not exist: run `make venv` (it installs bagit 1.9.0).")
    run([python, "-m", "bagit", "--version"], what="bagit (in the venv)")


def snapshot_binaries(settings):
    """Copy the binaries once, so that a rebuild during the run neither breaks nor mixes builds.

    A copy taken while the linker writes is caught by the size/mtime check and by running it.
    """
    source, target = settings.bin_dir, fresh_dir(settings.work / "bin")
    if not source.is_dir():
        raise BenchError(f"{source} does not exist: build release first or set BENCH_BIN to the folder of `exhibit`.")
    if not (source / "exhibit").exists():
        for _ in range(20):  # the lead may be relinking right now
            time.sleep(3)
            if (source / "exhibit").exists():
                break
        else:
            raise BenchError(f"No exhibit binary in {source}: build release first or set BENCH_BIN.")
    names = ["exhibit", "exhibit-bench"] + [p.name for p in source.glob("*.resources")]
    for _ in range(40):
        before = {n: _stamp(source / n) for n in names}
        for n in names:
            if (source / n).is_dir():
                shutil.copytree(source / n, target / n, dirs_exist_ok=True)
            elif (source / n).exists():
                shutil.copy2(source / n, target / n)
        if before == {n: _stamp(source / n) for n in names} and _runs(target / "exhibit"):
            return target
        time.sleep(3)
    raise BenchError(f"The binaries in {source} kept changing for two minutes: try again after the build.")


def _stamp(path):
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns
    except OSError:
        return None


def _runs(exe):
    try:
        return subprocess.run([exe, "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def read_through(path):
    """Read a file once so that the page cache is warm for every tool alike."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MIB):
            pass


# ---------------------------------------------------------------- sections

def bench_capture(ctx):
    """Site A pages/s: exhibit (WARC, digests, title, ledger; analysis left to the index) against wget --warc-file."""
    count = ctx.spec["site_a_pages"]
    urls = ctx.url_list("site-a", [f"/a/p{n:04d}.html" for n in range(count)])
    ex_times, wget_times = [], []
    for i in range(ctx.settings.runs):
        ws, case = ctx.exhibit.new_case(ctx.scratch)
        # Each tool starts with no dirty pages left by the one before: wget never syncs, so
        # its WARC would otherwise still be going to disk when Exhibit's seal waits for its
        # own fsync (on ext4 a journal commit carries the earlier writes too).
        os.sync()
        ex_times.append(ctx.exhibit.capture(ws, case, urls, count, ctx.scratch / "capture.out"))
        drop_workspace(ws)
        folder = fresh_dir(ctx.scratch / "wget")
        os.sync()
        wget_times.append(timed(["wget", "--warc-file=bench", "-i", urls, "-O", "/dev/null", "-q"],
                                cwd=folder, what="wget (site A)"))
        log(f"   run {i + 1}: exhibit {count / ex_times[-1]:.0f} pages/s, wget {count / wget_times[-1]:.0f} pages/s")
    ex_rate, wget_rate = count / median(ex_times), count / median(wget_times)
    ctx.results.rows.append(Row("capture", "exhibit ÷ wget pages/s", f"{ex_rate:.0f} pages/s",
                                f"wget {wget_rate:.0f} pages/s", ex_rate / wget_rate, 3.0))


def bench_memory(ctx):
    """Peak RSS capturing one 1 GiB response: the body must stream, whatever its size."""
    size = ctx.spec["big_bytes"]
    urls = ctx.url_list("big", ["/big.bin"])
    ws, case = ctx.exhibit.new_case(ctx.scratch)
    start = time.monotonic()
    ex_rss = peak_rss_mib(ctx.exhibit.capture_cmd(ws, case, urls, max_bytes=2 * size + MIB, timeout=1800),
                          scratch=ctx.scratch, stdout_path=ctx.scratch / "capture.out", what="exhibit capture (1 GiB)")
    ex_seconds = time.monotonic() - start
    check_summary(ctx.scratch / "capture.out", 1)
    drop_workspace(ws)
    folder = fresh_dir(ctx.scratch / "wget")
    start = time.monotonic()
    wget_rss = peak_rss_mib(["wget", "--warc-file=bench", "-i", urls, "-O", "/dev/null", "-q"],
                            scratch=ctx.scratch, cwd=folder, what="wget (1 GiB)")
    wget_seconds = time.monotonic() - start
    shutil.rmtree(folder)
    label = f"{size / MIB:.0f} MiB"
    ctx.results.rows.append(Row("memory", "exhibit peak RSS ÷ 64 MiB", f"{ex_rss:.1f} MiB",
                                f"wget {wget_rss:.1f} MiB (context)", ex_rss / 64, 1.0, higher_is_better=False))
    ctx.results.facts[f"capture of one {label} file"] = (
        f"exhibit {ex_seconds:.1f} s ({size / MIB / ex_seconds:.0f} MiB/s), wget {wget_seconds:.1f} s")


def _digest_lines(stdout):
    """`ALGO  HEX` lines -> {"sha256": hex, ...} (algorithm names normalised)."""
    found = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]+", parts[1]):
            found[re.sub(r"[^a-z0-9]", "", parts[0].lower())] = parts[1].lower()
    return found


def bench_hashing(ctx):
    """exhibit-bench digest against openssl dgst on the big file, warm page cache."""
    if not ctx.exhibit.has_bench_tool():
        skip = "skipped: no exhibit-bench in BENCH_BIN"
        ctx.results.rows += [Row("hash sha256", "exhibit ÷ openssl throughput", skip, "openssl dgst", None, 0.9),
                             Row("hash 4 in 1 pass", "--all time ÷ sha256 time", skip, "2-core floor", None, 3.4, False)]  # ≈ floor + 10 %
        log("   " + skip)
        return
    big = ctx.www / "big.bin"
    read_through(big)
    ssl, one, every = [], [], []
    for _ in range(ctx.settings.runs):
        rc, ssl_out, _, seconds = run(["openssl", "dgst", "-sha256", big], what="openssl dgst")
        ssl.append(seconds)
        rc, ex_out, _, seconds = run(ctx.exhibit.digest_cmd(big), what="exhibit-bench digest")
        one.append(seconds)
        rc, all_out, _, seconds = run(ctx.exhibit.digest_cmd(big, True), what="exhibit-bench digest --all")
        every.append(seconds)
    # A fast wrong answer is no answer: the digests must agree with OpenSSL's.
    expected = ssl_out.strip().rsplit("= ", 1)[-1]
    if _digest_lines(ex_out).get("sha256") != expected or _digest_lines(all_out).get("sha256") != expected:
        raise BenchError(f"exhibit-bench digest disagrees with openssl on {big}: {ex_out.strip()!r}.")
    if set(_digest_lines(all_out)) < {"sha256", "sha512", "sha1", "md5"}:
        raise BenchError(f"exhibit-bench digest --all did not print all four digests: {all_out.strip()!r}.")
    mib = big.stat().st_size / MIB
    floor = four_digest_floor(ctx)
    ctx.results.rows += [
        Row("hash sha256", "exhibit ÷ openssl throughput", f"{mib / median(one):.0f} MiB/s",
            f"openssl {mib / median(ssl):.0f} MiB/s", median(ssl) / median(one), 0.9),
        Row("hash 4 in 1 pass", "--all time ÷ sha256 time", f"{median(every):.2f} s (all 4), sha256 {median(one):.2f} s",
            f"2-core floor {floor:.2f}×", median(every) / median(one), round(1.1 * floor, 2), higher_is_better=False)]


def four_digest_floor(ctx):
    """The least `--all` time ÷ SHA-256 time two cores allow with one read of the file.

    Each algorithm's cost per byte on one core comes from `openssl speed`; the four are split
    into the two groups whose larger sum is smallest (one group per core), and that sum is
    divided by SHA-256's own cost. The row's target is this floor plus 10 %.
    """
    speed = {alg: openssl_speed(alg) for alg in ("sha256", "sha512", "sha1", "md5")}
    ctx.results.speed.update(speed)
    cost = {alg: 1 / bps for alg, bps in speed.items()}
    names = list(cost)
    best = min(max(sum(cost[n] for i, n in enumerate(names) if mask >> i & 1),
                   sum(cost[n] for i, n in enumerate(names) if not mask >> i & 1))
               for mask in range(1, 2 ** len(names) - 1))
    floor = best / cost["sha256"]
    ctx.results.facts["four digests on 2 cores"] = (
        ", ".join(f"{alg} {c * 1e9:.2f} ns/byte" for alg, c in cost.items())
        + f"; best split {best * 1e9:.2f} ns/byte, i.e. {floor:.2f}× SHA-256 alone; target ≤ {1.1 * floor:.2f}×")
    return floor


def openssl_speed(algorithm):
    """Bytes/s of one core on 16384-byte blocks (`openssl speed -evp ALG -seconds 1`)."""
    _, out, _, _ = run(["openssl", "speed", "-evp", algorithm, "-seconds", "1"], what="openssl speed")
    lines = out.splitlines()
    header = next((i for i, l in enumerate(lines) if l.startswith("type")), None)
    if header is None or header + 1 >= len(lines):
        raise BenchError(f"openssl speed -evp {algorithm} printed no table.")
    sizes = re.findall(r"(\d+) bytes", lines[header])
    values = re.findall(r"([\d.]+)k", lines[header + 1])
    if "16384" not in sizes or len(values) != len(sizes):
        raise BenchError(f"openssl speed -evp {algorithm} has no 16384-byte column.")
    return float(values[sizes.index("16384")]) * 1000  # the figures are in 1000s of bytes/s


def _bag_size(bag):
    """File count, total bytes, and bytes per top-level part of data/ (warc, blobs, report.html …)."""
    files = [p for p in bag.rglob("*") if p.is_file()]
    parts = {}
    for p in files:
        rel = p.relative_to(bag).parts
        key = rel[1] if rel[0] == "data" and len(rel) > 1 else "tag files"
        parts[key] = parts.get(key, 0) + p.stat().st_size
    return len(files), sum(parts.values()), parts


def make_verify_bag(ctx):
    """Site B captured with --media into one case and exported once (not timed as verify)."""
    pages = ctx.spec["site_b_pages"]
    urls = ctx.url_list("site-b", [f"/b/p{n:04d}.html" for n in range(pages)])
    ws, case = ctx.exhibit.new_case(ctx.scratch)
    seconds = ctx.exhibit.capture(ws, case, urls, 2 * pages, ctx.scratch / "capture.out", media=True)
    ctx.results.facts["capture of site B with --media"] = (
        f"{pages:,} pages + {pages:,} images in {seconds:.1f} s ({2 * pages / seconds:.0f} URLs/s)")
    bag = ctx.scratch / "bag"
    shutil.rmtree(bag, ignore_errors=True)
    start = time.monotonic()
    ctx.exhibit.export(ws, case, bag)
    ctx.results.facts["export of that case"] = f"{time.monotonic() - start:.1f} s"
    drop_workspace(ws)
    return bag


def bench_verify(ctx):
    """exhibit verify BAG against bagit.py --validate --processes 2, and the hashing limit."""
    bag = make_verify_bag(ctx)
    count, size, parts = _bag_size(bag)
    for path in bag.rglob("*"):
        if path.is_file():
            read_through(path)
    exhibit_cmd = ctx.exhibit.verify_bag_cmd(bag)
    bagit_cmd = [ctx.settings.venv / "bin" / "python", "-m", "bagit", "--validate", "--processes", "2", bag]
    ex, py = [], []
    for i in range(ctx.settings.runs):
        # Alternate the order so that neither tool always runs second on a warmer machine.
        order = [(exhibit_cmd, ex, "exhibit verify (bag)"), (bagit_cmd, py, "bagit --validate")]
        for cmd, times, what in order if i % 2 == 0 else reversed(order):
            times.append(timed(cmd, what=what))
        log(f"   run {i + 1}: exhibit {ex[-1]:.2f} s, bagit {py[-1]:.2f} s")
    speed = {alg: openssl_speed(alg) for alg in ("sha256", "sha512")}
    ctx.results.speed.update(speed)
    limit = size * (1 / speed["sha256"] + 1 / speed["sha512"]) / 2
    ctx.results.rows.append(Row("verify", "bagit time ÷ exhibit time", f"{median(ex):.2f} s",
                                f"bagit {median(py):.2f} s", median(py) / median(ex), 1.5))
    largest = sorted(parts.items(), key=lambda kv: -kv[1])[:4]
    ctx.results.facts["verify bag"] = (f"{count:,} files, {size / 1e6:,.0f} MB ("
                                       + ", ".join(f"{k} {v / 1e6:,.0f} MB" for k, v in largest) + ")")
    ctx.results.facts["hashing limit for that bag on 2 cores"] = (
        f"{limit:.2f} s; exhibit reaches {limit / median(ex):.0%} of it, bagit {limit / median(py):.0%}")
    shutil.rmtree(bag)


def bench_parse(ctx):
    """exhibit-bench analyze (full page analysis) against xmllint --html --noout on the 5 MB page."""
    if not ctx.exhibit.has_bench_tool():
        ctx.results.rows.append(Row("parse", "exhibit time ÷ xmllint time", "skipped: no exhibit-bench in BENCH_BIN",
                                    "xmllint", None, 1.5, False))
        log("   skipped: no exhibit-bench")
        return
    page = ctx.www / "page5mb.html"
    read_through(page)
    ex, xl = [], []
    for _ in range(max(ctx.settings.runs, 5)):  # both take well under a second: more runs, less noise
        ex.append(timed(ctx.exhibit.analyze_cmd(page), what="exhibit-bench analyze"))
        # xmllint reports the recoveries on stderr and may exit 1; a crash still fails.
        xl.append(timed(["xmllint", "--html", "--noout", page], ok=(0, 1), what="xmllint"))
    mb = page.stat().st_size / 1e6
    ctx.results.rows.append(Row("parse", "exhibit time ÷ xmllint time", f"{median(ex) * 1000:.0f} ms ({mb:.1f} MB)",
                                f"xmllint {median(xl) * 1000:.0f} ms", median(ex) / median(xl), 1.5, False))


def _screen(ctx, path, plain):
    """One `exhibit-bench screen` (best of its 3 runs inside): (MB/s, hits)."""
    _, out, _, _ = run(ctx.exhibit.screen_cmd(path, plain), what="exhibit-bench screen")
    fields = out.split()
    if len(fields) != 6 or fields[0] != "screen":
        raise BenchError(f"exhibit-bench screen printed {out.strip()!r}, not `screen MODE BYTES SECONDS MB/s HITS`.")
    return float(fields[4]), int(fields[5])


def bench_screen(ctx):
    """Protected-class screening MB/s with DESIGN §23's normalisation against the plain scan (issue 26)."""
    if not ctx.exhibit.has_bench_tool():
        ctx.results.rows.append(Row("screen", "normalised ÷ plain MB/s", "skipped: no exhibit-bench in BENCH_BIN",
                                    "plain scan", None, 0.5))
        log("   skipped: no exhibit-bench")
        return
    text = ctx.www / "screen.txt"
    # The same text as plain ASCII without hashtags: what the fast path reads as it is.
    ascii_text = ctx.scratch / "screen-ascii.txt"
    ascii_text.write_bytes(text.read_bytes().decode("utf-8").encode("ascii", "ignore").replace(b"#", b" "))
    figures = {}
    for name, path in (("mixed", text), ("ascii", ascii_text)):
        read_through(path)
        for plain in (True, False):
            rates, hits = [], None
            for _ in range(ctx.settings.runs):
                rate, hits = _screen(ctx, path, plain)
                rates.append(rate)
            figures[name, plain] = (median(rates), hits)
        log(f"   {name}: normalised {figures[name, False][0]:.1f} MB/s ({figures[name, False][1]} hits), "
            f"plain {figures[name, True][0]:.1f} MB/s ({figures[name, True][1]} hits)")
    (norm, norm_hits), (plain, plain_hits) = figures["mixed", False], figures["mixed", True]
    # Normalisation only adds ways to match: fewer hits would be a broken screen, not a fast one.
    if norm_hits < plain_hits:
        raise BenchError(f"normalised screening found {norm_hits} hits in {text}, the plain scan {plain_hits}.")
    mb = text.stat().st_size / 1e6
    ctx.results.rows.append(Row("screen", "normalised ÷ plain MB/s", f"{norm:.1f} MB/s ({mb:.1f} MB)",
                                f"plain {plain:.1f} MB/s", norm / plain, 0.5))
    (a_norm, _), (a_plain, _) = figures["ascii", False], figures["ascii", True]
    ctx.results.facts["screening (exhibit-bench screen, best of 3 in-process)"] = (
        f"decoded text with non-ASCII and hashtags: {norm_hits:,} hits normalised, {plain_hits:,} plain; "
        f"the same as plain ASCII: normalised {a_norm:.1f} MB/s, plain {a_plain:.1f} MB/s ({a_norm / a_plain:.0%})")


def bench_scale(ctx):
    """Capture and custodian verify of 100, 1,000 and 10,000 artifacts: is the cost linear?"""
    sizes = ctx.spec["scale_sizes"]
    for n in sizes:
        urls = ctx.url_list(f"site-c-{n}", [f"/c/p{k:05d}.html" for k in range(n)])
        runs = 1 if n >= 10_000 else ctx.settings.runs  # the largest case once: it is the slow one
        caps, vers = [], []
        for _ in range(runs):
            ws, case = ctx.exhibit.new_case(ctx.scratch)
            caps.append(ctx.exhibit.capture(ws, case, urls, n, ctx.scratch / "capture.out"))
            vers.append(timed(ctx.exhibit.verify_case_cmd(ws, case), what=f"exhibit verify ({n} artifacts)"))
            drop_workspace(ws)
        ctx.results.scale.append((n, median(caps), median(vers), runs))
        log(f"   {n:,} artifacts: capture {median(caps):.2f} s, verify {median(vers):.2f} s")
    (mid, mid_cap, mid_ver, _), (big, big_cap, big_ver, _) = ctx.results.scale[-2:]
    per = lambda seconds, n: seconds / n * 1000
    for name, a, b in (("scale capture", mid_cap, big_cap), ("scale verify", mid_ver, big_ver)):
        ctx.results.rows.append(Row(name, f"ms/artifact {big:,} ÷ {mid:,}", f"{per(b, big):.2f} ms/artifact at {big:,}",
                                    f"{per(a, mid):.2f} ms/artifact at {mid:,}", per(b, big) / per(a, mid), 1.5, False))


# ---------------------------------------------------------------- main

def tool_versions(ctx):
    first = lambda cmd, ok=(0,): (lambda r: (r[1] or r[2]).strip().splitlines()[0])(run(cmd, ok=ok))
    exe = ctx.exhibit.exe
    with open(exe, "rb") as f:
        build = hashlib.file_digest(f, "sha256").hexdigest()[:12]  # which build, since the version says little
    return {"exhibit": f"{first([exe, '--version'])} (binary sha256 {build}…, {exe.stat().st_size / MIB:.0f} MiB)",
            "wget": first(["wget", "--version"]).replace("GNU Wget ", "").split(" built")[0],
            "openssl": first(["openssl", "version"]).replace("OpenSSL ", "").split(" (")[0],
            "nginx": first(["nginx", "-v"]).replace("nginx version: nginx/", ""),
            "xmllint": first(["xmllint", "--version"]).replace("xmllint: using libxml version ", "libxml "),
            "bagit": first([ctx.settings.venv / "bin" / "python", "-m", "bagit", "--version"]).split()[-1],
            "wrk": first(["wrk", "-v"], ok=None).split(" [")[0].replace("wrk ", ""),
            "sqlite3": first(["sqlite3", "--version"]).split()[0]}


def run_all(ctx):
    s = ctx.settings
    with ctx.section("set-up"):
        check_tools(s)
        fresh_dir(ctx.scratch)
        ctx.exhibit = Exhibit(snapshot_binaries(s))
        if not ctx.exhibit.has_bench_tool():
            log("no exhibit-bench in BENCH_BIN yet: hashing, parse and screen are skipped")
        ctx.www, ctx.spec = ensure_inputs(s.root, s.quick, log)
    server = Nginx(s.work / "nginx", ctx.www)
    try:
        with ctx.section("nginx ceiling"):
            server.start()
            ctx.base = server.base
            ceiling = wrk_ceiling(f"{server.base}/a/p0000.html")
            log(f"   nginx: {ceiling:,.0f} requests/s")
        def bench_media_section(ctx):  # issue 22: generated inputs (scripts/bench/media.py)
            from media import bench_media
            bench_media(ctx)

        def bench_server_section(ctx):  # issue 24: its own PostgreSQL (scripts/bench/evidence_server.py)
            from evidence_server import bench_evidence_server
            bench_evidence_server(ctx)

        sections = (("capture", bench_capture), ("memory", bench_memory), ("hashing", bench_hashing),
                    ("verify", bench_verify), ("export", bench_export), ("parse", bench_parse), ("screen", bench_screen),
                    ("scale", bench_scale), ("browser", bench_browser), ("watches", bench_watches),
                    ("import", bench_import),
                    ("search", bench_search),  # no server needed: the index is generated (scripts/bench/search.py)
                    ("media", bench_media_section), ("evidence server", bench_server_section))
        unknown = s.only - {name for name, _ in sections}
        if unknown:
            raise BenchError(f"BENCH_ONLY names no section {', '.join(sorted(unknown))}; "
                             f"the sections are {', '.join(name for name, _ in sections)}.")
        for name, section in sections:
            if s.only and name not in s.only:
                continue
            with ctx.section(name):
                section(ctx)
    finally:
        server.stop()
    return ceiling


def write_reports(ctx, ceiling, started):
    s = ctx.settings
    s.docs.mkdir(parents=True, exist_ok=True)
    settings_line = (f"BENCH_RUNS={s.runs}" + (", BENCH_QUICK=1 (tiny inputs)" if s.quick else "")
                     + f"; whole run {time.monotonic() - started:.0f} s")
    write_markdown(s.docs / "benchmarks.md", ctx.results, runs=s.runs, versions=tool_versions(ctx),
                   ceiling=ceiling, settings_line=settings_line,
                   date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    (s.docs / "benchmarks.svg").write_text(svg_chart(ctx.results.rows))
    print()
    print(text_report(ctx.results))
    print(f"\nnginx ceiling: {ceiling:,.0f} requests/s; written: {s.docs / 'benchmarks.md'}, benchmarks.svg")


def _stop_on_signal(signum, _frame):
    # Turned into an exception so that the finally blocks stop nginx and remove scratch files.
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    started = time.monotonic()
    try:
        ctx = Context(Settings.from_env())
        log(f"runs={ctx.settings.runs}{' quick' if ctx.settings.quick else ''}, binaries from {ctx.settings.bin_dir}")
        try:
            try:
                ceiling = run_all(ctx)
            finally:
                shutil.rmtree(ctx.scratch, ignore_errors=True)
            write_reports(ctx, ceiling, started)  # runs the copied binary for its version
        finally:
            if ctx.settings.work != ctx.settings.root:
                shutil.rmtree(ctx.settings.work, ignore_errors=True)
    except BenchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; nginx stopped.", file=sys.stderr)
        return 130
    misses = [r.name for r in ctx.results.rows if r.status != "PASS"]
    if misses and ctx.settings.strict:
        print(f"bench: BENCH_STRICT=1 and these missed their target: {', '.join(misses)}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
