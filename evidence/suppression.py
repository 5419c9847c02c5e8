"""Small-number suppression: the one place that decides which published counts are hidden.

Every figure a funder sees goes through here. The rules:

1. Primary suppression: a count from 1 to 4 is shown as "fewer than 5". A true zero is shown, since it
   picks nobody out and a gap in provision must be visible.
2. Secondary suppression: a hidden cell must not be recoverable by subtracting the shown cells of its
   row or column from a total shown on the same table. A reader knows a "fewer than 5" cell is 1 to 4
   and a withheld one 5 or more; when, with that, the total pins any hidden cell of a row or column
   down to one value (one hidden cell alone; two cells of 1; two of 4 adding up to 8), the
   next-smallest non-zero shown cell in that line is withheld too (or, if the line has no such cell,
   its total is withheld). This repeats until no line gives anything away,
   since hiding a cell in one line can expose another.
3. A statistic (a median, an average) worked out from fewer than 5 records is withheld.

Cells are ``Count`` objects: templates print them with ``{{ cell }}`` and never see a hidden value's
number.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

THRESHOLD = 5


@dataclass(frozen=True)
class Count:
    """A published count. `value` is the true figure and is only for code that needs it (sorting
    bar lengths of shown cells); display goes through ``display``, ``shown_value`` or str()."""

    value: int
    primary: bool = False  # hidden because it is small
    secondary: bool = False  # hidden because it would give a small count away

    @property
    def hidden(self) -> bool:
        return self.primary or self.secondary

    @property
    def shown_value(self) -> int | None:
        """The number, or None when it is hidden: what downloads write."""
        return None if self.hidden else self.value

    @property
    def display(self) -> str:
        if self.primary:
            return _("fewer than %(threshold)s") % {"threshold": THRESHOLD}
        if self.secondary:
            return _("withheld")
        return number_format(self.value, force_grouping=True)

    def __str__(self) -> str:
        return self.display


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


def count(value: int) -> Count:
    """One count on its own, with primary suppression only (there is no total beside it)."""
    return Count(value=int(value), primary=is_small(int(value)))


@dataclass
class Table:
    """A grid of counts with optional row totals (a last column) and column totals (a last row)."""

    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[Count]]
    row_totals: list[Count] | None = None
    column_totals: list[Count] | None = None
    grand_total: Count | None = None

    def rows(self):
        """(label, cells, row total or None) for templates and downloads."""
        for index, label in enumerate(self.row_labels):
            yield label, self.cells[index], self.row_totals[index] if self.row_totals else None


@dataclass
class Series:
    """A one-column table: a label per row, a count each, and perhaps a total."""

    rows: list[tuple[str, Count]]
    total: Count | None = None
    # Overlapping categories have a separately counted total, labelled so nobody adds the rows up.
    total_label: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(cell.value for _label, cell in self.rows)

    @property
    def max_shown(self) -> int:
        return max((cell.value for _label, cell in self.rows if not cell.hidden), default=0)


def _bounds(cell: Count) -> tuple[int, float]:
    """What a reader knows about a hidden cell: a small count is 1 to 4; a withheld one is 5 or more
    (a small one would say "fewer than 5", and a zero is never withheld)."""
    return (1, THRESHOLD - 1) if cell.primary else (THRESHOLD, float("inf"))


def line_exposes(cells: Sequence[Count], total: Count | None) -> bool:
    """Whether a reader could work out a hidden cell of this line exactly from its shown total."""
    if total is None or total.hidden:
        return False
    hidden = [cell for cell in cells if cell.hidden]
    if not hidden:
        return False
    remainder = total.value - sum(cell.value for cell in cells if not cell.hidden)
    bounds = [_bounds(cell) for cell in hidden]
    for index, (low, high) in enumerate(bounds):
        others = bounds[:index] + bounds[index + 1 :]
        least = max(low, remainder - sum(other_high for _other_low, other_high in others))
        most = min(high, remainder - sum(other_low for other_low, _other_high in others))
        if least >= most:
            return True
    return False


def _protect_line(cells: list[Count], total: Count | None) -> tuple[list[Count], Count | None, bool]:
    """Make one row or column safe against its total. Returns the new cells, total and whether anything changed."""
    if not line_exposes(cells, total):
        return cells, total, False
    candidates = [(cell.value, index) for index, cell in enumerate(cells) if not cell.hidden and cell.value > 0]
    if candidates:
        _value, index = min(candidates)
        cells = list(cells)
        cells[index] = Count(value=cells[index].value, secondary=True)
        return cells, total, True
    return cells, Count(value=total.value, secondary=True), True


def suppress_table(
    cells: Sequence[Sequence[int]],
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    row_totals: bool = False,
    column_totals: bool = False,
) -> Table:
    """Suppress a grid of counts, with its totals worked out as sums and protected as above.

    Use totals only for additive tables (each record in one cell); for overlapping categories show
    no totals, or a separately counted total through ``suppress_series(total=...)``.
    """
    grid = [[count(value) for value in row] for row in cells]
    n_rows, n_columns = len(grid), len(column_labels)
    row_total = [count(sum(row)) for row in cells] if row_totals else None
    column_total = [count(sum(row[j] for row in cells)) for j in range(n_columns)] if column_totals else None
    grand = count(sum(sum(row) for row in cells)) if row_totals and column_totals else None

    changed = True
    while changed:
        changed = False
        if row_total is not None:
            for i in range(n_rows):
                grid[i], row_total[i], did = _protect_line(grid[i], row_total[i])
                changed |= did
        if column_total is not None:
            for j in range(n_columns):
                column, column_total[j], did = _protect_line([grid[i][j] for i in range(n_rows)], column_total[j])
                if did:
                    for i in range(n_rows):
                        grid[i][j] = column[i]
                changed |= did
        if grand is not None:
            # The totals themselves form a line whose total is the grand total.
            if row_total is not None:
                row_total, grand, did = _protect_line(row_total, grand)
                changed |= did
            if column_total is not None:
                column_total, grand, did = _protect_line(column_total, grand)
                changed |= did
    return Table(
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=grid,
        row_totals=row_total,
        column_totals=column_total,
        grand_total=grand,
    )


def suppress_series(rows: Sequence[tuple[str, int]], *, total: int | bool | None = None) -> Series:
    """A list of (label, count), suppressed.

    total=True shows the sum of the rows as a total, protected so that a hidden row cannot be worked
    out from it. An int is a separately counted total for overlapping categories (an organisation in
    several), which no subtraction can undo: it gets primary suppression only.
    """
    labels = [label for label, _value in rows]
    values = [int(value) for _label, value in rows]
    if total is True:
        table = suppress_table([[value] for value in values], row_labels=labels, column_labels=[""], column_totals=True)
        return Series(rows=[(label, row[0]) for label, row in zip(labels, table.cells, strict=True)], total=table.column_totals[0])
    return Series(
        rows=[(label, count(value)) for label, value in zip(labels, values, strict=True)],
        total=None if total is None or total is False else count(total),
        total_label=_("All, each counted once") if total not in (None, False) else "",
    )


@dataclass(frozen=True)
class Statistic:
    """A median or average, shown only when it rests on enough records."""

    value: Decimal | float | None
    n: int
    unit: str = ""

    @property
    def hidden(self) -> bool:
        return self.value is None or self.n < THRESHOLD

    @property
    def records(self) -> Count:
        """How many records it rests on: itself a count, so small numbers are hidden too."""
        return count(self.n)

    @property
    def shown_value(self):
        return None if self.hidden else self.value

    @property
    def display(self) -> str:
        if self.value is None or self.n == 0:
            return _("no data")
        if self.n < THRESHOLD:
            return _("withheld (fewer than %(threshold)s records)") % {"threshold": THRESHOLD}
        text = number_format(self.value, decimal_pos=1, force_grouping=True)
        return f"{text} {self.unit}".strip()

    def __str__(self) -> str:
        return self.display
