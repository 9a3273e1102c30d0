"""The `export` row of `make bench` (issue 25): `exhibit export` of the site B case
(2,000 pages + 2,000 images captured with --media) against `bagit.py` making a bag of the
same payload with the same two manifests (`--processes 2 --sha256 --sha512`).

bagit.py bags a folder in place: it moves the files into data/, hashes each once for both
manifests on two processes and writes the tag files. Exhibit also copies the evidence out of
the case, checks it as a case (ledger chain and signatures, every WARC record, every file)
and derives the report, load file, provenance and court documents. The payload bagit.py gets
is the data/ folder Exhibit wrote (copied beforehand, not timed), and its manifests must
list the same digests as Exhibit's: a fast wrong bag is no result.
"""

import shutil
import time

from common import BenchError, fresh_dir, median, run, timed
from exhibit import drop_workspace
from report import Row


def _warm(folder):
    """Read every file once so that both tools start with a warm page cache."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb", buffering=0) as f:
                while f.read(8 << 20):
                    pass


def _manifest(path):
    return sorted(path.read_text().splitlines())


def bench_export(ctx):
    pages = ctx.spec["site_b_pages"]
    urls = ctx.url_list("site-b-export", [f"/b/p{n:04d}.html" for n in range(pages)])
    ws, case = ctx.exhibit.new_case(ctx.scratch)
    ctx.exhibit.capture(ws, case, urls, 2 * pages, ctx.scratch / "capture.out", media=True)
    scratch = fresh_dir(ctx.scratch / "export")
    # The first export of new artifacts numbers them (an exhibit-number entry, DESIGN §21);
    # the timed runs export what a case looks like from then on.
    start = time.perf_counter()
    ctx.exhibit.export(ws, case, scratch / "first")
    first = time.perf_counter() - start
    shutil.rmtree(scratch / "first")
    ex_times, bagit_times = [], []
    try:
        for i in range(ctx.settings.runs):
            _warm(ws / "cases" / case)
            bag = scratch / f"bag-{i}"
            ex_times.append(timed([ctx.exhibit.exe, "export", "--workspace", ws, "--actor", "a-0002", case, "--out", bag],
                                  what="exhibit export"))
            payload = scratch / f"payload-{i}"
            shutil.copytree(bag / "data", payload)
            _warm(payload)
            bagit_times.append(timed([ctx.settings.venv / "bin" / "python", "-m", "bagit", "--processes", "2",
                                      "--sha256", "--sha512", payload], what="bagit.py (make a bag)"))
            for name in ("manifest-sha256.txt", "manifest-sha512.txt"):
                if _manifest(bag / name) != _manifest(payload / name):
                    raise BenchError(f"bagit.py's {name} differs from exhibit export's for the same payload ({bag}).")
            print(f"bench:    run {i + 1}: exhibit export {ex_times[-1]:.2f} s, bagit.py {bagit_times[-1]:.2f} s", flush=True)
            shutil.rmtree(bag)
            shutil.rmtree(payload)
    finally:
        drop_workspace(ws)
        shutil.rmtree(scratch, ignore_errors=True)
    ex, py = median(ex_times), median(bagit_times)
    ctx.results.facts["first export of the site B case (numbers its exhibits)"] = f"{first:.2f} s"
    ctx.results.rows.append(Row("export", "exhibit export ÷ bagit.py make-bag time", f"{ex:.2f} s",
                                f"bagit {py:.2f} s", ex / py, 1.0, higher_is_better=False))
