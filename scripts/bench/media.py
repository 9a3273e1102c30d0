"""The media rows of `make bench` (issue 22, docs/media.md).

pdq: Exhibit's decode + PDQ (`exhibit-bench pdq --jobs 2`, libjpeg-turbo and Sources/
MediaForensics/PDQ.swift on both cores) against the `pdqhash` package (Meta's C++ reference
behind Pillow's decoder) in two Python processes, each hashing half the files, started
together. Both are timed from outside as whole processes (start-up counted on both sides) over
the same 1,000 JPEGs of 1152 × 864 pixels (≈ 1 megapixel), which ffmpeg makes from five of
its test sources (200 frames each, quality varied) under .bench/media/ — generated, never
committed. A fast wrong answer is no answer: every Exhibit hash must be within distance 2 of
pdqhash's for the same file, else the run stops.

similar: `exhibit-bench similar` fills a media-index.sqlite through MediaHashIndex (Exhibit's
own schema: `hashes` rows plus sixteen `chunks` rows per hash, keyed by chunk position and
16-bit value) with 1,000,000 seeded random hashes and, for each of 200 random query hashes,
planted copies at distances 1, 8, 16, 24 and 31 (the 31 spread over all sixteen chunks, two
bits in fifteen and one in the last: the pigeonhole worst case) and one at 32 that must not be
returned. It then times, in process, MediaHashIndex.lookup(maxDistance: 31) for each query —
the library call `exhibit similar` makes for each hash of its artifact — and reports p95 and
recall. The filled index is kept under .bench/media/ and reused while its stamp matches.
"""

import json
import os
import resource
import shutil
import subprocess
import time
from pathlib import Path

from common import BenchError, clean_env, median, run
from report import Row

IMAGES, QUICK_IMAGES = 1_000, 50
HASHES, QUICK_HASHES = 1_000_000, 20_000
QUERIES = 200
SIZE = "1152x864"
SOURCES = ("testsrc2=size={s}:rate=25", "mandelbrot=size={s}:rate=25:start_scale=4",
           "gradients=size={s}:rate=25:seed=22:speed=0.05", "cellauto=size={s}:rate=25:rule=110,gblur=sigma=1.5",
           "life=size={s}:rate=25:ratio=0.3:seed=22:mold=10,gblur=sigma=2")
GENERATOR = 1  # bump when the generated inputs change, so cached ones are rebuilt


