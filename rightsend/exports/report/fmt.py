"""Number formatting for people, and the Jinja2 environment that uses it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v: Any, digits: int = 0) -> str:
    """12345 -> '12,345'; None -> an en dash."""
    if _missing(v):
        return "–"
    return f"{float(v):,.{digits}f}" if digits else f"{round(float(v)):,}"


def pct(v: Any, digits: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return "–" if _missing(v) else f"{float(v) * 100:,.{digits}f}%"


def pp(v: Any, digits: int = 2) -> str:
    """A difference of rates in percentage points, signed: 0.0123 -> '+1.23 pp'."""
    return "–" if _missing(v) else f"{float(v) * 100:+,.{digits}f} pp"


def hour(h: int) -> str:
    return f"{int(h):02d}:00"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,  # a typo in the template fails the test, not the marketer
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=num, pct=pct, pp=pp, hour=hour)
    return env
