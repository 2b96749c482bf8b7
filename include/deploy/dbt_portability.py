"""Which dbt models use SQL that runs on DuckDB but not on PostgreSQL, and what to use instead.

Scans dbt's compiled SQL (macros expanded, so each finding is attributed to the model that
runs it) for DuckDB-only constructs. Used by tests/deploy/test_postgres_target.py to explain a
failing `dbt build --target postgres`, and by hand:

    .venv/bin/python include/deploy/dbt_portability.py dbt_project/target/compiled dbt_project \
        [compiled dir of `dbt compile --target postgres`]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# (pattern, construct, portable replacement) - each replacement runs on both DuckDB and Postgres.
CONSTRUCTS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), construct, fix)
    for pattern, construct, fix in (
        (r"\bqualify\b", "QUALIFY", "a subquery/CTE with row_number() ... and `where rn = 1`"),
        (
            r"\binterval\s+\d+\s+(second|minute|hour|day|week|month|year)s?\b",
            "unquoted interval literal (interval 30 day)",
            "{{ dbt.dateadd('day', 30, expr) }} or interval '30 days'",
        ),
        (r"\bdate_diff\s*\(", "date_diff()", "{{ dbt.datediff(start, end, 'day') }}"),
        (r"\bdatediff\s*\(", "datediff()", "{{ dbt.datediff(start, end, 'day') }}"),
        (r"\bdate_add\s*\(", "date_add()", "{{ dbt.dateadd(...) }}"),
        (r"\bisodow\s*\(", "isodow()", "{{ dbt.date_part('isodow', expr) }} / date_part('isodow', expr)"),
        (r"\bdayofweek\s*\(", "dayofweek()", "date_part('dow', expr)"),
        (r"(?<![_.\w])hour\s*\(", "hour()", "date_part('hour', expr)"),
        (r"(?<![_.\w])minute\s*\(", "minute()", "date_part('minute', expr)"),
        (r"\bepoch(_ms)?\s*\(", "epoch()", "extract(epoch from expr)"),
        (r"\bjson_extract(_string)?\s*\(", "json_extract_string()", "_extra ->> 'key' (both engines)"),
        (
            r"\bas\s+double\b(?!\s+precision)|::double\b(?!\s+precision)",
            "type DOUBLE",
            "double precision, or {{ dbt.type_float() }}",
        ),
        (r"\bhugeint\b", "type HUGEINT", "numeric"),
        (
            r"\bsha256\s*\((?!\s*convert_to\s*\()",  # sha256(convert_to(..)) is the Postgres form
            "sha256() (Postgres: bytea in, bytea out)",
            "an adapter.dispatch macro: encode(sha256(convert_to(x, 'UTF8')), 'hex') on Postgres",
        ),  # fmt: skip
        (r"\b(arg_max|arg_min|max_by|min_by)\s*\(", "arg_max()/max_by()", "row_number() in a subquery"),
        (r"\bany_value\s*\(", "any_value()", "min()/max()"),
        (r"\bcount_if\s*\(", "count_if()", "count(*) filter (where ...)"),
        (r"\b(list_[a-z_]+|array_length|len)\s*\(", "DuckDB list functions", "array functions or unnest"),
        (r"\bstring_split\s*\(|\bstr_split\s*\(", "string_split()", "string_to_array() / split_part()"),
        (
            r"\bstrftime\s*\(|\bstrptime\s*\(",
            "strftime()/strptime()",
            "to_char() / to_timestamp() via a macro",
        ),
        (r"\btry_cast\s*\(", "try_cast()", "a case expression with a regex check"),
        (r"\bgroup\s+by\s+all\b|\border\s+by\s+all\b", "GROUP/ORDER BY ALL", "explicit column lists"),
        (r"\bexclude\s*\(", "SELECT * EXCLUDE", "explicit column lists (dbt_utils.star)"),
        (r"\bregexp_matches\s*\(", "regexp_matches() (boolean in DuckDB)", "~ operator"),
        (r"\bifnull\s*\(", "ifnull()", "coalesce()"),
        (r"\bstruct_pack\s*\(|\{\s*'[a-z_]+'\s*:", "STRUCT literals", "json_build_object() via a macro"),
        (
            r"\blist_value\s*\(|(?<![\w\]])\[\s*'[^']*'\s*(,\s*'[^']*'\s*)*\]",
            "list literal [..]",
            "array[...]",
        ),
    )
)
# `from (select ...)` closed without an alias: Postgres requires one.
SUBQUERY_WITHOUT_ALIAS = re.compile(
    r"\bfrom\s*\(\s*select\b[^()]*(\([^()]*\)[^()]*)*\)\s*(where|group|order|limit|\)|;|$)",
    re.IGNORECASE,
)


def scan_sql(sql: str) -> dict[str, str]:
    """{construct: portable replacement} for each DuckDB-only construct found in ``sql``."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"'(?:[^']|'')*'", lambda m: "''" if "$" in m.group(0) else m.group(0), sql)
    found = {construct: fix for pattern, construct, fix in CONSTRUCTS if pattern.search(sql)}
    if SUBQUERY_WITHOUT_ALIAS.search(sql):
        found["subquery in FROM without an alias"] = "add an alias: from (select ...) as t"
    return found


