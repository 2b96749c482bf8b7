"""``python -m rightsend.demo --customers 3000 --days 120``: write the demo landing zone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rightsend.config import DEMO_DATE, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rightsend.demo", description=__doc__)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--end-date", default=DEMO_DATE)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--landing", type=Path, default=None, help="default: the project's landing dir")
    parser.add_argument("--truth", type=Path, default=None, help="write the ground truth CSV here")
    parser.add_argument("--activity", type=float, default=1.0, help="marketing cadence and browsing, 0-1")
    parser.add_argument("--no-bad-rows", action="store_true", help="no deliberately broken rows")
    parser.add_argument("--if-empty", action="store_true", help="do nothing if the landing dir has files")
    args = parser.parse_args(argv)

    from rightsend.demo import generate

    landing = args.landing or Settings.from_env().landing_dir
    if args.if_empty and landing.exists() and any(p.is_file() for p in landing.rglob("*")):
        print(f"{landing} already has files: left as is")
        return 0
    truth = generate(
        landing,
        customers=args.customers,
        days=args.days,
        end_date=args.end_date,
        seed=args.seed,
        truth_path=args.truth,
        bad_rows=not args.no_bad_rows,
        activity=args.activity,
    )
    stats = truth.stats
    print(f"wrote {landing} in {stats['seconds']:.1f} s ({args.customers} customers x {args.days} days)")
    for source, rows in stats["rows"].items():
        print(f"  {source:<11} {rows:>9,} rows in {stats['files'][source]:>4} files")
    print(f"  {'total':<11} {sum(stats['rows'].values()):>9,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
