"""The ``workbench`` command: a thin layer over the library, one library call per command.

Errors a user can cause print ``workbench: error: <what> (<hint>)`` on stderr and exit 1; usage
errors exit 2; ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.dsn import mask_dsn, redact
from workbench.errors import Incomplete, WorkbenchError, as_workbench_error

Handler = Callable[[argparse.Namespace], Any]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status.

    >>> main(["doctor", "--json"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        _apply_environment(args)
        result = args.handler(args)
    except Incomplete as exc:
        print(f"workbench: incomplete: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `workbench doctor --json | head`
        sys.stderr.close()
        return 0
    except Exception as exc:  # the one error boundary: expected failures become one line
        known = as_workbench_error(exc)
        if known is None:
            traceback.print_exc()
            print("workbench: internal error: this is a bug in the workbench; please report it "
                  "with the command you ran and the traceback above", file=sys.stderr)
            return 1
        print(f"workbench: error: {redact(str(known))}", file=sys.stderr)
        return 1
    if isinstance(result, int):
        return result
    return 0


EXIT_INCOMPLETE = 3  # a result was saved but is incomplete (see the README's exit codes)
EXIT_GATE = 4  # workbench compare: a --fail-if gate failed


def emit(args: argparse.Namespace, payload: Any, text: str | Callable[[], str]) -> None:
    """Print the JSON document with --json, the human text otherwise."""
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(text() if callable(text) else text)


# -- options shared by every command --------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    # SUPPRESS keeps a value given before the sub-command from being reset by the sub-parser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dsn", default=argparse.SUPPRESS,
                        help="an existing server (libpq URI or key=value); default WORKBENCH_DSN, "
                             "else the embedded server")
    common.add_argument("--database", default=argparse.SUPPRESS,
                        help="database name on the same server as the DSN")
    common.add_argument("--pg-bindir", default=argparse.SUPPRESS,
                        help="PostgreSQL binaries for the embedded server (WORKBENCH_PG_BINDIR)")
    common.add_argument("--home", default=argparse.SUPPRESS,
                        help="state folder for the embedded server (WORKBENCH_HOME)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document on stdout")
    return common


def _apply_environment(args: argparse.Namespace) -> None:
    """The options every command shares, checked once: --home must be a usable folder,
    --database a name PostgreSQL keeps as given."""
    for option, variable in (("pg_bindir", "WORKBENCH_PG_BINDIR"), ("home", "WORKBENCH_HOME")):
        value = getattr(args, option, None)
        if value:
            os.environ[variable] = str(value)
    if getattr(args, "home", None):
        from workbench.config import workbench_home

        workbench_home()
    if getattr(args, "database", None) is not None:
        from workbench.databases import check_name

        check_name(args.database)


def opt(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    """An option's value whether it was given before or after the sub-command."""
    return getattr(args, name, default)


# -- commands -------------------------------------------------------------------------------------


def _server_start(args: argparse.Namespace) -> None:
    from workbench.server import EmbeddedServer

    server = EmbeddedServer()
    dsn = server.start()
    emit(args, server.status().to_json(), dsn)


def _server_stop(args: argparse.Namespace) -> None:
    from workbench.server import EmbeddedServer

    was_running = EmbeddedServer().stop()
    emit(args, {"stopped": was_running},
         "stopped" if was_running else "the embedded server was not running")


def _server_status(args: argparse.Namespace) -> int:
    from workbench.server import EmbeddedServer

    status = EmbeddedServer().status()
    emit(args, status.to_json(), lambda: (
        f"running  PostgreSQL {status.server_version}  {status.dsn}  (data {status.data_dir})"
        if status.running else f"stopped  PostgreSQL {status.server_version}  (data {status.data_dir})"
    ))
    return 0


def _doctor(args: argparse.Namespace) -> None:
    from workbench.connect import resolve_dsn
    from workbench.doctor import probe

    caps = probe(opt(args, "dsn"), opt(args, "database"))
    payload = caps.to_json()
    payload["dsn"] = mask_dsn(resolve_dsn(opt(args, "dsn"), opt(args, "database")))

    def text() -> str:
        ext = ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in payload["extensions"].items())
        return (
            f"server   PostgreSQL {caps.server_version} at {payload['dsn']}\n"
            f"extensions  {ext}\n"
            f"pgbench  {caps.pgbench_version} ({caps.pgbench_path})"
        )

    emit(args, payload, text)


def _datasets(args: argparse.Namespace) -> None:
    from workbench.datasets import list_datasets

    found = list_datasets()
    emit(args, [d.to_json() for d in found], lambda: "\n".join(
        f"{d.name:8} {d.description}\n         services: "
        + ", ".join(f"{s.name} ({s.schema})" for s in d.services)
        + "\n         tables: " + ", ".join(d.tables) for d in found))


def _load(args: argparse.Namespace) -> None:
    from workbench.loader import load

    result = load(args.dataset, scale=args.scale, seed=args.seed, database=opt(args, "database"),
                  dsn=opt(args, "dsn"), replace=args.replace,
                  allow_destructive=args.allow_destructive, progress=not opt(args, "json"))
    emit(args, result.to_json(), lambda: f"loaded {result.dataset} (scale {result.scale:g}, seed "
         f"{result.seed}) into {result.database} in {result.seconds:.1f} s: " + ", ".join(
             f"{t} {v['rows']:,} rows" for t, v in result.tables.items()))


