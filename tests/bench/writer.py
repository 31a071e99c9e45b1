"""Another process writing to the benchmark's database, as a second DSL's console would.

`python -m tests.bench.writer DB`, driven down its standard input by the console probe:

    case REF     add one case at immediate risk; print the moment its transaction committed
    tick         from now on, add one ordinary case every second
    stop         no more ticking; print "stopped"

Moments are `time.perf_counter()`, CLOCK_MONOTONIC on Linux, the same clock in every process
of the machine, so the probe can subtract its own readings from them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl_console.config import Config
from dsl_console.services.casebook import import_cases
from dsl_console.services.session import Credentials, Session, open_session
from dsl_console.services.transfer import read_document
from tests.bench.dataset import PASSPHRASE, USER


def one_case(session: Session, ref: str, *, at_risk: bool) -> None:
    now = datetime.now(UTC)
    doc = {
        "format": "dsl-console/1",
        "cases": [
            {
                "ref": ref,
                "procedure": "liverpool",
                "opened_at": (now - timedelta(minutes=1)).isoformat(),
                "child": {"name": "Bench Writer", "dob": "2015-01-01"},
                "other_agency": "Children's social care",
                "immediate_risk": at_risk,
                "events": [],
            }
        ],
    }
    cases = read_document(json.dumps(doc).encode(), session.registry, now, session.calendar)
    import_cases(session, cases)


def main() -> int:
    session = open_session(Path(sys.argv[1]), Config(), Credentials(USER, PASSPHRASE))
    ticking = threading.Event()
    lock = threading.Lock()  # one write at a time, on the one connection of this process

    def tick() -> None:
        n = 0
        while True:
            ticking.wait()
            with lock, session.db.connection_context():
                n += 1
                one_case(session, f"TICK-{time.time_ns()}-{n}", at_risk=False)
            time.sleep(1.0)

    threading.Thread(target=tick, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, arg = line.strip().partition(" ")
        if verb == "case":
            with lock, session.db.connection_context():
                one_case(session, arg, at_risk=True)
                committed = time.perf_counter()
            print(f"{committed:.6f}", flush=True)
        elif verb == "tick":
            ticking.set()
        elif verb == "stop":
            ticking.clear()
            with lock:
                print("stopped", flush=True)
    session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