def _images(ctx, count):
    """count JPEGs under .bench/media/jpeg-N, made once by ffmpeg."""
    folder = ctx.settings.root / "media" / f"jpeg-{count}"
    stamp = folder / "stamp.json"
    want = {"count": count, "size": SIZE, "generator": GENERATOR}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return sorted(folder.glob("*.jpg"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    per = -(-count // len(SOURCES))
    for number, source in enumerate(SOURCES):
        frames = min(per, count - number * per)
        if frames <= 0:
            break
        run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", source.format(s=SIZE), "-frames:v", frames,
             "-q:v", 2 + number, folder / f"s{number}-%04d.jpg"], what="ffmpeg (bench images)")
    files = sorted(folder.glob("*.jpg"))
    if len(files) != count:
        raise BenchError(f"ffmpeg made {len(files)} bench images in {folder}, not {count}.")
    stamp.write_text(json.dumps(want))
    return files


def _together(commands):
    """Run commands at once; return (wall seconds, CPU seconds of all, stdout of each)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen([str(c) for c in cmd], env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL) for cmd in commands]
    outputs = []
    for cmd, proc in zip(commands, procs):
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise BenchError(f"{Path(str(cmd[0])).name} exited {proc.returncode}: {err.decode(errors='replace')[-600:]}")
        outputs.append(out.decode())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, outputs


REFERENCE = """
import sys, numpy as np, pdqhash
from PIL import Image
for p in sys.argv[1:]:
    v, q = pdqhash.compute(np.asarray(Image.open(p).convert("RGB")))
    print("%064x" % int("".join(str(int(b)) for b in v), 2), q, p)
"""


def _hashes(outputs):
    """`HEX QUALITY PATH` lines -> {path: (int hash, quality)}."""
    found = {}
    for text in outputs:
        for line in text.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and len(parts[0]) == 64:
                found[parts[2]] = (int(parts[0], 16), int(parts[1]))
    return found


def bench_pdq(ctx):
    if not ctx.exhibit.has_bench_tool():
        ctx.results.rows.append(Row("pdq", "exhibit ÷ pdqhash images/s", "skipped: no exhibit-bench in BENCH_BIN",
                                    "pdqhash", None, 1.0))
        return
    files = _images(ctx, QUICK_IMAGES if ctx.settings.quick else IMAGES)
    for path in files:
        path.read_bytes()  # a warm page cache for both tools alike
    python = ctx.settings.venv / "bin" / "python"
    halves = [files[0::2], files[1::2]]
    exhibit_cmd = [ctx.exhibit.bench_exe, "pdq", "--jobs", "2", *files]
    reference_cmds = [[python, "-c", REFERENCE, *half] for half in halves]
    ex, py = [], []
    for i in range(ctx.settings.runs):
        order = [("exhibit", [exhibit_cmd], ex), ("pdqhash", reference_cmds, py)]
        for name, commands, times in order if i % 2 == 0 else reversed(order):
            wall, cpu, outputs = _together(commands)
            times.append((wall, cpu))
            if name == "exhibit":
                ours = _hashes(outputs)
            else:
                theirs = _hashes(outputs)
        print(f"bench:    pdq run {i + 1}: exhibit {ex[-1][0]:.2f} s wall ({ex[-1][1]:.2f} s CPU), "
              f"pdqhash {py[-1][0]:.2f} s wall ({py[-1][1]:.2f} s CPU)", flush=True)
    distances = []
    for path in files:
        key = str(path)
        if key not in ours or key not in theirs:
            raise BenchError(f"{key} was not hashed by {'exhibit-bench pdq' if key not in ours else 'pdqhash'}.")
        distances.append(bin(ours[key][0] ^ theirs[key][0]).count("1"))
    if max(distances) > 2:
        raise BenchError(f"exhibit-bench pdq differs from pdqhash by {max(distances)} bits on "
                         f"{files[distances.index(max(distances))]} (at most 2 allowed).")
    n = len(files)
    ex_wall, py_wall = median([t[0] for t in ex]), median([t[0] for t in py])
    ex_cpu, py_cpu = median([t[1] for t in ex]), median([t[1] for t in py])
    ctx.results.rows.append(Row("pdq", f"exhibit ÷ pdqhash images/s, {n:,} × 1 MP JPEG, 2 cores",
                                f"{n / ex_wall:.0f} images/s", f"pdqhash {n / py_wall:.0f} images/s",
                                py_wall / ex_wall, 1.0))
    ctx.results.facts[f"PDQ of {n:,} JPEGs ({SIZE})"] = (
        f"CPU per image: exhibit {ex_cpu / n * 1000:.1f} ms, pdqhash (Pillow + C++) {py_cpu / n * 1000:.1f} ms; "
        f"hashes identical for {distances.count(0):,} of {n:,}, worst distance {max(distances)}")


def _similar_index(ctx, hashes):
    """The filled index under .bench/media/, made once by exhibit-bench similar."""
    folder = ctx.settings.root / "media"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"similar-{hashes}.sqlite"
    stamp = folder / f"similar-{hashes}.json"
    want = {"hashes": hashes, "queries": QUERIES, "generator": GENERATOR}
    if not (stamp.exists() and json.loads(stamp.read_text()) == want and path.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
    return path, stamp, want


def _similar_line(out):
    fields = out.split()
    if len(fields) != 12 or fields[0] != "similar":
        raise BenchError(f"exhibit-bench similar printed {out.strip()!r}, not its `similar …` line.")
    return {"hashes": int(fields[1]), "queries": int(fields[2]), "planted": int(fields[3]), "found": int(fields[4]),
            "false": int(fields[5]), "p50": float(fields[6]), "p95": float(fields[7]), "max": float(fields[8]),
            "candidates": int(fields[9]), "fill": float(fields[10]), "cpu_p95": float(fields[11])}


def bench_similar(ctx):
    if not ctx.exhibit.has_bench_tool():
        ctx.results.rows.append(Row("similar", "p95 lookup ÷ 20 ms", "skipped: no exhibit-bench in BENCH_BIN",
                                    "in-process lookup", None, 1.0, False))
        return
    hashes = QUICK_HASHES if ctx.settings.quick else HASHES
    path, stamp, want = _similar_index(ctx, hashes)
    cmd = [ctx.exhibit.bench_exe, "similar", path, "--hashes", hashes, "--queries", QUERIES, "--seed", 22]
    figures = []
    for i in range(ctx.settings.runs):
        figures.append(_similar_line(run(cmd, what="exhibit-bench similar")[1]))
        stamp.write_text(json.dumps(want))
        f = figures[-1]
        print(f"bench:    similar run {i + 1}: {f['hashes']:,} hashes, p50 {f['p50']:.2f} ms, p95 {f['p95']:.2f} ms, "
              f"max {f['max']:.2f} ms (CPU p95 {f['cpu_p95']:.2f} ms), {f['found']}/{f['planted']} planted found, "
              f"at most {f['candidates']:,} candidates" + (f"; filled in {f['fill']:.0f} s" if f["fill"] else ""),
              flush=True)
    found = min(f["found"] for f in figures)
    planted = figures[0]["planted"]
    if any(f["false"] for f in figures):
        raise BenchError("exhibit-bench similar returned hashes farther than distance 31.")
    p95 = median([f["p95"] for f in figures])
    n = figures[0]["hashes"]
    ctx.results.rows.append(Row("similar", f"p95 lookup ÷ 20 ms, {n:,} hashes",
                                f"p95 {p95:.1f} ms, p50 {median([f['p50'] for f in figures]):.1f} ms "
                                f"(CPU p95 {median([f['cpu_p95'] for f in figures]):.1f} ms)",
                                f"in-process MediaHashIndex.lookup, {QUERIES} queries", p95 / 20, 1.0, False))
    ctx.results.rows.append(Row("similar recall", "planted near matches found ÷ planted",
                                f"{found}/{planted} (distances 1–31)", "exact Hamming check", found / planted, 1.0))
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    fill = max(f["fill"] for f in figures)
    ctx.results.facts[f"similar index of {n:,} hashes"] = (
        f"{size / 1e6:,.0f} MB media-index.sqlite; at most {max(f['candidates'] for f in figures):,} candidates "
        f"read per lookup" + (f"; filled through MediaHashIndex in {fill:.0f} s" if fill else ""))


def bench_media(ctx):
    """Both media rows (bench.py's "media" section)."""
    bench_pdq(ctx)
    bench_similar(ctx)