def _run(args: argparse.Namespace) -> int:
    from workbench.runs import RunOptions, run_workload

    options = RunOptions(
        clients=args.clients, jobs=args.jobs,
        duration=None if args.transactions and args.duration is None else (args.duration or 10),
        transactions=args.transactions, rate=args.rate, latency_limit=args.latency_limit,
        protocol=args.protocol, max_tries=args.max_tries, failures_detailed=args.failures_detailed,
        random_seed=args.random_seed, warmup=args.warmup, sampling_rate=args.sampling_rate,
        defines=_defines(args.define or []), connect_each_transaction=args.connect,
        timeline_interval=None if args.no_timeline else args.timeline_interval,
        log_plans_over_ms=args.log_plans_over, server_log=args.server_log,
    )
    run = run_workload(args.target, scripts=args.script, builtin=args.builtin, options=options,
                       database=opt(args, "database"), dsn=opt(args, "dsn"), via=args.via,
                       pool_size=args.pool_size, out=args.out, progress=not opt(args, "json"),
                       keep_logs=args.keep_logs)
    summary = run.to_json()
    for what, why in ((run.manifest.get("timeline") or {}).get("missing") or {}).items():
        print(f"workbench: note: timeline: {what}: {redact(why)}", file=sys.stderr)

    def text() -> str:
        lat = summary["latency_ms"]
        sample = summary.get("sample") or {}
        lines = [f"{run.status}: {summary['transactions']} transactions, {summary['tps']} tps, "
                 f"{summary['failed']} failed; latency ms p50 {lat['p50']} p95 {lat['p95']} "
                 f"p99 {lat['p99']} max {lat['max']} (from {sample.get('transactions')} logged "
                 f"transactions, sampling rate {sample.get('rate')})"]
        lines += [f"  {name:24} {s['transactions']:>8} tx {s['tps']:>9} tps  p95 "
                  f"{(s['latency_ms'] or {}).get('p95')} ms" for name, s in summary["scripts"].items()]
        if summary.get("lag_ms"):
            lines.append(f"  schedule lag ms: mean {summary['lag_ms']['mean']} max {summary['lag_ms']['max']}")
        if summary.get("pool"):
            pool = summary["pool"]
            lines.append(f"  pool ({run.manifest['route']}): up to {pool.get('cl_waiting_max')} "
                         f"clients waiting, longest wait {pool.get('maxwait_ms')} ms")
        if summary.get("connection_ms") is not None:
            lines.append(f"  average connection time {summary['connection_ms']} ms")
        if run.timeline is not None:
            watched = run.timeline
            lines.append(f"  timeline every {watched.interval:g} s: {len(watched.server)} "
                         f"intervals, {len(watched.plan_documents)} logged plan(s), "
                         f"{len(watched.lock_waits)} lock wait message(s) (in timeline/)")
        if summary.get("sustained") is False:
            lines.append(f"  the rate of {summary['rate']:g} tps was not sustained")
        if run.manifest.get("reason"):
            lines.append(f"  incomplete: {run.manifest['reason']}")
        lines.append(f"saved in {run.out}")
        return "\n".join(lines)

    emit(args, summary, text)
    return EXIT_INCOMPLETE if run.status != "complete" else 0


