"""`python -m tests.bench`: the performance benchmark at 100,000 cases, against Textual's floor.

    python -m tests.bench                      # 100,000 cases in a fresh folder, 5 rounds
    python -m tests.bench --cases 20000 --rounds 3
    python -m tests.bench --workdir /tmp/bench # keep the database; a second run reuses it

It prints a table and writes JSON (bench.json in the working folder, or --json PATH). It
exits 0 whether or not the goals are met: it measures, it does not judge a build.
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import floor_app, store_timings
from tests.bench.dataset import Bench, write_cases
from tests.bench.report import goals, machine, table
from tests.bench.runner import Run, alternate, as_dicts, command, first_paint, run, summary

FLOOR_MARKER = floor_app.MARKER.encode()
CASE_MARKER = b"SCH-"  # every fictional ref starts so; the list's rows are the first to show one


def _log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def build(bench: Bench, cases: int) -> dict[str, Any]:
    """Write the fictional cases and import them with the installed command (timed)."""
    bench.home.mkdir(parents=True, exist_ok=True)
    _log(f"writing {cases} fictional cases")
    events = write_cases(bench.document, cases)
    _log("importing them with `dsl-console import`")
    imported = run([command("dsl-console"), "import", str(bench.document)], bench.env())
    (bench.folder / "data.json").write_text(
        json.dumps({"cases": cases, "events": events, "import_s": imported.seconds}),
        encoding="utf-8",
    )
    return {"cases": cases, "events": events, "import_s": imported.seconds}


def cold_start(bench: Bench, rounds: int) -> dict[str, Any]:
    """The console and the floor, started alternately, to first paint; with peak memory."""
    env = bench.env()
    console = [command("dsl-console")]
    floor = [sys.executable, str(Path(floor_app.__file__))]
    runs: dict[str, list[Run]] = alternate(
        rounds,
        {
            "floor": lambda: first_paint(floor, env, FLOOR_MARKER),
            "console": lambda: first_paint(console, env, CASE_MARKER),
        },
    )
    found: dict[str, Any] = {}
    for side, side_runs in runs.items():
        found[side] = {
            "first_paint": summary([r.seconds for r in side_runs]),
            "peak_rss_mib": summary([r.peak_rss_mib for r in side_runs]),
            "rss_after_mib": summary([r.rss_mib or 0.0 for r in side_runs]),
            "n": len(side_runs),
            "runs": as_dicts(side_runs),
        }
    return found


def cli(bench: Bench, rounds: int) -> dict[str, Any]:
    """The command line's start-up, with and without the database, and the sweep (check)."""
    env = bench.env()
    dsl = command("dsl-console")
    runs = alternate(
        rounds,
        {
            "version": lambda: run([dsl, "--version"], env),
            "procedures": lambda: run([dsl, "procedures"], env),
            "user_list": lambda: run([dsl, "user", "list"], env),
            "check": lambda: run([dsl, "check", "--json"], env),
        },
    )
    return {name: summary([r.seconds for r in rs]) for name, rs in runs.items()}


def export_cli(bench: Bench, rounds: int) -> dict[str, float]:
    """`dsl-console export log --format csv` of every case, start-up included."""
    out = bench.folder / "log.csv"
    env = bench.env()
    times = [
        run(
            [
                command("dsl-console"),
                "export",
                "log",
                "--format",
                "csv",
                "--out",
                str(out),
                "--force",
            ],
            env,
        ).seconds
        for _ in range(rounds)
    ]
    out.unlink(missing_ok=True)
    return summary(times)


def console_probe(bench: Bench, rounds: int) -> dict[str, Any]:
    """Keystrokes and opening cases in the real console, in a fresh process."""
    out = bench.folder / "probe.json"
    subprocess.run(
        [sys.executable, "-m", "tests.bench.console_probe", str(bench.db), str(out), str(rounds)],
        env=bench.env(),
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="fictional cases to build")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each timed command")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the database here")
    parser.add_argument("--json", type=Path, help="where to write the JSON report")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("cold-start", "cli", "store", "export-cli", "console"),
        help="leave a part out (repeatable)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # The console's modules compiled, as `pip install` leaves an installed copy: a checkout
    # run with PYTHONDONTWRITEBYTECODE (or read-only) would otherwise compile them at every
    # start and time that, while the floor's Textual is compiled.
    import dsl_console

    compileall.compile_dir(Path(dsl_console.__file__).parent, quiet=1)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="dsl-console-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    bench = Bench(folder)
    figures: dict[str, Any] = {"machine": machine()}
    try:
        data_file = folder / "data.json"
        if bench.db.exists() and data_file.exists():
            data = json.loads(data_file.read_text(encoding="utf-8"))
            _log(f"reusing the database in {folder} ({data['cases']} cases)")
        else:
            for stale in (bench.db, Path(f"{bench.db}.keys")):
                stale.unlink(missing_ok=True)
            data = build(bench, args.cases)
        data["database_mib"] = bench.db.stat().st_size / 1024 / 1024
        figures["data"] = data
        if "cli" not in args.skip:
            _log("command line: --version, procedures, user list, check (alternating)")
            figures["cli"] = cli(bench, args.rounds)
        if "cold-start" not in args.skip:
            _log("first paint: the console and the bare Textual app (alternating)")
            figures["cold_start"] = cold_start(bench, args.rounds)
        if "store" not in args.skip:
            _log("store and services in process: queries, sweep, export")
            figures["store"] = store_timings.measure(bench)
            data["open_cases"] = figures["store"]["open_cases"]
        if "export-cli" not in args.skip:
            _log("dsl-console export log --format csv")
            figures["export_cli"] = export_cli(bench, args.rounds)
        if "console" not in args.skip:
            _log("the console under Pilot: filter keystrokes, opening cases")
            figures["console"] = console_probe(bench, 1)
        figures["goals"] = [goal.as_dict() for goal in goals(figures)]
        figures["machine"]["load_average_end"] = machine()["load_average"]
        figures["seconds"] = time.perf_counter() - started
        out = args.json or folder / "bench.json"
        out.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
        print(table(figures))
        print(f"\nJSON: {out}   ({figures['seconds']:.0f} s in all)")
    finally:
        if args.workdir is None:
            # The fresh folder holds only fictional data; keep the report beside nothing else.
            report = folder / "bench.json"
            if report.exists() and args.json is None:
                kept = Path(tempfile.gettempdir()) / "dsl-console-bench.json"
                shutil.copyfile(report, kept)
                print(f"(copied to {kept}; the working folder was removed)")
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
