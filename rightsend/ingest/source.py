"""What every landing source declares: its table, format, fields and row parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# A row parser turns one record's fields into the raw table's values (in ``columns`` order)
# or raises normalize.Reject. ``state`` lives for one file (catalog/orders carry values down).
RowParser = Callable[[dict[str, Any], dict[str, Any]], tuple[Any, ...]]


@dataclass(frozen=True)
class Source:
    name: str  # landing folder
    table: str  # raw.<table>
    fmt: Literal["csv", "json"]
    columns: tuple[str, ...]  # raw columns the parser fills, lineage excluded
    fields: tuple[str, ...]  # input fields the contract names (CSV headers as written there)
    parse: RowParser
    required: tuple[str, ...] = ()  # CSV columns without which the file cannot be read
    # (column, identifier type) carrying personal identifiers, for erasure
    identifiers: tuple[tuple[str, str], ...] = ()
    # identifiers on one row belong to one person (used to close over a person's ids)
    links_identities: bool = False
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.extensions:
            exts = (".csv",) if self.fmt == "csv" else (".json", ".ndjson", ".jsonl")
            object.__setattr__(self, "extensions", exts)
