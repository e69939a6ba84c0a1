"""Access-log benchmark: recorded reads per second with 1, 2 and 4 writer processes, a chain per subject against the
single chain it replaced, in one run; and how long each append waits for its head's lock.

    .venv/bin/python -m bench.audit              # 15 s per figure, 3 runs, 2 000 subjects
    .venv/bin/python -m bench.audit --quick      # the smoke run: 2 s per figure, 1 run

Each writer process stands in for a web instance: a loop of `AccessLog.record` over different subjects, picked at
random (officers looking at one person after another). The baseline is the single-chain append as it was before
chains per subject (every append locks one `AuditHead`), kept here so both are measured against the same Neo4j in the
same run. Lock wait is the time of the statement that takes the head's write lock, against the whole transaction
(both timed in the writer, so each includes one round trip): with one writer it is the uncontended cost.
Writes --out/audit.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench import report, say
from bench.stack import environment
from graph.audit import AccessLog
from graph.driver import build_driver
from graph.local import LocalNeo4j
from graph.processes import free_port
from graph.schema import migrate
from profiles.audit import GENESIS, AuditKeys, ChainBroken, ChainHead, Verdict, head_problem, sign, sign_head
from profiles.config import PROJECT_ROOT, Settings
from profiles.models import AccessRecord, Actor

WRITERS = (1, 2, 4)
METHODS = ("single chain", "chain per subject")
OFFICER = Actor("bench officer", "officer")


class Timed(AccessLog):
    """The log as it is, with its lock statement timed."""

    lock_s = 0.0

    def _lock_head(self, tx, label, chain, fresh) -> None:
        started = time.perf_counter()
        super()._lock_head(tx, label, chain, fresh)
        self.lock_s += time.perf_counter() - started


class SingleChain(Timed):
    """The baseline: the append before chains per subject, one head for the whole log (records named 'bench-single'
    so the per-chain constraint holds)."""

    def record(self, actor, subject_label, subject_id, purpose, what) -> AccessRecord:
        fresh = sign_head(0, GENESIS, self.keys)

        def work(tx) -> AccessRecord:
            started = time.perf_counter()
            tx.run("MERGE (h:AuditHead {name: 'bench-single'}) ON CREATE SET h.seq = 0, h.hash = $genesis, "
                   "h.key_id = $key_id, h.mac = $mac SET h.locked_at = datetime()", genesis=GENESIS,
                   key_id=fresh.key_id, mac=fresh.mac).consume()
            self.lock_s += time.perf_counter() - started
            row = tx.run("MATCH (h:AuditHead {name: 'bench-single'}) RETURN h.seq AS seq, h.hash AS hash, "
                         "h.key_id AS key_id, h.mac AS mac").single()
            head = ChainHead(row["seq"], row["hash"], row["key_id"], row["mac"])
            if head_problem(head, self.keys):
                raise ChainBroken(Verdict(0, head_problem(head, self.keys), None, head))
            now = datetime.now(UTC)
            r = sign(AccessRecord(str(uuid.uuid4()), head.seq + 1, now, actor.name, actor.role, purpose, what,
                                  subject_id, head.hash, "", ""), self.keys)
            moved = sign_head(r.seq, r.hash, self.keys)
            tx.run("MATCH (s:Person {pid: $sid}) CREATE (r:AccessRecord {rid: $rid, chain: 'bench-single', seq: $seq, "
                   "at: $at, actor: $actor, role: $role, purpose: $purpose, what: $what, subject_id: $sid, "
                   "prev_hash: $prev, hash: $hash, key_id: $key_id})-[:OF]->(s) WITH r "
                   "MATCH (h:AuditHead {name: 'bench-single'}) SET h.seq = $seq, h.hash = $hash, h.mac = $mac",
                   sid=subject_id, rid=r.rid, seq=r.seq, at=now, actor=r.actor, role=r.role, purpose=purpose,
                   what=what, prev=r.prev_hash, hash=r.hash, key_id=r.key_id, mac=moved.mac).consume()
            return r

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)


def writer(environ: dict, method: str, pids: list[str], seconds: float, seed: int, barrier, results) -> None:
    settings = Settings.from_env(environ)
    driver = build_driver(settings)
    log = (SingleChain if method == METHODS[0] else Timed)(
        driver, settings.neo4j_database, AuditKeys(settings.audit_keys, settings.active_audit_key))
    pick = random.Random(seed)
    log.record(OFFICER, "Person", pick.choice(pids), "warm-up", "person")  # the connection made before the clock
    log.lock_s = 0.0
    barrier.wait()
    count, tx_s, deadline = 0, 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        log.record(OFFICER, "Person", pick.choice(pids), "核验 / bench", "person")
        tx_s += time.perf_counter() - started
        count += 1
    driver.close()
    results.put({"count": count, "tx_s": tx_s, "lock_s": log.lock_s})


def measure(environ: dict, method: str, writers: int, pids: list[str], seconds: float) -> dict:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(environ, method, pids, seconds, w, barrier, results))
             for w in range(writers)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    parts = [results.get(timeout=seconds + 300) for _ in procs]
    wall = time.perf_counter() - started
    for p in procs:
        p.join(timeout=60)
    count, tx_s, lock_s = (sum(p[k] for p in parts) for k in ("count", "tx_s", "lock_s"))
    return {"reads_per_s": count / wall, "reads": count, "tx_ms": 1000 * tx_s / count,
            "lock_ms": 1000 * lock_s / count, "lock_share": lock_s / tx_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each figure's run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="2 s per figure, one run (the smoke run)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "report")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.runs, args.subjects = 2.0, 1, min(args.subjects, 200)
    root = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    neo4j = LocalNeo4j(home=root / "neo4j", port=free_port(), dist_dir=Settings().neo4j_dist_dir)
    try:
        neo4j.start(timeout=300)
        environ = environment(neo4j.uri, "redis://127.0.0.1:1/0", 1, 1, root / "var")
        settings = Settings.from_env(environ)
        driver = build_driver(settings)
        migrate(driver, settings.neo4j_database)
        pids = [str(uuid.uuid4()) for _ in range(args.subjects)]
        driver.execute_query("UNWIND $pids AS pid CREATE (:Person {pid: pid})", pids=pids,
                             database_=settings.neo4j_database)
        driver.close()
        say(f"Neo4j up, {len(pids)} subjects; {args.runs} run(s) of {args.seconds:.0f} s per figure")
        runs: dict[str, list[dict]] = {}
        for n in range(args.runs):
            for writers in WRITERS:
                for method in METHODS:  # side by side in each run, so a slower moment of the machine hits both
                    m = measure(environ, method, writers, pids, args.seconds)
                    runs.setdefault(f"{method}|{writers}", []).append(m)
                    say(f"run {n + 1}: {method:17} {writers} writer(s): {m['reads_per_s']:7.0f} reads/s, "
                        f"tx {m['tx_ms']:.2f} ms, lock {m['lock_ms']:.2f} ms ({100 * m['lock_share']:.0f} %)")
        result = summarise(runs, args)
    finally:
        neo4j.stop(timeout=120)
        shutil.rmtree(root, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audit.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(table(result))
    return 0


def summarise(runs: dict[str, list[dict]], args) -> dict:
    figures = {}
    for key, ms in runs.items():
        figures[key] = {k: report.spread([m[k] for m in ms], 3 if k == "lock_share" else 2)
                        for k in ("reads_per_s", "tx_ms", "lock_ms", "lock_share")}
    ratios = {w: round(figures[f"{METHODS[1]}|{w}"]["reads_per_s"]["median"]
                       / figures[f"{METHODS[0]}|{w}"]["reads_per_s"]["median"], 2) for w in WRITERS}
    return {"machine": report.machine(), "seconds": args.seconds, "runs": args.runs, "subjects": args.subjects,
            "figures": figures, "per_subject_over_single": ratios,
            "command": "python -m bench.audit" + (" --quick" if args.quick else "")}


def table(result: dict) -> str:
    lines = ["| writers | method | reads/s | tx ms | lock ms | lock share | ratio to single |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for w in WRITERS:
        for method in METHODS:
            f = result["figures"][f"{method}|{w}"]
            ratio = f"{result['per_subject_over_single'][w]:.2f}×" if method == METHODS[1] else ""
            lines.append(f"| {w} | {method} | {f['reads_per_s']['median']:.0f} | {f['tx_ms']['median']:.2f} | "
                         f"{f['lock_ms']['median']:.2f} | {100 * f['lock_share']['median']:.0f} % | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
