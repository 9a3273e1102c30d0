"""The `evidence server` rows of `make bench` (issue 24, DESIGN §22, docs/server.md).

A real PostgreSQL from Debian's packages (initdb in a scratch directory, pg_ctl on a free
loopback port, as the `postgres` user when run as root) and the release `exhibit server`
on 127.0.0.1.

- push: `exhibit push` of a case of 10,000 note entries (the server checks the whole
  ledger as `exhibit verify` does, then stores it in one transaction), in entries/s and
  MB/s of ledger, against `psql \\copy` of the same 10,000 rows into a table of the same
  columns (the floor: PostgreSQL taking the rows with nothing checked). The entries are
  written by this script, signed with the investigator's Ed25519 key exactly as Exhibit
  signs them (sha256 over RFC 8785 canonical JSON; the notes are ASCII, where Python's
  sorted compact JSON is canonical), because 10,000 `exhibit case note` processes would
  time process start, not the server.
- search: `exhibit search --remote` p95 over 1,000,000 indexed pages (1,000 cases of 1,000
  pages, generated with SQL `generate_series` straight into the server's `page_text`, the
  GIN index rebuilt after), 20 different two-word queries, process start included; the
  target is an absolute 100 ms, so the ratio is p95 ÷ 100 ms (≤ 1).
"""

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from common import BenchError, fresh_dir, median, run
from exhibit import CUSTODIAN, INVESTIGATOR
from report import Row

ENTRIES, QUICK_ENTRIES = 10_000, 500
CASES, PAGES_PER_CASE, QUICK_CASES = 1_000, 1_000, 20
QUERIES = 20
SEARCH_TARGET_MS = 100.0


