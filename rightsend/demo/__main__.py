"""``python -m rightsend.demo ...`` is ``rightsend demo ...`` (one CLI: see rightsend/cli.py)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from rightsend.cli import main as cli

    return cli(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
