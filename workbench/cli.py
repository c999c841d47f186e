"""The ``workbench`` command: a thin layer over the library, one library call per command.

Errors a user can cause print ``workbench: error: <what> (<hint>)`` on stderr and exit 1; usage
errors exit 2; ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from workbench import __version__
from workbench.dsn import mask_dsn
from workbench.errors import WorkbenchError

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
    _apply_environment(args)
    try:
        result = args.handler(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `workbench doctor --json | head`
        sys.stderr.close()
        return 0
    if isinstance(result, int):
        return result
    return 0


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
    for option, variable in (("pg_bindir", "WORKBENCH_PG_BINDIR"), ("home", "WORKBENCH_HOME")):
        value = getattr(args, option, None)
        if value:
            os.environ[variable] = str(value)


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

    defines = dict(d.split("=", 1) for d in args.define or [] if "=" in d)
    options = RunOptions(
        clients=args.clients, jobs=args.jobs,
        duration=None if args.transactions and args.duration is None else (args.duration or 10),
        transactions=args.transactions, rate=args.rate, latency_limit=args.latency_limit,
        protocol=args.protocol, max_tries=args.max_tries, failures_detailed=args.failures_detailed,
        random_seed=args.random_seed, warmup=args.warmup, sampling_rate=args.sampling_rate,
        defines=defines,
    )
    run = run_workload(args.target, scripts=args.script, builtin=args.builtin, options=options,
                       database=opt(args, "database"), dsn=opt(args, "dsn"), out=args.out,
                       reset_stats=not args.no_reset_stats, progress=not opt(args, "json"),
                       keep_logs=args.keep_logs)
    summary = run.to_json()

    def text() -> str:
        lat = summary["latency_ms"]
        lines = [f"{run.status}: {summary['transactions']} transactions, {summary['tps']} tps, "
                 f"{summary['failed']} failed; latency ms p50 {lat['p50']} p95 {lat['p95']} "
                 f"p99 {lat['p99']} max {lat['max']}"]
        lines += [f"  {name:24} {s['transactions']:>8} tx {s['tps']:>9} tps  p95 "
                  f"{(s['latency_ms'] or {}).get('p95')} ms" for name, s in summary["scripts"].items()]
        if summary.get("lag_ms"):
            lines.append(f"  schedule lag ms: mean {summary['lag_ms']['mean']} max {summary['lag_ms']['max']}")
        if run.manifest.get("reason"):
            lines.append(f"  incomplete: {run.manifest['reason']}")
        lines.append(f"saved in {run.out}")
        return "\n".join(lines)

    emit(args, summary, text)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from workbench.plans import explain_workload

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
    return 0


def _plan_diff(args: argparse.Namespace) -> int:
    from workbench.errors import WorkbenchError
    from workbench.plans import diff_plans, load_plan_file

    before, after = load_plan_file(args.before), load_plan_file(args.after)
    names = [n for n in before if n in after]
    if not names:
        raise WorkbenchError("the two files have no statement in common",
                             "compare captures of the same workload")
    diffs = {name: diff_plans(before[name], after[name]) for name in names}
    emit(args, {name: d.to_json() for name, d in diffs.items()},
         lambda: "\n".join(f"{name}: {d.verdict}" for name, d in diffs.items()))
    return 0


def _advise(args: argparse.Namespace) -> int:
    from workbench.advisor.advise import DRAWS, advise

    advice = advise(
        args.target, queries=args.queries, from_stat_statements=args.from_stat_statements,
        dsn=opt(args, "dsn"), database=opt(args, "database"), budget_mb=args.budget_mb,
        max_indexes=args.max_indexes, method=args.method, validate=args.validate, keep=args.keep,
        allow_destructive=args.allow_destructive, draws=DRAWS if args.draws is None else args.draws,
    )
    emit(args, advice.to_json(), advice.text)
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from workbench.experiments import experiment, signed

    exp = experiment(
        args.dataset, indexes=args.indexes, budget_mb=args.budget_mb, max_indexes=args.max_indexes,
        clients=args.clients, jobs=args.jobs, duration=args.duration, warmup=args.warmup,
        repeat=args.repeat, scale=args.scale, seed=args.seed, database=opt(args, "database"),
        dsn=opt(args, "dsn"), out=args.out, keep=args.keep,
        allow_destructive=args.allow_destructive, progress=not opt(args, "json"),
    )
    doc = exp.to_json()

    def text() -> str:
        c, b, a = doc["change"], doc["before"], doc["after"]
        lines = [f"before: {b['tps']} tps, p95 {b['latency_ms']['p95']} ms",
                 f"after:  {a['tps']} tps, p95 {a['latency_ms']['p95']} ms",
                 f"change: throughput {signed(c['tps_pct'])}, p95 {signed(c['p95_pct'])}, shared "
                 f"reads per transaction {signed(c['shared_read_pct'])}"]
        sig = doc.get("significance")
        if sig:
            lines.append(f"        {sig['test']}: t = {sig['t']}, p = {sig['p_value']}")
        lines += [f"index {i['schema']}.{i['name']}: {i['size_bytes'] / 1e6:.1f} MB, built in "
                  f"{i['seconds']:.1f} s" for i in doc["indexes"]]
        lines += [f"plan {p['statement']}: {p['verdict']}" for p in doc["plans_changed"]]
        lines.append(f"saved in {doc['out']}")
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

        result = lint(args.folder, pg_version=args.pg_version)
        emit(args, result.to_json(), result.text)
        return 1 if result.errors else 0
    if args.action == "rehearse":
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
            f"schema restored: {s['schema_restored']}; saved in {r.out}"))
        return 0
    folder = Path(args.folder)
    if args.action == "apply":
        done = history.apply(dsn, folder, target=args.target, database=database,
                             allow_destructive=args.allow_destructive)
    elif args.action == "undo":
        done = history.undo(dsn, folder, target=args.target, database=database,
                            allow_destructive=args.allow_destructive)
    elif args.action == "info":
        rows = history.info(dsn, folder, database=database)
        emit(args, list(rows), rows.text)
        return 0
    elif args.action == "repair":
        removed = history.repair(dsn, database=database, allow_destructive=args.allow_destructive)
        emit(args, {"removed": removed}, f"removed {removed} failed rows")
        return 0
    else:
        history.validate(dsn, folder, database=database)
        emit(args, {"valid": True}, "the history matches the files")
        return 0
    emit(args, [d.to_json() for d in done], lambda: "\n".join(
        f"{d.kind} {d.script} ({d.seconds} s)" for d in done) or "nothing to do")
    return 0


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
    load.add_argument("--scale", type=_number, default=1.0, help="size factor, fractions allowed")
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
    run.add_argument("--clients", type=int, default=8)
    run.add_argument("--jobs", type=int, help="pgbench threads (default: min(clients, CPUs))")
    run.add_argument("--duration", type=_number, help="seconds (default 10)")
    run.add_argument("--transactions", type=int, help="transactions per client instead of a duration")
    run.add_argument("--rate", type=_number, help="target tps (Poisson schedule; lag reported)")
    run.add_argument("--latency-limit", type=_number, help="ms: late transactions are counted")
    run.add_argument("--protocol", choices=["simple", "extended", "prepared"], default="simple")
    run.add_argument("--max-tries", type=int, default=1)
    run.add_argument("--failures-detailed", action="store_true")
    run.add_argument("--random-seed", type=int, default=42)
    run.add_argument("--warmup", type=_number, default=0.0,
                     help="seconds at the start left out of the statistics")
    run.add_argument("--sampling-rate", type=_number, help="log only this fraction of transactions")
    run.add_argument("-D", "--define", action="append", metavar="VAR=VALUE",
                     help="pgbench variable")
    run.add_argument("--out", help="run folder (default runs/<dataset>-<timestamp>)")
    run.add_argument("--no-reset-stats", action="store_true",
                     help="do not reset server statistics before the run")
    run.add_argument("--keep-logs", action="store_true", help="also keep pgbench's raw logs")
    run.set_defaults(handler=_run)

    explain = sub.add_parser("explain", parents=[common],
                             help="capture EXPLAIN plans of a workload's statements")
    explain.add_argument("target", nargs="?", help="dataset name or folder, script or SQL file")
    explain.add_argument("--sql", help="one SQL statement")
    explain.add_argument("--from-stat-statements", type=int, metavar="N",
                         help="the top-N statements of pg_stat_statements (generic plans)")
    explain.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=True,
                         help="EXPLAIN ANALYZE (default) or estimates only")
    explain.add_argument("--allow-writes", action="store_true",
                         help="analyse writes too (inside a transaction that is rolled back)")
    explain.add_argument("--timing-off", action="store_true", help="TIMING OFF (less overhead)")
    explain.add_argument("--draws", type=int, default=3, help="parameter draws per statement")
    explain.add_argument("--statement-timeout-ms", type=int, default=10_000)
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
    adv.add_argument("--from-stat-statements", type=int, metavar="N",
                     help="the top-N statements of pg_stat_statements, weighted by calls")
    adv.add_argument("--budget-mb", type=_number, default=50.0, help="storage budget (MB)")
    adv.add_argument("--max-indexes", type=int, help="at most this many indexes")
    adv.add_argument("--draws", type=int, metavar="N",
                     help="parameter draws per script statement, costed as their mean (default 5)")
    adv.add_argument("--method", choices=["auto", "hypopg", "build"], default="auto",
                     help="what-if evaluation: HypoPG, or real builds rolled back")
    adv.add_argument("--validate", action="store_true",
                     help="build the chosen indexes for real and measure the improvement")
    adv.add_argument("--keep", action="store_true", help="with --validate: keep the indexes")
    adv.add_argument("--allow-destructive", action="store_true",
                     help="allow build mode / --validate on a database the workbench did not create")
    adv.set_defaults(handler=_advise)

    exp = sub.add_parser("experiment", parents=[common],
                         help="before/after index experiment on a dataset")
    exp.add_argument("dataset", help="dataset name or folder")
    exp.add_argument("--indexes", default="auto",
                     help="auto (the advisor's choice) or a SQL file of CREATE INDEX statements")
    exp.add_argument("--budget-mb", type=_number, default=50.0)
    exp.add_argument("--max-indexes", type=int)
    exp.add_argument("--clients", type=int, default=8)
    exp.add_argument("--jobs", type=int)
    exp.add_argument("--duration", type=_number, default=20.0, help="seconds per run")
    exp.add_argument("--warmup", type=_number, default=0.0)
    exp.add_argument("--repeat", type=int, default=1,
                     help="alternate before/after this many times (spread and significance)")
    exp.add_argument("--scale", type=_number, default=1.0)
    exp.add_argument("--seed", type=_integer, default=42)
    exp.add_argument("--out", help="experiment folder (default experiments/<dataset>-<timestamp>)")
    exp.add_argument("--keep", action="store_true", help="keep the indexes afterwards")
    exp.add_argument("--allow-destructive", action="store_true")
    exp.set_defaults(handler=_experiment)

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
    for action, text in (("lint", "zero-downtime lint (exit 1 on an error finding)"),
                         ("apply", "apply pending migrations"), ("undo", "undo applied migrations"),
                         ("info", "migrations and their state"),
                         ("validate", "check the history against the files"),
                         ("repair", "remove failed rows from the history"),
                         ("rehearse", "apply and undo under load on a fresh copy of a dataset")):
        p = mig_sub.add_parser(action, parents=[common], help=text, description=text)
        p.add_argument("folder", nargs="?" if action == "repair" else None, default=".",
                       help="migration folder (or file, for lint)")
        p.set_defaults(handler=_migrate, action=action)
        if action == "lint":
            p.add_argument("--pg-version", type=int, default=18, help="target PostgreSQL major")
        if action in ("apply", "undo"):
            p.add_argument("--target", help="version to stop at")
        if action in ("apply", "undo", "repair"):
            p.add_argument("--allow-destructive", action="store_true")
        if action == "rehearse":
            p.add_argument("--dataset", help="dataset whose workload runs meanwhile")
            p.add_argument("--clients", type=int, default=8)
            p.add_argument("--duration", type=_number, default=30.0)
            p.add_argument("--scale", type=_number, default=1.0)
            p.add_argument("--out", help="rehearsal folder (default rehearsals/<dataset>-<time>)")

    imp = sub.add_parser("impact", parents=[common],
                         help="which services' statements each migration breaks or affects")
    imp.add_argument("folder", help="migration folder")
    imp.add_argument("--dataset", required=True, help="dataset whose services' workload to check")
    imp.set_defaults(handler=_impact)

    for register in _EXTENSIONS:
        register(sub, common)
    return parser


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


# Later modules add their commands here: each is a function (subparsers, common parent) -> None.
_EXTENSIONS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