def _defines(items: list[str]) -> dict[str, str]:
    """-D NAME=VALUE items; anything else is a usage error, not silently dropped."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise WorkbenchError(f"-D {item!r} is not NAME=VALUE", "e.g. -D n_customers=1000")
        out[key] = value
    return out


def _explain(args: argparse.Namespace) -> int:
    from workbench.folders import check_writable
    from workbench.plans import explain_workload

    if args.out:
        check_writable(Path(args.out))
    capture = explain_workload(
        args.target, sql=args.sql, from_stat_statements=args.from_stat_statements,
        database=opt(args, "database"), dsn=opt(args, "dsn"), analyze=args.analyze,
        timing=not args.timing_off, allow_writes=args.allow_writes, draws=args.draws,
        statement_timeout_ms=args.statement_timeout_ms,
    )
    if args.out:
        capture.save(args.out)
    doc = capture.to_json()  # carries each raw plan too, so plan-diff can read the file
    emit(args, doc, lambda: "\n\n".join(
        f"== {s.name}" + (f"  [{s.note}]" if s.note else "") + "\n" + (
            s.plan.text() if s.plan else f"error: {s.error}")
        + "".join(f"\n  hint {h.code}: {h.message}" for h in s.hints)
        for s in capture.statements))
    failed = [s for s in capture.statements if s.error]
    if args.sql is not None and failed:
        raise WorkbenchError(f"the statement was not explained: {failed[0].error}",
                             "fix the SQL; nothing was executed outside a rolled-back transaction")
    if failed:
        print(f"workbench: incomplete: {len(failed)} of {len(capture.statements)} statements "
              "have no plan (see their errors above)", file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


def _plan_diff(args: argparse.Namespace) -> int:
    from workbench.plans import diff_plans

    before, after = _plans(args.before), _plans(args.after)
    names = [n for n in before if n in after]
    if not names:
        raise WorkbenchError("the two files have no statement in common",
                             "compare captures of the same workload")
    diffs = {name: diff_plans(before[name], after[name]) for name in names}
    emit(args, {name: d.to_json() for name, d in diffs.items()},
         lambda: "\n".join(f"{name}: {d.verdict}" for name, d in diffs.items()))
    return 0


def _plans(path: str) -> dict[str, Any]:
    """A plan file for plan-diff: a file that is JSON but not a plan is a one-line error."""
    from workbench.plans import load_plan_file

    try:
        return load_plan_file(path)
    except UnicodeDecodeError:
        raise WorkbenchError(f"{path} is not UTF-8 text", "pass a JSON plan file") from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        if isinstance(exc, WorkbenchError):
            raise
        raise WorkbenchError(f"{path} is not an EXPLAIN plan or a capture of plans",
                             "pass explain --json / --out output or EXPLAIN (FORMAT JSON) "
                             "output") from None


def _advise(args: argparse.Namespace) -> int:
    from workbench.advisor.advise import DRAWS, advise
    from workbench.advisor.existing import MIN_STATS_DAYS
    from workbench.advisor.select import MIN_GAIN_PCT

    if args.keep and not args.validate:
        raise WorkbenchError("--keep keeps the indexes --validate builds: it needs --validate",
                             "add --validate, or drop --keep")

    advice = advise(
        args.target, queries=args.queries, from_stat_statements=args.from_stat_statements,
        dsn=opt(args, "dsn"), database=opt(args, "database"), budget_mb=args.budget_mb,
        max_indexes=args.max_indexes, method=args.method, validate=args.validate, keep=args.keep,
        allow_destructive=args.allow_destructive, draws=DRAWS if args.draws is None else args.draws,
        min_gain_pct=MIN_GAIN_PCT if args.min_gain_pct is None else args.min_gain_pct,
        unused_after_days=MIN_STATS_DAYS if args.unused_after_days is None
        else args.unused_after_days,
        validate_options={"duration": args.validate_duration, "repeat": args.validate_repeat,
                          "clients": args.validate_clients, "progress": not opt(args, "json")},
    )
    emit(args, advice.to_json(), advice.text)
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from workbench.experiments import experiment, interval, signed

    if opt(args, "database"):
        raise WorkbenchError("experiment measures fresh copies of a template database it loads "
                             "itself: --database does not apply", "leave --database out")
    exp = experiment(
        args.dataset, indexes=args.indexes, sql_file=args.sql, settings=_settings(args.set or []),
        aa=args.aa, budget_mb=args.budget_mb, max_indexes=args.max_indexes, clients=args.clients,
        jobs=args.jobs, duration=args.duration_s, warmup=args.warmup, repeat=args.repeat,
        rate=args.rate, latency=not args.no_latency, order=args.order,
        min_effect_pct=args.min_effect, scale=args.scale, seed=args.seed, dsn=opt(args, "dsn"),
        out=args.out, keep=args.keep, progress=not opt(args, "json"), via=args.via,
        pool_size=args.pool_size, protocol=args.protocol, connect_each_transaction=args.connect,
        baseline=_baseline(args.baseline_via),
    )
    doc = exp.to_json()

    def text() -> str:
        lines = [f"{exp.status}: {doc['variant']}; {doc['repeats']} runs per arm, order "
                 + " ".join("".join("A" if a == "before" else "B" for a in r) for r in doc["order"])]
        if doc.get("evidence"):
            lines.append(f"the evidence is thin: {doc['evidence']}")
        if doc.get("latency"):
            lines.append(f"latency phase at {doc['latency']['rate']:g} tps "
                         f"({doc['latency']['rate_source']})")
        for v in doc["verdicts"]:
            lines.append(f"  {v['comparison']:24} {v['metric']:18} {signed(v['change_pct']):>8} "
                         f"{interval(v['ci_pct']):>20}  {v['verdict']}")
        lines += [f"index {i['schema']}.{i['name']}: {i['size_bytes'] / 1e6:.1f} MB, built in "
                  f"{i['seconds']:.1f} s" for i in doc["indexes"]]
        lines += [f"plan {p['statement']}: {p['verdict']}" for p in doc["plans_changed"]]
        if doc.get("kept_database"):
            lines.append(f"kept the variant's database as {doc['kept_database']}")
        lines.append(f"method: {doc['method']}")
        lines.append(f"saved in {doc['out']}")
        return "\n".join(lines)

    emit(args, doc, text)
    return EXIT_INCOMPLETE if exp.status != "complete" else 0


def _baseline(via: str | None) -> Any:
    if not via:
        return None
    from workbench.experiments import Variant
    from workbench.pooler import Route

    return Variant(route=Route.parse(via))


def _route_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--via", help="how the clients connect: direct (default), tcp (127.0.0.1 "
                                      "with the password), pgbouncer[:transaction|:session], or "
                                      "a pooler's DSN")
    parser.add_argument("--pool-size", type=_count,
                        help="PgBouncer's default_pool_size (server connections), with --via")
    parser.add_argument("-C", "--connect", action="store_true",
                        help="a new connection per transaction (pgbench -C): connection churn")


def _sweep(args: argparse.Namespace) -> int:
    from workbench.sweeps import parse_list, sweep

    if opt(args, "database"):
        raise WorkbenchError("sweep measures fresh copies of a template database it loads "
                             "itself: --database does not apply", "leave --database out")
    result = sweep(
        args.dataset, clients=parse_list(args.clients),
        pool_sizes=parse_list(args.pool_sizes) if args.pool_sizes else None,
        scales=parse_list(args.scales, whole=False) if args.scales else None, via=args.via,
        pool_size=args.pool_size, rate=args.rate, repeat=args.repeat, duration=args.duration_s,
        warmup=args.warmup, protocol=args.protocol, connect_each_transaction=args.connect,
        seed=args.seed, dsn=opt(args, "dsn"), out=args.out, p99_factor=args.p99_factor,
        progress=not opt(args, "json"))
    doc = result.to_json()

    def text() -> str:
        from workbench.experiments import interval

        lines = [f"{result.status}: {len(doc['points'])} points x {doc['repeat']} runs"]
        for p in doc["points"]:
            ci = [100 * (p["tps_low"] / p["tps"] - 1), 100 * (p["tps_high"] / p["tps"] - 1)] \
                if p.get("tps_low") else None
            lines.append(f"  scale {p['scale']:g} {p['route']:>28} {p['clients']:>5} clients: "
                         f"{p['tps']:>10} tps {interval(ci):>18}  p95 {p['p95']} ms  p99 "
                         f"{p['p99']} ms  failed {p['failed']}")
        from workbench.plots import sweep_summary

        lines.append(sweep_summary(doc["knees"]))
        lines.append(f"saved in {doc['out']}")
        return "\n".join(lines)

    emit(args, doc, text)
    return EXIT_INCOMPLETE if result.status != "complete" else 0


def _pooler(args: argparse.Namespace) -> int:
    from workbench.pooler import poolers

    found = poolers()
    if args.action == "stop":
        stopped = sum(b.stop() for b in found)
        emit(args, {"stopped": stopped}, f"stopped {stopped} PgBouncer(s)")
        return 0
    states = [b.status() for b in found]
    emit(args, states, lambda: "\n".join(
        f"{'running' if s['running'] else 'stopped'}  pgbouncer:{s['mode']} pool size "
        f"{s['pool_size']}  port {s['port']}  (PgBouncer {s['version']})" for s in states)
        or "no PgBouncer has been started")
    return 0


def _settings(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"--set {item!r} is not NAME=VALUE", "e.g. --set work_mem=64kB")
        out[key.strip()] = value.strip()
    return out


def _runs(args: argparse.Namespace) -> int:
    from workbench.results import catalog

    frame = catalog(dataset=args.dataset, kind=args.kind)
    rows = frame.to_dict("records")

    def text() -> str:
        if not rows:
            return "no result folders under runs/, experiments/, sweeps/, rehearsals/"
        return "\n".join(
            f"{r['created_at'] or '':25} {r['kind']:10} {r['status'] or '':10} "
            f"{r['dataset'] or '':8} tps {r['tps']}  p95 {r['p95']}  {r['verdict'] or ''}  "
            f"{r['path']}" for r in rows)

    emit(args, rows, text)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from workbench.experiments import interval, signed
    from workbench.results import compare_results

    result = compare_results(args.base, args.new, gates=args.fail_if or [])
    doc = result.to_json()

    def text() -> str:
        lines = [f"{name:28} {m['base']} -> {m['new']}  {signed(m.get('change_pct'))} "
                 f"{interval(m.get('ci_pct'))}  {m.get('verdict') or ''}"
                 for name, m in doc["metrics"].items() if "." not in name or args.scripts]
        lines += [f"{'FAIL' if g['failed'] else 'PASS'} {g['gate']}: {g['why']}"
                  for g in doc["gates"]]
        return "\n".join(lines)

    emit(args, doc, text)
    return EXIT_GATE if result.failed else 0


def _cleanup(args: argparse.Namespace) -> int:
    from workbench.cleanup import cleanup

    report = cleanup(opt(args, "dsn"), dry_run=args.dry_run, drop_indexes=args.drop_indexes,
                     drop_templates=args.templates)
    doc = report.to_json()
    verb = "would remove" if args.dry_run else "removed"

    def text() -> str:
        lines = [f"{verb} {len(doc['copies'])} leftover copies, {len(doc['partial_folders'])} "
                 f"partial folders, {len(doc['temp_folders'])} temporary log folders, "
                 f"{len(doc['invalid_indexes'])} INVALID indexes"
                 + (f", {len(doc['templates'])} templates" if args.templates else "")]
        lines += [f"  copy in use by a running command: {c}" for c in doc["copies_in_use"]]
        for item in doc["workbench_indexes"]:
            lines.append(f"  {'dropped' if args.drop_indexes and not args.dry_run else 'kept'} "
                         f"{item['database']}: {item['index']}"
                         + ("" if args.drop_indexes else f"  (to drop: workbench cleanup "
                            f"--drop-indexes, or {item['drop']})"))
        return "\n".join(lines)

    emit(args, doc, text)
    return 0


def _report(args: argparse.Namespace) -> int:
    from workbench.reports import parse_params, report_command

    out = report_command(args.target, parse_params(args.param or []), args.html, args.no_input)
    emit(args, {"html": str(out)}, f"wrote {out}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    from workbench.lab import lab

    return lab(port=args.port, root=args.root)


def _migrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.migrations import history

    dsn, database = opt(args, "dsn"), opt(args, "database")
    if args.action == "lint":
        from workbench.migrations.lint import lint

        result = lint(args.folder, pg_version=args.pg_version,
                      assume_in_transaction=args.assume_in_transaction,
                      include=_names(args.include), exclude=_names(args.exclude), dsn=dsn,
                      database=database)
        emit(args, result.to_json(), result.text)
        return 1 if result.errors else 0
    if args.action == "rehearse":
        return _rehearse(args, dsn, database)
    if args.action == "baseline":
        done = history.baseline(dsn, version=args.version, description=args.description,
                                database=database, allow_destructive=args.allow_destructive)
        emit(args, done, f"baselined at version {done['version']}")
        return 0
    folder = Path(args.folder) if args.folder else None
    if args.action == "repair":
        fixed = history.repair(dsn, folder, database=database,
                               allow_destructive=args.allow_destructive)
        emit(args, fixed, f"removed {fixed['removed']} failed rows; marked deleted: "
                          f"{', '.join(fixed['deleted']) or 'none'}; realigned: "
                          f"{', '.join(fixed['aligned']) or 'none'}")
        return 0
    assert folder is not None
    if args.action == "apply":
        done = history.apply(dsn, folder, target=args.target, database=database,
                             allow_destructive=args.allow_destructive,
                             out_of_order=args.out_of_order, mixed=args.mixed)
    elif args.action == "undo":
        done = history.undo(dsn, folder, target=args.target, database=database,
                            allow_destructive=args.allow_destructive, mixed=args.mixed)
    elif args.action == "info":
        rows = history.info(dsn, folder, database=database, out_of_order=args.out_of_order)
        emit(args, list(rows), rows.text)
        return 0
    else:
        history.validate(dsn, folder, database=database, out_of_order=args.out_of_order)
        emit(args, {"valid": True}, "the history matches the files")
        return 0
    emit(args, [d.to_json() for d in done], lambda: "\n".join(
        f"{d.kind} {d.script} ({d.seconds} s)" for d in done) or "nothing to do")
    return 0


def _names(values: list[str] | None) -> list[str]:
    return [n.strip() for v in values or () for n in v.split(",") if n.strip()]


def _rehearse(args: argparse.Namespace, dsn: str | None, database: str | None) -> int:
    from pathlib import Path

    from workbench.migrations.rehearse import rehearse

    if not args.dataset:
        from workbench.errors import WorkbenchError

        raise WorkbenchError("rehearse needs --dataset", "e.g. --dataset shop")
    r = rehearse(Path(args.folder), args.dataset, clients=args.clients, duration=args.duration,
                 scale=args.scale, dsn=dsn, database=database, out=args.out,
                 progress=not opt(args, "json"))
    s = r.summary
    emit(args, r.to_json(), lambda: (
        f"{s['status']}: {s['tps']} tps, {s['failed']} failed transactions; apply "
        f"{s['apply']['seconds']} s, undo {s['undo']['seconds']} s; "
        f"{s['lock_waits']['blocked_sessions']} sessions waited on locks "
        f"({s['lock_waits']['blocked_by_migration']['sessions']} behind the migration); "
        f"schema restored: {s['schema_restored']}; "
        + (f"FAILURES: {'; '.join(s['failures'])}; " if s.get("failures") else "")
        + f"saved in {r.out}"))
    return 1 if s.get("failures") else 0


def _impact(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.migrations.impact import impact

    report = impact(Path(args.folder), args.dataset)

    def text() -> str:
        lines = []
        for m in report.migrations:
            lines.append(f"{m['script']} (owner {m['owner']})"
                         + (f": CROSS-SERVICE, changes {', '.join(m['other_services'])}"
                            if m["cross_service"] else ""))
            lines += [f"  breaks {b['service']}: {b['statement']} ({b['why']})" for b in m["breaks"]]
            lines += [f"  may change the plan of {a['service']}: {a['statement']} ({a['why']})"
                      for a in m["may_change_plan"]]
        return "\n".join(lines)

    emit(args, report.to_json(), text)
    return 0


def _import(args: argparse.Namespace) -> int:
    from workbench.dsn import with_database
    from workbench.importer import import_dataset

    schemas = [s.strip() for value in args.schemas or [] for s in value.split(",") if s.strip()]
    result = import_dataset(with_database(args.source, opt(args, "database")), args.out,
                            top=args.top, schemas=schemas or None, replace=args.replace)
    emit(args, result.to_json(), result.summary)
    return 0


def _fidelity(args: argparse.Namespace) -> int:
    from workbench.importer.fidelity import fidelity

    report = fidelity(args.source, args.clone, dsn=opt(args, "dsn"), draws=args.draws,
                      seed=args.seed, restore_statistics=args.restore_statistics)
    emit(args, report.to_json(), report.text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (also used to document the CLI)."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="workbench", parents=[common],
        description="PostgreSQL performance workbench: workloads, runs, plans, index advice, reports.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    server = sub.add_parser("server", help="the embedded PostgreSQL server")
    server_sub = server.add_subparsers(title="actions", metavar="ACTION")
    for name, handler, text in (
        ("start", _server_start, "start the embedded server (idempotent) and print its DSN"),
        ("stop", _server_stop, "stop the embedded server; no postgres process is left"),
        ("status", _server_status, "say whether the embedded server runs"),
    ):
        action = server_sub.add_parser(name, parents=[common], help=text, description=text)
        action.set_defaults(handler=handler)

    doctor = sub.add_parser("doctor", parents=[common],
                            help="server version, extensions and pgbench in use")
    doctor.set_defaults(handler=_doctor)

    datasets = sub.add_parser("datasets", parents=[common], help="list the datasets")
    datasets.set_defaults(handler=_datasets)

    load = sub.add_parser("load", parents=[common], help="load a dataset into a new database")
    load.add_argument("dataset", help="dataset name (see `workbench datasets`) or folder")
    load.add_argument("--scale", type=_positive, default=1.0, help="size factor, fractions allowed")
    load.add_argument("--seed", type=_integer, default=42, help="data generation seed")
    load.add_argument("--replace", action="store_true", help="drop and reload an existing database")
    load.add_argument("--allow-destructive", action="store_true",
                      help="allow replacing a database the workbench did not create")
    load.set_defaults(handler=_load)

    run = sub.add_parser("run", parents=[common], help="run a workload under pgbench")
    run.add_argument("target", nargs="?", help="dataset name or folder, or a script file")
    run.add_argument("--script", action="append", metavar="FILE[@W]", help="extra script")
    run.add_argument("--builtin", metavar="NAME[@W]",
                     help="pgbench built-in: tpcb-like, simple-update or select-only")
    run.add_argument("--clients", type=_count, default=8)
    run.add_argument("--jobs", type=_count, help="pgbench threads (default: min(clients, CPUs))")
    run.add_argument("--duration", type=_count, help="seconds (default 10)")
    run.add_argument("--transactions", type=_count,
                     help="transactions per client instead of a duration")
    run.add_argument("--rate", type=_positive, help="target tps (Poisson schedule; lag reported)")
    run.add_argument("--latency-limit", type=_positive, help="ms: late transactions are counted")
    run.add_argument("--protocol", choices=["simple", "extended", "prepared"], default="simple")
    run.add_argument("--max-tries", type=_whole, default=1)
    run.add_argument("--failures-detailed", action="store_true")
    run.add_argument("--random-seed", type=_integer, default=42)
    run.add_argument("--warmup", type=_whole, default=1,
                     help="seconds of the same workload run first and left out of every figure; "
                          "its throughput sizes the log sample (default 1)")
    run.add_argument("--sampling-rate", type=_positive,
                     help="log this share of transactions (default: about 2000 a second, from "
                          "the warm-up); counts and tps always come from pgbench's summary")
    run.add_argument("-D", "--define", action="append", metavar="VAR=VALUE",
                     help="pgbench variable")
    run.add_argument("--out", help="run folder (default runs/<dataset>-<timestamp>)")
    run.add_argument("--keep-logs", action="store_true", help="also keep pgbench's raw logs")
    run.add_argument("--timeline-interval", type=_positive, default=1.0, metavar="SECONDS",
                     help="sample the server, the statements and the host every SECONDS on the "
                          "run's time axis, saved in the run folder's timeline/ (default 1)")
    run.add_argument("--no-timeline", action="store_true", help="do not watch the run")
    run.add_argument("--log-plans-over", type=_nonnegative, metavar="MS",
                     help="lower auto_explain's threshold to MS for the run's own sessions "
                          "(PGOPTIONS; default: the server's, 10 s on the embedded one): their "
                          "JSON plans are read from the server log into the timeline")
    run.add_argument("--server-log", metavar="PATH",
                     help="the server's log file, for a server that is not the embedded one "
                          "(plans and lock waits); the embedded server's is found by itself")
    _route_options(run)
    run.set_defaults(handler=_run)

    explain = sub.add_parser("explain", parents=[common],
                             help="capture EXPLAIN plans of a workload's statements")
    explain.add_argument("target", nargs="?", help="dataset name or folder, script or SQL file")
    explain.add_argument("--sql", help="one SQL statement")
    explain.add_argument("--from-stat-statements", type=_count, metavar="N",
                         help="the top-N statements of pg_stat_statements (generic plans)")
    explain.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=True,
                         help="EXPLAIN ANALYZE (default) or estimates only")
    explain.add_argument("--allow-writes", action="store_true",
                         help="analyse writes too (inside a transaction that is rolled back)")
    explain.add_argument("--timing-off", action="store_true", help="TIMING OFF (less overhead)")
    explain.add_argument("--draws", type=_count, default=3, help="parameter draws per statement")
    explain.add_argument("--statement-timeout-ms", type=_count, default=10_000)
    explain.add_argument("--out", help="save the plans in this folder")
    explain.set_defaults(handler=_explain)

    diff = sub.add_parser("plan-diff", parents=[common],
                          help="compare plans saved by explain --json / --out, or two EXPLAIN "
                               "outputs (JSON or text, as psql prints them)")
    diff.add_argument("before")
    diff.add_argument("after")
    diff.set_defaults(handler=_plan_diff)

    adv = sub.add_parser("advise", parents=[common], help="recommend indexes for a workload")
    adv.add_argument("target", nargs="?", help="dataset name or folder, or a pgbench script")
    adv.add_argument("--queries", metavar="FILE", help="a SQL file of statements")
    adv.add_argument("--from-stat-statements", type=_count, metavar="N",
                     help="the top-N statements of pg_stat_statements, weighted by calls")
    adv.add_argument("--budget-mb", type=_positive, default=50.0, help="storage budget (MB)")
    adv.add_argument("--max-indexes", type=_count, help="at most this many indexes")
    adv.add_argument("--draws", type=_count, metavar="N",
                     help="parameter draws per script statement, costed as their mean (default 5)")
    adv.add_argument("--min-gain-pct", type=_number, metavar="PCT",
                     help="an index must save this %% of the original workload cost (default 0.5)")
    adv.add_argument("--unused-after-days", type=_number, metavar="DAYS",
                     help="call an index unused only when statistics cover this many days "
                          "(default 7)")
    adv.add_argument("--method", choices=["auto", "hypopg", "build"], default="auto",
                     help="what-if evaluation: HypoPG, or real builds rolled back")
    adv.add_argument("--validate", action="store_true",
                     help="build the chosen indexes for real and measure the improvement")
    adv.add_argument("--keep", action="store_true", help="with --validate: keep the indexes")
    adv.add_argument("--validate-duration", type=_count, default=10,
                     help="seconds per run of --validate's experiment (default 10)")
    adv.add_argument("--validate-repeat", type=_count, default=3,
                     help="runs per arm of --validate's experiment (default 3)")
    adv.add_argument("--validate-clients", type=_count, default=4,
                     help="clients of --validate's experiment (default 4)")
    adv.add_argument("--allow-destructive", action="store_true",
                     help="allow build mode / --validate on a database the workbench did not create")
    adv.set_defaults(handler=_advise)

    exp = sub.add_parser("experiment", parents=[common],
                         help="compare a baseline with a variant (indexes, SQL, settings) or "
                              "with itself (--aa)",
                         description="Every measured run starts from a fresh copy of a template "
                                     "database; arms alternate (ABBA); throughput under fixed "
                                     "clients, then latency at a fixed rate; 95% intervals and a "
                                     "verdict per metric. Exit 3 when the result is incomplete.")
    exp.add_argument("dataset", help="dataset name or folder")
    exp.add_argument("--indexes", default="auto",
                     help="auto (the advisor's choice, the default when no other variant is "
                          "given) or a SQL file of CREATE INDEX statements")
    exp.add_argument("--sql", metavar="FILE", help="SQL statements run on the variant's copy")
    exp.add_argument("--set", action="append", metavar="NAME=VALUE",
                     help="a setting for the variant's database (ALTER DATABASE ... SET)")
    exp.add_argument("--aa", action="store_true",
                     help="A/A check: both arms the same state (must show no significant change)")
    exp.add_argument("--budget-mb", type=_positive, default=50.0)
    exp.add_argument("--max-indexes", type=_count)
    exp.add_argument("--clients", type=_count, default=8)
    exp.add_argument("--jobs", type=_count)
    exp.add_argument("--duration", dest="duration_s", type=_count, default=20,
                     help="seconds per measured run (default 20)")
    exp.add_argument("--warmup", type=_whole, default=5,
                     help="seconds of warm-up before each run, left out (default 5)")
    exp.add_argument("--repeat", type=_count, default=3,
                     help="runs per arm and phase, interleaved ABBA (default 3)")
    exp.add_argument("--rate", type=_positive,
                     help="tps of the latency phase (default: 70%% of the slower arm's throughput)")
    exp.add_argument("--no-latency", action="store_true",
                     help="skip the fixed-rate latency phase")
    exp.add_argument("--order", choices=["abba", "random"], default="abba")
    exp.add_argument("--min-effect", type=_nonnegative, default=2.0,
                     help="smallest change (%%) called faster or slower (default 2)")
    exp.add_argument("--scale", type=_positive, default=1.0)
    exp.add_argument("--seed", type=_integer, default=42)
    exp.add_argument("--out", help="experiment folder (default experiments/<dataset>-<timestamp>)")
    exp.add_argument("--keep", action="store_true",
                     help="keep the variant's last copy as a database of its own")
    exp.add_argument("--via", help="the variant: the after arm's clients go through a pooler "
                                   "(pgbouncer[:transaction|:session], or a pooler's DSN)")
    exp.add_argument("--pool-size", type=_count, help="PgBouncer's default_pool_size for --via")
    exp.add_argument("--baseline-via", help="how both arms' clients connect unless --via says "
                                            "otherwise: direct (default) or tcp")
    exp.add_argument("--protocol", choices=["simple", "extended", "prepared"], default="simple")
    exp.add_argument("-C", "--connect", action="store_true",
                     help="a new connection per transaction (pgbench -C): connection churn")
    exp.set_defaults(handler=_experiment)

    swp = sub.add_parser("sweep", parents=[common],
                         help="throughput and latency against clients (pool size, scale), with "
                              "intervals and the knee",
                         description="One run per point and repeat, each from a fresh copy of "
                                     "the template, points in a seeded random order per round. "
                                     "Exit 3 when the sweep is incomplete (completed points "
                                     "are kept).")
    swp.add_argument("dataset", help="dataset name or folder")
    swp.add_argument("--clients", default="1,2,4,8,16", help="increasing client counts, e.g. "
                                                              "1,4,16,64")
    swp.add_argument("--pool-sizes", help="increasing PgBouncer pool sizes to sweep (implies "
                                          "--via pgbouncer:transaction)")
    swp.add_argument("--scales", help="increasing dataset scales: one curve each")
    swp.add_argument("--rate", type=_positive,
                     help="a fixed offered load (tps) at every point instead of closed loop")
    swp.add_argument("--repeat", type=_count, default=3)
    swp.add_argument("--duration", dest="duration_s", type=_count, default=10)
    swp.add_argument("--warmup", type=_whole, default=2)
    swp.add_argument("--protocol", choices=["simple", "extended", "prepared"], default="simple")
    swp.add_argument("--seed", type=_integer, default=42)
    swp.add_argument("--p99-factor", type=_positive, default=2.0,
                     help="the latency knee: where p99 exceeds this multiple of its lowest")
    swp.add_argument("--out", help="sweep folder (default sweeps/<dataset>-<timestamp>)")
    _route_options(swp)
    swp.set_defaults(handler=_sweep)

    pool = sub.add_parser("pooler", help="the PgBouncers the workbench started")
    pool_sub = pool.add_subparsers(title="actions", metavar="ACTION")
    for name, text in (("status", "which PgBouncers run, on which port"),
                       ("stop", "stop every PgBouncer (server stop does it too)")):
        action = pool_sub.add_parser(name, parents=[common], help=text, description=text)
        action.set_defaults(handler=_pooler, action=name)

    runs = sub.add_parser("runs", parents=[common],
                          help="list the run, experiment, sweep and rehearsal folders here")
    runs.add_argument("--dataset", help="only this dataset's")
    runs.add_argument("--kind", choices=["run", "experiment", "sweep", "rehearsal"])
    runs.set_defaults(handler=_runs)

    cmp = sub.add_parser("compare", parents=[common],
                         help="compare two runs or experiments; exit 4 when a --fail-if gate fails",
                         description="Per metric the change from BASE to NEW, with a 95% interval "
                                     "when both have repeats (experiments: their after arms, run "
                                     "by run). A relative gate fails when the change crosses it "
                                     "and, with repeats, the interval excludes zero.")
    cmp.add_argument("base", help="run or experiment folder")
    cmp.add_argument("new", help="run or experiment folder")
    cmp.add_argument("--fail-if", action="append", metavar="GATE",
                     help="e.g. 'p95>+5%%', 'tps<-3%%', 'checkout.p95>+10%%', 'failed>0'")
    cmp.add_argument("--scripts", action="store_true", help="also show per-script metrics")
    cmp.set_defaults(handler=_compare)

    clean = sub.add_parser("cleanup", parents=[common],
                           help="remove what killed or interrupted commands left behind",
                           description="Drops copies of template databases whose process is "
                                       "gone, staging folders and temporary log folders of dead "
                                       "processes, and INVALID indexes in the workbench's "
                                       "databases; lists wb_ indexes (dropped with "
                                       "--drop-indexes).")
    clean.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    clean.add_argument("--drop-indexes", action="store_true",
                       help="also drop wb_ indexes in the workbench's databases")
    clean.add_argument("--templates", action="store_true",
                       help="also drop the template databases (a cache; reloaded when needed)")
    clean.set_defaults(handler=_cleanup)

    rep = sub.add_parser("report", parents=[common],
                         help="execute a notebook (or an experiment's report) to shareable HTML "
                              "(one offline file; plans in the PEV2 viewer)")
    rep.add_argument("target", help="an experiment folder or a .ipynb notebook")
    rep.add_argument("--param", action="append", metavar="NAME=VALUE", help="notebook parameter")
    rep.add_argument("--html", help="output file (default reports/<notebook>.html)")
    rep.add_argument("--no-input", action="store_true", help="hide the code")
    rep.set_defaults(handler=_report)

    lab_text = ("JupyterLab on 127.0.0.1 beside the workbench's server (started first); prints "
                "the URL; notebooks share the CLI's WORKBENCH_HOME; Ctrl-C stops it")
    lab_parser = sub.add_parser("lab", parents=[common], help=lab_text, description=lab_text + (
        ". In a notebook, %load_ext workbench adds %%sql, %sql, %%explain and %workbench."))
    lab_parser.add_argument("--port", type=int, help="port on 127.0.0.1 (default 8888, or a "
                            "free one when 8888 is taken)")
    lab_parser.add_argument("--root", help="folder JupyterLab opens (default: the current one)")
    lab_parser.set_defaults(handler=_lab)

    mig = sub.add_parser("migrate", help="Flyway-style migrations: lint, apply, undo, rehearse")
    mig_sub = mig.add_subparsers(title="actions", metavar="ACTION")
    for action, text in (("lint", "zero-downtime lint with squawk's rules (exit 1 on an error)"),
                         ("apply", "validate, then apply pending migrations"),
                         ("undo", "undo the latest (or down to --target) applied migrations"),
                         ("info", "migrations and their Flyway states"),
                         ("validate", "check the history against the files as Flyway does"),
                         ("repair", "remove failed rows, mark missing ones deleted, realign"),
                         ("baseline", "record that the schema is at a version already"),
                         ("rehearse", "apply and undo under load on a fresh copy of a dataset")):
        p = mig_sub.add_parser(action, parents=[common], help=text, description=text)
        if action != "baseline":
            p.add_argument("folder", nargs="?" if action == "repair" else None,
                           help="migration folder (or file, for lint)")
        p.set_defaults(handler=_migrate, action=action)
        if action == "lint":
            p.add_argument("--pg-version", default="18",
                           help="target PostgreSQL version, as squawk's --pg-version (e.g. 13.0)")
            p.add_argument("--assume-in-transaction", action="store_true",
                           help="judge each file as wrapped in one transaction (squawk's flag)")
            p.add_argument("--include", action="append", metavar="RULES",
                           help="opt-in rules to switch on (comma-separated)")
            p.add_argument("--exclude", action="append", metavar="RULES",
                           help="rules to switch off (comma-separated)")
        if action in ("apply", "undo"):
            p.add_argument("--target", help="apply up to / undo down to (inclusive) this version")
            p.add_argument("--mixed", action="store_true",
                           help="allow files mixing transactional and non-transactional "
                                "statements (each statement then runs on its own)")
        if action in ("apply", "info", "validate"):
            p.add_argument("--out-of-order", action="store_true",
                           help="apply pending versions below the latest applied one")
        if action in ("apply", "undo", "repair", "baseline"):
            p.add_argument("--allow-destructive", action="store_true")
        if action == "baseline":
            p.add_argument("--version", default="1", help="baseline version (default 1)")
            p.add_argument("--description", default="<< Flyway Baseline >>")
        if action == "rehearse":
            p.add_argument("--dataset", help="dataset whose workload runs meanwhile")
            p.add_argument("--clients", type=_count, default=8)
            p.add_argument("--duration", type=_count, default=30)
            p.add_argument("--scale", type=_positive, default=1.0)
            p.add_argument("--out", help="rehearsal folder (default rehearsals/<dataset>-<time>)")

    imp = sub.add_parser("impact", parents=[common],
                         help="which services' statements each migration breaks or affects")
    imp.add_argument("folder", help="migration folder")
    imp.add_argument("--dataset", required=True, help="dataset whose services' workload to check")
    imp.set_defaults(handler=_impact)

    imp = sub.add_parser("import", parents=[common],
                         help="a live server's schema, statistics and top statements as a dataset")
    imp.add_argument("source", metavar="DSN", help="the server to import from (only read)")
    imp.add_argument("--out", required=True, help="dataset folder to write, e.g. datasets/prod")
    imp.add_argument("--top", type=int, default=50,
                     help="statements of pg_stat_statements to import (0: none)")
    imp.add_argument("--schemas", action="append", metavar="A,B",
                     help="schemas to import (default: every schema with tables)")
    imp.add_argument("--replace", action="store_true", help="overwrite an existing dataset folder")
    imp.set_defaults(handler=_import)

    fid = sub.add_parser("fidelity", parents=[common],
                         help="compare an imported dataset's database with its source")
    fid.add_argument("source", metavar="SOURCE_DSN", help="the server the dataset was imported from")
    fid.add_argument("clone", metavar="DATASET_DB",
                     help="the loaded dataset: a database name on --dsn's server, or a DSN")
    fid.add_argument("--draws", type=int, default=3, help="parameter draws per statement")
    fid.add_argument("--seed", type=int, default=1, help="seed of the parameter draws")
    fid.add_argument("--restore-statistics", action="store_true",
                     help="PostgreSQL 18: copy the source's planner statistics into the clone, "
                          "then compare the plans again")
    fid.set_defaults(handler=_fidelity)

    for register in _EXTENSIONS:
        register(sub, common)
    return parser


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _nonnegative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _whole(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0: {text!r}")
    return value


def _count(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1: {text!r}")
    return value


# Later modules add their commands here: each is a function (subparsers, common parent) -> None.
_EXTENSIONS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
