"""The `import` row of `make bench` (issue 20): `exhibit import` of a generated 1 GiB
`.warc.gz` against `openssl dgst -sha256` of the same file — the floor of taking a file
in is reading and hashing it once. Exhibit reads it once too, and each chunk is written
(O_DIRECT) to the staged copy and checked: every record inflated (its CRC-32 checked),
its declared sha1 block and payload digests checked as one paired pass, and each HTTP
payload's sha256 (the artifact's) computed in a second paired pass beside the file's own
sha256, both passes in the background on two cores (docs/import.md, "How a WARC is read"). Both run on
a shared machine: the ratio is of one run each, side by side; the CPU each used is
printed too, since a loaded machine gives the two-thread import less than two cores.
Peak RSS from /usr/bin/time -v.

The WARC is made here (never committed): one gzip member per record, warcio-style
sha1 base32 digests, responses that are mostly incompressible bytes (as much
evidence is: archives, downloads; no image or video, whose media analysis after the import is
not the intake) with an HTML page every fourth record.
"""

import base64
import gzip
import hashlib
import os
import random
import re
import resource
import sys
import time
import uuid

from common import MIB, fresh_dir, median, peak_rss_mib, run
from exhibit import INVESTIGATOR, drop_workspace
from report import Row

TARGET_BYTES = 1024 * MIB


def _sha1(data):
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _record(kind, uri, content_type, block, payload=None, extra=()):
    lines = [b"WARC/1.1", b"WARC-Type: " + kind, b"WARC-Record-ID: <urn:uuid:" + str(uuid.uuid4()).encode() + b">",
             b"WARC-Date: 2026-12-01T09:30:00Z", b"WARC-Target-URI: " + uri, b"Content-Type: " + content_type,
             b"WARC-Block-Digest: " + _sha1(block).encode()]
    if payload is not None:
        lines.append(b"WARC-Payload-Digest: " + _sha1(payload).encode())
    lines += list(extra)
    lines.append(b"Content-Length: " + str(len(block)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + block + b"\r\n\r\n"


def make_warc(path, target=TARGET_BYTES, seed=20):
    """Writes a .warc.gz of about `target` compressed bytes; returns (size, records)."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(4000)]
    records = 0
    with open(path, "wb") as out:
        info = b"software: exhibit bench\r\nformat: WARC File Format 1.1\r\n"
        out.write(gzip.compress(_record(b"warcinfo", b"urn:bench", b"application/warc-fields", info), 6))
        n = 0
        while out.tell() < target:
            n += 1
            if n % 4 == 0:
                body = b"<!doctype html><html><body><p>" + b" ".join(rng.choice(words) for _ in range(20000)) + b"</p></body></html>"
                media = b"text/html"
                level = 6
            else:
                body = os.urandom(rng.randint(256 * 1024, 4 * MIB))
                media = b"application/zip"
                level = 1  # incompressible: how fast it is stored matters, not how small
            head = b"HTTP/1.1 200 OK\r\nContent-Type: " + media + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            uri = b"https://bench.example/item/%d" % n
            out.write(gzip.compress(_record(b"response", uri, b"application/http; msgtype=response", head + body, body), level))
            out.write(gzip.compress(_record(b"request", uri, b"application/http; msgtype=request",
                                            b"GET /item/%d HTTP/1.1\r\nHost: bench.example\r\n\r\n" % n), 6))
            records += 2
        return out.tell(), records + 1


def _cpu_seconds(time_v):
    """User plus system seconds from GNU time -v's report."""
    return sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", time_v))


def bench_import(ctx):
    scratch = fresh_dir(ctx.scratch / "import")
    warc = scratch / "bench.warc.gz"
    target = (64 if ctx.settings.quick else 1024) * MIB
    start = time.perf_counter()
    size, records = make_warc(warc, target)
    print(f"bench:    generated {size / MIB:.0f} MiB WARC, {records} records, in {time.perf_counter() - start:.0f} s", flush=True)
    ex_times, ssl_times, rss = [], [], []
    for i in range(ctx.settings.runs):
        run(["openssl", "dgst", "-sha256", warc], what="openssl dgst (warm the page cache)")
        ws, case = ctx.exhibit.new_case(scratch)
        cmd = [ctx.exhibit.exe, "import", case, warc, "--workspace", ws, "--actor", INVESTIGATOR,
               "--source", "bench: generated WARC"]
        start = time.perf_counter()
        rss.append(peak_rss_mib(cmd, scratch=scratch, what="exhibit import"))
        ex_times.append(time.perf_counter() - start)
        ex_cpu = _cpu_seconds((scratch / "time-v.txt").read_text())
        drop_workspace(ws)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run(["openssl", "dgst", "-sha256", warc], what="openssl dgst -sha256")
        ssl_times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ssl_cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        print(f"bench:    run {i + 1}: exhibit import {ex_times[-1]:.2f} s (CPU {ex_cpu:.2f} s), "
              f"openssl dgst -sha256 {ssl_times[-1]:.2f} s (CPU {ssl_cpu:.2f} s), peak RSS {rss[-1]:.0f} MiB", flush=True)
    ex, ssl = median(ex_times), median(ssl_times)
    ctx.results.rows.append(Row("import", f"exhibit import ÷ openssl dgst -sha256, MiB/s of a {size / MIB:.0f} MiB .warc.gz",
                                f"{size / MIB / ex:.0f} MiB/s", f"openssl {size / MIB / ssl:.0f} MiB/s", ssl / ex, 0.5))
    ctx.results.rows.append(Row("import memory", "exhibit import peak RSS ÷ 64 MiB", f"{median(rss):.1f} MiB", "64 MiB",
                                median(rss) / 64, 1.0, higher_is_better=False))
    warc.unlink()


if __name__ == "__main__":
    # `python3 import_bench.py OUT.warc.gz [MiB]`: only make the WARC (for profiling by hand).
    made = make_warc(sys.argv[1], int(sys.argv[2]) * MIB if len(sys.argv) > 2 else TARGET_BYTES)
    print(f"{made[0]} bytes, {made[1]} records")