def _postgres_bin():
    versions = sorted((int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), reverse=True) \
        if os.path.isdir("/usr/lib/postgresql") else []
    for version in versions:
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "pg_ctl").exists():
            return path
    raise BenchError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): run `make deps`.")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl on 127.0.0.1; stopped (immediate) by stop()."""

    def __init__(self, scratch):
        self.bin = _postgres_bin()
        self.dir = fresh_dir(scratch / "pg")
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._pg("initdb", "-D", self.dir / "data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        self._pg("pg_ctl", "-D", self.dir / "data", "-l", self.dir / "server.log", "-w", "-t", "60",
                 "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.version = self.psql("SHOW server_version").split()[0]

    def _pg(self, tool, *args):
        cmd = ([ "/usr/sbin/runuser", "-u", "postgres", "--"] if self.as_postgres else []) + [self.bin / tool, *args]
        # Output to a file and every other descriptor closed: the postmaster keeps what it inherits.
        with open(self.dir / f"{tool}.out", "wb") as out:
            code = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  close_fds=True).returncode
        if code != 0:
            raise BenchError(f"{tool} failed: {(self.dir / f'{tool}.out').read_text()[-800:]}")

    def psql(self, sql, stdin=None):
        cmd = [self.bin / "psql" if (self.bin / "psql").exists() else "psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1",
               "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]
        proc = subprocess.run([str(c) for c in cmd], input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchError(f"psql failed: {proc.stderr[-800:]}")
        return proc.stdout.strip()

    def stop(self):
        try:
            self._pg("pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop")
        except BenchError:
            pass


class Server:
    def __init__(self, exe, cluster, scratch):
        self.proc = subprocess.Popen([str(exe), "server", "--database", cluster.url, "--store", str(scratch / "store"),
                                      "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        line = self.proc.stdout.readline().decode()
        match = re.match(r"Serving (\S+)", line)
        if not match:
            self.stop()
            raise BenchError(f"exhibit server did not start: {line} {self.proc.stderr.read().decode()[-800:]}")
        self.url = match.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _append_notes(ws, case, count):
    """Appends `count` signed note entries to the case's ledger; returns the ledger's size."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    key = load_pem_private_key((ws / "keys" / f"{INVESTIGATOR}.key.pem").read_bytes(), password=None)
    ledger = ws / "cases" / case / "ledger.jsonl"
    last = json.loads(ledger.read_bytes().splitlines()[-1])
    seq, prev = last["seq"], last["hash"]
    lines = []
    for index in range(count):
        seq += 1
        subject = {"text": f"bench note {index} harbour lighthouse shipment {secrets.token_hex(4)}"}
        salt = secrets.token_bytes(32)
        entry = {"seq": seq, "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{index % 1000000:06d}Z",
                 "case": case, "actor": INVESTIGATOR, "action": "note",
                 "subject_digest": hashlib.sha256(salt + _canonical(subject)).hexdigest(), "prev": prev}
        entry["hash"] = hashlib.sha256(_canonical(entry)).hexdigest()
        entry["sig"] = base64.b64encode(key.sign(entry["hash"].encode())).decode()
        entry["subject"], entry["salt"] = subject, salt.hex()
        lines.append(_canonical(entry) + b"\n")
        prev = entry["hash"]
    with open(ledger, "ab") as out:
        out.write(b"".join(lines))
    return sum(len(line) for line in lines), lines


def bench_evidence_server(ctx):
    s, exhibit = ctx.settings, ctx.exhibit
    scratch = fresh_dir(ctx.scratch / "evidence-server")
    entries = QUICK_ENTRIES if s.quick else ENTRIES
    cluster = Cluster(scratch)
    server = None
    try:
        server = Server(exhibit.exe, cluster, scratch)
        pushes, copies, megabytes = [], [], 0.0
        for attempt in range(s.runs):
            if attempt == 0:
                ws, case = exhibit.new_case(scratch)
                run([exhibit.exe, "remote", "add", "hq", server.url, "--workspace", ws, "--actor", CUSTODIAN], what="exhibit remote add")
            else:
                # The same workstation, a new case: its actors are the ones the server registered,
                # and push requires the server key that remote add pinned in its witness log.
                case = exhibit._cli("case", "open", "--workspace", ws, "--actor", INVESTIGATOR, "--category", "online-crime",
                                    "--title", f"Bench {attempt}", "--field", "subtype=other", "--field", "complainant_reference=R-1",
                                    what="case open")[1].strip()
            size, lines = _append_notes(ws, case, entries)
            megabytes = size / 1e6
            pushes.append(run([exhibit.exe, "push", case, "--workspace", ws, "--actor", INVESTIGATOR], what="exhibit push")[3])
            # The floor: the same rows into a table of the same columns, by psql \copy.
            rows = []
            for line in lines:
                e = json.loads(line)
                rows.append("\t".join([e["case"] + "-copy", str(e["seq"]), e["hash"], e["prev"], e["actor"], e["action"], e["time"],
                                       line.decode().rstrip("\n").replace("\\", "\\\\")]))
            cluster.psql("DROP TABLE IF EXISTS copy_floor; CREATE TABLE copy_floor (LIKE ledger_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS); "
                         "ALTER TABLE copy_floor ADD PRIMARY KEY (case_id, seq)")
            start = time.perf_counter()
            cluster.psql("\\copy copy_floor (case_id, seq, hash, prev, actor, action, time, line) FROM STDIN", stdin="\n".join(rows) + "\n")
            copies.append(time.perf_counter() - start)
        push, copy = median(pushes), median(copies)
        ctx.results.rows.append(Row(
            f"server push ({entries:,} entries, {megabytes:.1f} MB; PostgreSQL {cluster.version})", "psql \\copy s ÷ exhibit push s",
            f"{entries / push:,.0f} entries/s, {megabytes / push:.1f} MB/s", f"{entries / copy:,.0f} rows/s",
            ratio=copy / push, target=0.1))
        ctx.results.rows.append(_search_row(ctx, cluster, server, ws, scratch))
    finally:
        if server:
            server.stop()
        cluster.stop()


def _search_row(ctx, cluster, server, ws, scratch):
    s, exhibit = ctx.settings, ctx.exhibit
    cases = QUICK_CASES if s.quick else CASES
    pages = cases * PAGES_PER_CASE
    # Pages of 24 words from a 50,000-word vocabulary (w0 … w49999), spread by multiplicative
    # hashing so that each word lands on a few hundred pages; case ids PV-2026-0001 … .
    cluster.psql(f"""
        INSERT INTO cases (id, entry_count, head)
        SELECT 'PV-2026-' || lpad(c::text, 4, '0'), 1, repeat('0', 64) FROM generate_series(1, {cases}) c;
        DROP INDEX page_text_tsv;
        INSERT INTO page_text (case_id, seq, url, title, body)
        SELECT 'PV-2026-' || lpad((1 + i / {PAGES_PER_CASE})::text, 4, '0'), 1 + i % {PAGES_PER_CASE},
               'http://127.0.0.1/p/' || i, 'page ' || i,
               (SELECT string_agg('w' || ((i::bigint * (2654435761 + k * 40503) + k * 7919) % 50000), ' ')
                  FROM generate_series(1, 24) k)
        FROM generate_series(0, {pages - 1}) i;
        CREATE INDEX page_text_tsv ON page_text USING GIN (tsv);
        ANALYZE page_text;
    """)
    counted = int(cluster.psql("SELECT count(*) FROM page_text"))
    if counted < pages:
        raise BenchError(f"only {counted} pages were generated")
    queries = [f"w{(q * 977) % 50000}" for q in range(QUERIES)]
    per_run = []
    for _ in range(s.runs):
        times = sorted(run([exhibit.exe, "search", "--remote", "hq", query, "--workspace", ws, "--actor", INVESTIGATOR, "--json"],
                           what="exhibit search --remote")[3] for query in queries)
        per_run.append(times[int(0.95 * (len(times) - 1) + 0.5)] * 1000)
    p95 = median(per_run)
    return Row(f"server search p95 ({counted:,} pages, {QUERIES} one-word queries; PostgreSQL {cluster.version})",
               "exhibit search --remote p95 ÷ 100 ms", f"{p95:.0f} ms", f"target {SEARCH_TARGET_MS:.0f} ms",
               ratio=p95 / SEARCH_TARGET_MS, target=1.0, higher_is_better=False)
