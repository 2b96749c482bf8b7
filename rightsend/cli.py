"""The `rightsend` command: run the daily chain, write demo data, read a run's summary."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from rightsend import __version__
from rightsend.config import DEMO_DATE, Settings


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from error


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_overrides(
        landing_dir=getattr(args, "landing", None),
        output_dir=getattr(args, "out", None),
        warehouse_path=getattr(args, "warehouse", None),
    )


def cmd_run(args: argparse.Namespace) -> int:
    from rightsend import summary
    from rightsend.orchestrate import ChainFailed, run_chain

    settings = _settings(args)
    if not settings.landing_dir.is_dir():
        print(f"rightsend: no landing zone at {settings.landing_dir} (try `rightsend demo`)", file=sys.stderr)
        return 2
    print(f"rightsend: running the daily chain for {args.date} through Airflow")
    print(f"  landing {settings.landing_dir}\n  out     {settings.output_dir}")
    log_path = settings.runs_dir(args.date) / "airflow.log"
    print(f"  logs    {log_path}")
    try:
        run_chain(settings, args.date, log_path=None if args.verbose else log_path, progress=print)
    except ChainFailed as error:
        print(f"rightsend: the chain did not complete: {error}", file=sys.stderr)
        return 1
    print()
    print(summary.describe(summary.load(settings, args.date), settings))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rightsend import demo

    settings = _settings(args)
    landing = settings.landing_dir
    if args.if_empty and landing.is_dir() and any(p.is_file() for p in landing.rglob("*")):
        print(f"rightsend: landing zone {landing} already has data; leaving it as it is")
        return 0
    truth = demo.generate(
        landing,
        customers=args.customers,
        days=args.days,
        end_date=args.end_date,
        seed=args.seed,
        truth_path=args.truth or landing.parent / "demo_truth.csv",
        bad_rows=not args.no_bad_rows,
        activity=args.activity,
    )
    stats = truth.stats
    print(
        f"rightsend: wrote {sum(stats['files'].values())} demo files for {args.customers:,} customers x "
        f"{args.days} days to {landing} in {stats['seconds']:.1f} s"
    )
    for source, rows in stats["rows"].items():
        print(f"  {source:<11} {rows:>11,} rows in {stats['files'][source]:>5} files")
    print(f"  {'total':<11} {sum(stats['rows'].values()):>11,} rows")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from rightsend import summary

    settings = _settings(args)
    if not summary.summary_path(settings, args.date).exists():
        print(f"rightsend: no run summary for {args.date} under {settings.output_dir}", file=sys.stderr)
        return 2
    print(summary.describe(summary.load(settings, args.date), settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rightsend",
        description="Send each customer the right message, on the right channel, at the right time "
        "- and nothing when silence is better.",
        epilog="Settings also come from RIGHTSEND_LANDING_DIR, RIGHTSEND_OUTPUT_DIR and RIGHTSEND_WAREHOUSE.",
    )
    parser.add_argument("--version", action="version", version=f"rightsend {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the daily chain for one date through Airflow",
        description="Ingest every landed file up to dt=DATE not yet loaded, build the dbt marts, "
        "train the model when due, score, decide and queue messages for the customers' local day "
        "DATE+1, dispatch them and write the exports. Exits 0 when the chain completed (quarantined "
        "rows and failed files are reported, not fatal).",
    )
    run.add_argument("--date", required=True, type=_iso_date, help="logical date D (YYYY-MM-DD)")
    run.add_argument("--landing", type=Path, help="landing zone (default: data/landing)")
    run.add_argument("--out", type=Path, help="output folder (default: data/out)")
    run.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (default: data/warehouse/)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's and dbt's logs instead of a file")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="write a demo landing zone from a behavioural simulation",
        description="Write realistic landing files for every source (Shopify, SendGrid, Twilio, push, "
        "storefront, consent), with the mess real exports have.",
    )
    demo.add_argument("--customers", type=int, default=3000, help="number of customers (default 3000)")
    demo.add_argument("--days", type=int, default=120, help="days of history (default 120)")
    demo.add_argument("--end-date", type=_iso_date, default=DEMO_DATE, help=f"last day (default {DEMO_DATE})")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--activity",
        type=float,
        default=1.0,
        help="marketing cadence and browsing, 0-1 (default 1: a busy list; the benchmarks use less)",
    )
    demo.add_argument("--landing", type=Path, help="where to write (default: data/landing)")
    demo.add_argument("--truth", type=Path, help="the ground-truth CSV (default: demo_truth.csv beside it)")
    demo.add_argument("--no-bad-rows", action="store_true", help="no deliberately broken rows")
    demo.add_argument("--if-empty", action="store_true", help="do nothing if the landing zone has files")
    demo.set_defaults(func=cmd_demo)

    show = sub.add_parser("summary", help="print a past run's summary in words")
    show.add_argument("--date", required=True, type=_iso_date, help="logical date D (YYYY-MM-DD)")
    show.add_argument("--out", type=Path, help="output folder (default: data/out)")
    show.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
