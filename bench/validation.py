"""What the API's input validation costs: ticket creation and the agent queue, validated and not.

    python -m bench.validation                         # SQLite and PostgreSQL, 10k tickets
    python -m bench.validation --backends sqlite --sizes 10000 --rounds 6

The same database, host app, token and requests as ``bench/run.py`` (its generator, its
``POST /support/api/v1/tickets`` bodies and its statement counter). The two modes differ only
in the door every body and query string comes through (``web/api/schemas/_base.validate``):

* **validated**: the pydantic models, as in production;
* **not validated**: for the comparison only, the door builds the model without checking it
  (``model_construct``), so each request does everything else the same way.

The modes alternate in rounds (``--rounds`` of ``--create`` tickets and ``--reps`` reads of
each list per mode, the order swapped every round), so a change in the machine's load touches
both alike. Reported per mode: median and p95 latency, requests per second, and the SQL
statements per request, which must be the same in both; and the statements run inside the
validation itself, counted around each call of the real door (none: the schemas never reach
the database).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flask_escalated.web.api.schemas import _base

from .run import (
    ACTIVE,
    API,
    RESULTS_DIR,
    Context,
    StatementCounter,
    _catalogue,
    _headers,
    _new_ticket_data,
    machine,
    percentile,
    seeded_host,
)

MODES = ("validated", "not validated")
#: The agent-queue reads measured (the first three of ``bench/run.py``'s list).
LISTS = {
    "queue: first page": f"{API}/tickets?limit=25",
    "queue: active, priority sort": f"{API}/tickets?limit=25&status_category={ACTIVE}"
                                    "&sort=-priority",
    "queue: open + unassigned": f"{API}/tickets?limit=25&status_category=open&assignee=none",
}


@contextmanager
def counted(counter: StatementCounter, into: list[int]) -> Iterator[None]:
    """Validation as in production, with the SQL statements run inside it counted (none are
    expected: the schemas never reach the database)."""
    real = _base.validate

    def validate(model: type[BaseModel], data: Any) -> BaseModel:
        before = counter.count
        try:
            return real(model, data)
        finally:
            into.append(counter.count - before)

    _base.validate = validate  # type: ignore[assignment]
    try:
        yield
    finally:
        _base.validate = real  # type: ignore[assignment]


@contextmanager
def unvalidated() -> Iterator[None]:
    """Bodies and query strings reach the views unchecked (the bench's baseline only)."""
    real = _base.validate

    def construct(model: type[BaseModel], data: Any) -> BaseModel:
        return model.model_construct(**data) if isinstance(data, dict) else real(model, data)

    _base.validate = construct  # type: ignore[assignment]
    try:
        yield
    finally:
        _base.validate = real  # type: ignore[assignment]


class Samples:
    """Latencies (ms) and SQL statement counts of one operation in one mode."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.sql: list[int] = []
        self.seconds = 0.0

    def summary(self) -> dict[str, Any]:
        return {"n": len(self.ms), "median_ms": round(statistics.median(self.ms), 3),
                "p95_ms": round(percentile(self.ms, 95), 3),
                "per_second": round(len(self.ms) / self.seconds, 1),
                "statements": statistics.median(self.sql), "statements_max": max(self.sql)}


def create_round(ctx: Context, client: Any, count: int, catalogue: tuple, into: Samples,
                 start_i: int) -> None:
    for i in range(count):
        data = _new_ticket_data(ctx, start_i + i, *catalogue)
        ctx.counter.reset()
        start = time.perf_counter()
        response = client.post(f"{API}/tickets", json=data, headers=_headers(ctx))
        elapsed = time.perf_counter() - start
        if response.status_code != 201:
            raise RuntimeError(f"POST /tickets -> {response.status_code}: "
                               f"{response.get_data(True)[:500]}")
        into.ms.append(elapsed * 1000)
        into.seconds += elapsed
        into.sql.append(ctx.counter.count)


def read_round(ctx: Context, client: Any, path: str, reps: int, into: Samples) -> None:
    for _ in range(reps):
        ctx.counter.reset()
        start = time.perf_counter()
        response = client.get(path, headers=_headers(ctx))
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} -> {response.status_code}")
        into.ms.append(elapsed * 1000)
        into.seconds += elapsed
        into.sql.append(ctx.counter.count)


def run_one(backend: str, size: int, args: argparse.Namespace, tmpdir: str,
            log: Callable[[str], None]) -> dict[str, Any]:
    log(f"== {backend}, {size:,} tickets")
    with seeded_host(backend, size, tmpdir, seed=args.seed, keep=False, quiet=True,
                     log=log) as (ctx, _summary):
        counter = ctx.counter
        catalogue = _catalogue(ctx)
        client = ctx.app.test_client()
        ops = ["create (POST /tickets)", *LISTS]
        samples = {(op, mode): Samples() for op in ops for mode in MODES}
        # Warm both paths (imports, pydantic's first use, the database's caches).
        for mode in MODES:
            with unvalidated() if mode != MODES[0] else nullcontext():
                create_round(ctx, client, 5, catalogue, Samples(), 0)
                for path in LISTS.values():
                    read_round(ctx, client, path, 3, Samples())
        inside: list[int] = []
        for r in range(args.rounds):
            order = MODES if r % 2 == 0 else MODES[::-1]
            for mode in order:
                # The same bodies in both modes (one seed per round): the SQL each
                # request runs can then be compared one to one.
                ctx.rng = random.Random(args.seed + r)
                with (unvalidated() if mode != MODES[0] else counted(counter, inside)):
                    create_round(ctx, client, args.create, catalogue,
                                 samples[(ops[0], mode)], r * args.create)
                    for name, path in LISTS.items():
                        read_round(ctx, client, path, args.reps, samples[(name, mode)])
        result: dict[str, Any] = {"backend": backend, "size": size, "ops": {},
                                  "validations": len(inside),
                                  "sql_inside_validation": sum(inside)}
        log(f"    {len(inside)} validations ran {sum(inside)} SQL statements")
        for op in ops:
            on = samples[(op, MODES[0])].summary()
            off = samples[(op, MODES[1])].summary()
            on["slower_pct"] = round((on["median_ms"] / off["median_ms"] - 1) * 100, 1)
            # The same multiset of statement counts (a request's count can depend on what
            # earlier requests created, e.g. a requester's first ticket, not on the mode).
            on["same_sql"] = (sorted(samples[(op, MODES[0])].sql)
                              == sorted(samples[(op, MODES[1])].sql))
            result["ops"][op] = {MODES[0]: on, MODES[1]: off}
            log(f"    {op:30} validated {on['median_ms']:7.2f} ms  not {off['median_ms']:7.2f}"
                f" ms  ({on['slower_pct']:+.1f} %)  SQL {on['statements']:g}"
                f" (same counts: {on['same_sql']})")
    return result


def markdown(runs: list[dict[str, Any]]) -> str:
    lines = ["| run | operation | validated: median / p95 ms | not validated: median / p95 ms "
             "| validation costs | SQL per request, median |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in runs:
        head = f"{r['backend']} {r['size'] // 1000}k"
        for op, modes in r["ops"].items():
            on, off = modes[MODES[0]], modes[MODES[1]]
            sql = f"{on['statements']:g} (max {on['statements_max']}): " + (
                "the same" if on["same_sql"] else f"differs ({off['statements']:g})")
            lines.append(f"| {head} | {op} | {on['median_ms']:.2f} / {on['p95_ms']:.2f} | "
                         f"{off['median_ms']:.2f} / {off['p95_ms']:.2f} | "
                         f"{on['slower_pct']:+.1f} % | {sql} |")
    lines += ["", "SQL statements run inside validation: " + ", ".join(
        f"{r['backend']} {r['sql_inside_validation']} in {r['validations']} validations"
        for r in runs)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validation", description=__doc__
                                     .split("\n", 1)[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--rounds", type=int, default=30, help="alternations of the two modes")
    parser.add_argument("--create", type=int, default=20, help="tickets per mode and round")
    parser.add_argument("--reps", type=int, default=6, help="reads per list, mode and round")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    report: dict[str, Any] = {"started_at": datetime.now(timezone.utc).isoformat(),
                              "machine": machine(), "settings": vars(args) | {"output": None},
                              "runs": []}
    tmpdir = tempfile.mkdtemp(prefix="escalated-bench-validation-")
    try:
        for backend in args.backends.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                report["runs"].append(run_one(backend.strip(), size, args, tmpdir, log))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    out = args.output or RESULTS_DIR / ("validation-" + datetime.now(timezone.utc)
                                        .strftime("%Y%m%dT%H%M%SZ") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    table = markdown(report["runs"])
    out.with_suffix(".md").write_text(table)
    print()
    print(table)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
