"""Every CSV the product writes goes through here, so no cell can run as a formula.

A cell that begins with `=`, `+`, `-` or `@` is a formula to Excel, LibreOffice and Google
Sheets; tab and CR open the same door in some of them (OWASP, "CSV Injection"). The cells
we write back come from customers' files and from scraped pages (a rejected row is
written as it was uploaded), so a text cell starting with one of those characters is
prefixed with `'`: the spreadsheet shows the text and runs nothing. Numbers are numbers,
and are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """`value` as a CSV cell no spreadsheet will evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The CSV text of `rows`, each cell through `spreadsheet_cell`."""
    return "".join(csv_lines(rows))


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """`rows` as CSV, a line at a time (for a streamed download), each cell through
    `spreadsheet_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
