"""python -m models_ml train|score --date D [--force]: the same functions the DAG tasks call."""

from __future__ import annotations

import argparse
import json
import logging

from rightsend.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models_ml", description=__doc__)
    parser.add_argument("command", choices=("train", "score", "champion"))
    parser.add_argument("--date", help="logical date D (YYYY-MM-DD)")
    parser.add_argument("--force", action="store_true", help="train even if the champion is recent")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if args.command == "champion":
        from models_ml.registry import champion

        info = champion(settings)
        result = {"version": info.version, "path": str(info.path)} if info else {"version": None}
    else:
        if not args.date:
            parser.error("--date is required")
        if args.command == "train":
            from models_ml.train import run

            result = run(settings, args.date, force=args.force)
        else:
            from models_ml.predict import run

            result = run(settings, args.date)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
