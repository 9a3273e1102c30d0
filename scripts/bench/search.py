"""The `search` row of `make bench` (issue 25): `exhibit search` over 100,000 indexed pages
against the `sqlite3` command running the same FTS5 query on the same index.sqlite.

The index is generated, not captured: capturing 100,000 pages and letting the index catch up
would take minutes and measure capture, not search. A workspace with one case is made by
`exhibit` itself (init, actors, case open, one `exhibit artifacts` that creates index.sqlite
with Exhibit's own schema and marks the case up to date with its ledger); then this script
adds 100,000 pages (artifact rows and FTS5 page text: seeded prose over a 30,000-word
vocabulary with word frequencies falling off like a natural language's) to that index with
Python's sqlite3. `exhibit search` therefore does everything it does in a real workspace —
open the workspace, check the actor, bring the index up to date with the ledger, run the
query, record the view entry — over a real FTS5 index of that size; only the pages' WARC
records are missing, and `search` never reads them.

Each of 20 different two-word queries (words of middling frequency, a few hundred pages
each) is run once per tool per repetition, process start included; the figure is the p95 of
the 20 wall times. The floor is `sqlite3 -readonly index.sqlite "<Exhibit's SELECT>"`: the
same statement (join with artifacts, snippet, rank order, LIMIT 100), printed.
"""

import json
import random
import sqlite3
import time
from pathlib import Path

from common import BenchError, median, run, timed
from exhibit import INVESTIGATOR
from report import Row

FULL_PAGES, QUICK_PAGES = 100_000, 2_000
VOCABULARY, WORDS_PER_PAGE, QUERIES = 30_000, 120, 20
GENERATOR = 1  # bump when the generated index changes, so a cached one is rebuilt

# Exhibit's statement (Sources/CaseIndex/WorkspaceIndex.swift, `search`) for all cases.
SQL = ("SELECT p.case_id, p.artifact_id, p.url, p.title, snippet(page_text, 4, '[', ']', '…', 16) AS snippet, a.seq "
       "FROM page_text p JOIN artifacts a ON a.case_id = p.case_id AND a.id = p.artifact_id "
       "WHERE page_text MATCH '{match}' ORDER BY rank, p.case_id, a.seq LIMIT 100")

_SYLLABLES = ("ka lo mi ne ru ta po si de va ber lin mor tas qui zen hal dor fen gri "
              "sol pra nex vul tor mab cul wen jor sta").split()