def scan(compiled_dir: Path, postgres_compiled_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """{model or snapshot name: {construct: fix}} over dbt's compiled SQL (target/compiled).

    With ``postgres_compiled_dir`` (the same project compiled for the postgres target), a
    construct only counts when the model's Postgres SQL has it too: what differs between the
    two compilations comes from adapter-dispatched macros (dbt.datediff compiles to DuckDB's
    date_diff() on DuckDB, a project sha256 macro to sha256()), which are portable by design.
    A model missing from the Postgres compilation is reported as found on DuckDB.
    """
    report: dict[str, dict[str, str]] = {}
    for path in sorted(Path(compiled_dir).rglob("*.sql")):
        relative = path.relative_to(compiled_dir)
        parts = relative.parts
        if (
            len(parts) < 3
            or parts[1] not in {"models", "snapshots"}
            or any(p.endswith(".yml") for p in parts)
        ):
            continue  # data tests, unit tests (compiled under their .yml) and analyses
        found = scan_sql(path.read_text())
        if found and postgres_compiled_dir is not None:
            other = Path(postgres_compiled_dir) / relative
            if other.exists():
                on_postgres = scan_sql(other.read_text())
                found = {construct: fix for construct, fix in found.items() if construct in on_postgres}
        if found:
            report[path.stem] = found
    return report


def scan_yaml_types(project_dir: Path) -> dict[str, dict[str, str]]:
    """Seed column_types and unit-test/contract data_types that name DuckDB-only types."""
    report: dict[str, dict[str, str]] = {}
    pattern = re.compile(
        r"^\s*(?:data_type:\s*|[a-z_0-9]+:\s*)(double|hugeint)\s*$", re.IGNORECASE | re.MULTILINE
    )
    for path in sorted(Path(project_dir).rglob("*.yml")):
        if any(part in {"target", "dbt_packages", "logs"} for part in path.parts):
            continue
        if pattern.search(path.read_text()):
            report[str(path.relative_to(project_dir))] = {"type DOUBLE in yml": "double precision"}
    return report


def describe(report: dict[str, dict[str, str]]) -> str:
    lines = []
    for model, found in sorted(report.items()):
        lines.append(f"{model}:")
        lines += [f"    {construct}  ->  {fix}" for construct, fix in sorted(found.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "dbt_project/target/compiled")
    project = Path(sys.argv[2] if len(sys.argv) > 2 else "dbt_project")
    postgres_target = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    result = {**scan(target, postgres_target), **scan_yaml_types(project)}
    print(describe(result) or "no DuckDB-only constructs found")
    sys.exit(1 if result else 0)
