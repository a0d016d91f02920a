import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as InvalidValue
from django.db import connection
from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class CreatedCursorPagination(CursorPagination):
    """Newest first, stable under inserts: a CRM paging through a list misses nothing.

    A `page_size` that is not a whole number from 1 to `max_page_size` is a 400 that says
    so, where DRF would quietly give another size: a sync job sizing its batches must know.
    """

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            message = f"A whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


# --- Web lists: keyset pages with an estimated total -------------------------------------
#
# Django's Paginator runs an exact COUNT(*) on every page (100-640 ms at a million leads)
# and reaches deep pages with OFFSET (1.1 s at page 20,000). A keyset page starts after
# (or before) the last row shown instead, and the total is the planner's estimate once
# the list is too long to count cheaply.

# Below this many rows (by the planner's estimate), the total is counted exactly.
EXACT_COUNT_BELOW = 10_000
# A page number jumps with OFFSET, which reads every row it skips: numbered links reach as
# far as this many rows; past them, Previous / Next (and a narrower filter) still do.
JUMP_ROWS_MAX = 10_000


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_token: str
    previous_token: str
    total: int
    total_is_estimate: bool
    # This page's number, when it is known (a token made before numbers were kept, or one
    # edited by hand, carries none), the number of pages, and how far numbers may jump.
    number: int | None = None
    size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def last_reachable(self) -> int:
        return min(self.pages, JUMP_ROWS_MAX // self.size)

    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last reachable, and two either side
        of this one, with None where pages are skipped."""
        last = self.last_reachable
        if self.number is None or last <= 1:
            return []
        shown = sorted({1, last, *range(max(1, self.number - 2), min(last, self.number + 2) + 1)})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def keyset_page(
    queryset: QuerySet[Any],
    *,
    columns: Sequence[str],
    descending: bool,
    token: str,
    size: int,
    nullable: frozenset[str] = frozenset(),
    jump: str = "",
) -> KeysetPage:
    """One page of `queryset` ordered by `columns` (the last one unique, NULLs last in
    either direction), starting after or before the row a token names, or at page number
    `jump` (without a token). A token or number that cannot be read gives the first page:
    it is a link we made, and an old one is no reason to fail."""
    number = _page_number(jump, size)
    if number is not None and not token:
        return _numbered_page(queryset, columns, descending, size, number, nullable)
    direction, values, number = _token_read(token, len(columns))
    backwards = direction == "before"
    rows_query = queryset
    if values is not None:
        try:
            rows_query = rows_query.filter(
                _keyset_condition(columns, values, descending, backwards, nullable)
            )
        except (InvalidValue, ValueError, TypeError):  # a token edited by hand
            direction, values, backwards, number = "after", None, False, 1
    ordering = _keyset_ordering(
        columns, descending=descending != backwards, nulls_last=not backwards, nullable=nullable
    )
    rows = list(rows_query.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = (more if backwards else values is not None) and bool(rows)
    return _page(queryset, columns, size, rows, has_next, has_previous, number)


def _page(
    queryset: QuerySet[Any],
    columns: Sequence[str],
    size: int,
    rows: list[Any],
    has_next: bool,
    has_previous: bool,
    number: int | None,
) -> KeysetPage:
    total, estimate = estimated_count(queryset)
    following = number + 1 if number is not None else None
    preceding = number - 1 if number is not None and number > 1 else None
    return KeysetPage(
        rows=rows,
        next_token=_token_make("after", rows[-1], columns, following) if has_next and rows else "",
        previous_token=_token_make("before", rows[0], columns, preceding) if has_previous else "",
        total=total,
        total_is_estimate=estimate,
        number=number,
        size=size,
    )


def _page_number(raw: str, size: int) -> int | None:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 and (number - 1) * size < JUMP_ROWS_MAX else None


def _numbered_page(
    queryset: QuerySet[Any],
    columns: Sequence[str],
    descending: bool,
    size: int,
    number: int,
    nullable: frozenset[str],
) -> KeysetPage:
    ordering = _keyset_ordering(columns, descending=descending, nulls_last=True, nullable=nullable)
    start = (number - 1) * size
    rows = list(queryset.order_by(*ordering)[start : start + size + 1])
    if not rows and number > 1:  # past the end (the list shrank): its first page
        return _numbered_page(queryset, columns, descending, size, 1, nullable)
    return _page(queryset, columns, size, rows[:size], len(rows) > size, number > 1, number)


def estimated_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """The number of rows, and whether it is the planner's estimate rather than a count."""
    if connection.vendor != "postgresql":
        return queryset.count(), False
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate < EXACT_COUNT_BELOW:
        return queryset.count(), False
    return estimate, True


def _keyset_ordering(
    columns: Sequence[str], *, descending: bool, nulls_last: bool, nullable: frozenset[str]
) -> list[Any]:
    """The ORDER BY; where NULLs go is said only for `nullable` columns. On a NOT NULL
    column "NULLS LAST" changes no row's place, but PostgreSQL still cannot read a
    descending order from an ascending index with it: the default list sorted all
    100,000 leads of a workspace for each page instead of reading fifty from the index."""
    nulls = {"nulls_last": True} if nulls_last else {"nulls_first": True}
    return [
        (F(c).desc if descending else F(c).asc)(**(nulls if c in nullable else {})) for c in columns
    ]


def _keyset_condition(
    columns: Sequence[str],
    values: Sequence[Any],
    descending: bool,
    backwards: bool,
    nullable: frozenset[str],
) -> Q:
    """Rows after (or, backwards, before) the row with these values, in the order of
    `columns` with NULLs last: (c1 past v1) or (c1 = v1 and c2 past v2) or ..."""
    condition = Q(pk__in=[])
    equal = Q()
    for column, value in zip(columns, values, strict=True):
        condition |= equal & _past(column, value, descending != backwards, backwards, nullable)
        equal &= Q(**{f"{column}__isnull": True}) if value is None else Q(**{column: value})
    first, first_value = columns[0], values[0]
    if first_value is not None and first not in nullable:
        # Redundant, but a plain range on the first column is what bounds the index scan;
        # the OR above alone makes PostgreSQL walk the index from the start.
        lookup = "lte" if descending != backwards else "gte"
        condition &= Q(**{f"{first}__{lookup}": first_value})
    return condition


def _past(
    column: str, value: Any, descending: bool, backwards: bool, nullable: frozenset[str]
) -> Q:
    if value is None:
        # NULLs sort last: nothing is after a NULL; before one, every non-NULL value is.
        return Q(**{f"{column}__isnull": False}) if backwards else Q(pk__in=[])
    past = Q(**{f"{column}__{'lt' if descending else 'gt'}": value})
    if column in nullable and not backwards:
        past |= Q(**{f"{column}__isnull": True})
    return past


def _token_make(direction: str, row: Any, columns: Sequence[str], number: int | None) -> str:
    values = [_column_value(row, column) for column in columns]
    raw = json.dumps([direction, values, number], default=_token_value)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _token_value(value: Any) -> str:
    # Full precision: DjangoJSONEncoder cuts datetimes to milliseconds, and a keyset
    # position must equal the row's value exactly.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be a keyset position")


def _column_value(row: Any, column: str) -> Any:
    for part in column.split("__"):
        if row is None:
            return None
        row = getattr(row, part)
    return row


def _token_read(token: str, count: int) -> tuple[str, list[Any] | None, int | None]:
    """The direction, the row's values and the page number a token names; the first page
    for one that cannot be read."""
    first = ("after", None, 1)
    if not token:
        return first
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        direction, values, *rest = json.loads(raw)
    except (ValueError, TypeError):
        return first
    if direction not in ("after", "before") or not isinstance(values, list):
        return first
    if len(values) != count:
        return first
    number = rest[0] if rest and isinstance(rest[0], int) and rest[0] >= 1 else None
    return direction, values, number