def _vocabulary(rng):
    words, seen = [], set()
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _generate(ws, case, pages, log):
    """Fill the workspace's index.sqlite with `pages` pages of case `case`; return the queries."""
    rng = random.Random(25)
    words = _vocabulary(rng)
    weights = [1.0 / (rank + 1) for rank in range(VOCABULARY)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    db = sqlite3.connect(ws / "index.sqlite")
    db.execute("PRAGMA synchronous = OFF")
    start = time.monotonic()
    samples = []  # the words of 20 pages spread over the index: each query is two words of one of them
    with db:
        for first in range(0, pages, 5_000):
            artifacts, texts = [], []
            for n in range(first, min(pages, first + 5_000)):
                artifact, url = f"A-{n + 1:07d}", f"http://127.0.0.1/s/p{n:06d}.html"
                title = " ".join(rng.choices(words, cum_weights=cumulative, k=4)).capitalize()
                text = " ".join(rng.choices(words, cum_weights=cumulative, k=WORDS_PER_PAGE))
                artifacts.append((case, artifact, n + 10, url, url, "2026-12-01T00:00:00Z", 200,
                                  "text/html", f"{n:064x}", len(text), "page", title, "bench.warc.gz", None))
                texts.append((case, artifact, url, title, text))
                if n % max(1, pages // QUERIES) == 0 and len(samples) < QUERIES:
                    samples.append(text.split())
            db.executemany("INSERT INTO artifacts (case_id, id, seq, url, final_url, time, status, content_type, "
                           "sha256, size, role, title, warc_file, blob) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", artifacts)
            db.executemany("INSERT INTO page_text (case_id, artifact_id, url, title, text) VALUES (?,?,?,?,?)", texts)
        db.execute("INSERT INTO page_text(page_text) VALUES('optimize')")
    db.close()
    log(f"   search: {pages:,} pages indexed in {time.monotonic() - start:.0f} s")
    # 20 different pairs of middling words (ranks 200-3,000), each pair taken from one page so it
    # is found at least there; over 100,000 pages such a pair is on tens to hundreds of pages.
    rank = {word: r for r, word in enumerate(words)}
    pairs = []
    for sample in samples:
        middling = sorted({w for w in sample if 200 <= rank[w] < 3_000})
        if len(middling) < 2:
            middling = sorted(set(sample))
        pair = tuple(rng.sample(middling, 2))
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def _prepared(ctx, pages):
    """The workspace, case and queries; generated once under .bench/ and reused while unchanged."""
    root = ctx.settings.root / "search"
    stamp = root / "stamp.json"
    want = {"pages": pages, "generator": GENERATOR}
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("spec") == want and Path(saved["ws"]).is_dir():
            return Path(saved["ws"]), saved["case"], [tuple(q) for q in saved["queries"]]
    import shutil
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    ws, case = ctx.exhibit.new_case(root)
    # Creates index.sqlite with Exhibit's schema and records the case as up to date.
    run([ctx.exhibit.exe, "artifacts", "--workspace", ws, "--actor", INVESTIGATOR, case], what="exhibit artifacts")
    queries = _generate(ws, case, pages, ctx.log if hasattr(ctx, "log") else print)
    stamp.write_text(json.dumps({"spec": want, "ws": str(ws), "case": case, "queries": queries}))
    return ws, case, queries


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def bench_search(ctx):
    pages = QUICK_PAGES if ctx.settings.quick else FULL_PAGES
    ws, case, queries = _prepared(ctx, pages)
    index = ws / "index.sqlite"
    out = ctx.scratch / "search.out"
    ex_p95, sq_p95 = [], []
    for repetition in range(ctx.settings.runs):
        ex, sq = [], []
        for number, (a, b) in enumerate(queries):
            exhibit_cmd = [ctx.exhibit.exe, "search", "--workspace", ws, "--actor", INVESTIGATOR, f"{a} {b}"]
            sqlite_cmd = ["sqlite3", "-readonly", index, SQL.format(match=f'"{a}" "{b}"')]
            # Order alternates between queries, so neither tool always finds the cache warmed by the other.
            order = ((exhibit_cmd, ex), (sqlite_cmd, sq))
            for cmd, times in (order if (number + repetition) % 2 == 0 else reversed(order)):
                times.append(timed(cmd, stdout_path=out, what=f"{Path(str(cmd[0])).name} search {a} {b}"))
            hits = sum(1 for line in out.read_text(errors="replace").splitlines() if line.strip())
            if hits == 0:
                raise BenchError(f"search for {a!r} {b!r} found nothing: the generated index is not what the bench expects.")
        ex_p95.append(p95(ex))
        sq_p95.append(p95(sq))
        print(f"bench:    search p95 over {len(queries)} queries: exhibit {ex_p95[-1] * 1000:.0f} ms, "
              f"sqlite3 {sq_p95[-1] * 1000:.0f} ms (medians {median(ex) * 1000:.0f} / {median(sq) * 1000:.0f} ms)", flush=True)
    size = index.stat().st_size / 1e6
    ctx.results.facts[f"search index of {pages:,} pages"] = f"{size:.0f} MB index.sqlite, {len(queries)} two-word queries"
    # What process start alone costs each tool (no workspace, no query), in this run: the part
    # of the p95 that no query work can remove.
    starts = {name: median([timed(cmd, stdout_path=out, what=f"{name} start") for _ in range(QUERIES)])
              for name, cmd in (("exhibit --version", [ctx.exhibit.exe, "--version"]), ("sqlite3 -version", ["sqlite3", "-version"]))}
    ctx.results.facts["search: process start alone"] = ", ".join(f"{name} {t * 1000:.1f} ms median" for name, t in starts.items())
    ctx.results.rows.append(Row("search", f"exhibit p95 ÷ sqlite3 p95, {pages:,} pages", f"{median(ex_p95) * 1000:.0f} ms p95",
                                f"sqlite3 {median(sq_p95) * 1000:.0f} ms p95", median(ex_p95) / median(sq_p95), 1.5, False))
