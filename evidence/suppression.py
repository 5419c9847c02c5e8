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
4. One population, one total. A page (a dashboard, the report, a download, a pack) splits one group
   of records several ways (VCOs by stage, by ward, by segment) and may state its size again (as a
   median's number of records). A count that states a population's size carries the population's key;
   once one such count is hidden, every other one is withheld too, or subtracting from it would give
   the hidden cells back. Nor may the withheld size be worked out by adding up another breakdown: when
   what the page's breakdowns of the population say about its size (each one's sum, with a hidden cell
   read as above) pins down a hidden cell of one of them, the smallest non-zero shown cell of those
   breakdowns is withheld. Rule 2 then runs on every figure again (a withheld total is itself a cell
   of the line under a grand total), and all this repeats until nothing changes.
   ``protect_shared_totals`` applies this to everything published together.

Which figures are suppressed: those that could pick out a person or a very small group, which is
every count by default (``personal=True``): referrals, feedback, bookings and attendance, volunteers
and staff, health checks, and voluntary and community organisations (often a handful of people, who may
keep details such as their stage off their public page). Counts of infrastructure providers, their
services and their verified quality levels are public facts about provision, which the directory
lists for anyone, so they are published as they are (``personal=False``). A public figure never shares
a population key with a personal one, so no rule ever hides a public count.

Grants (the funding section) are counted like records about organisations: a count of grants is
also withheld when the grants went to fewer than 5 organisations (``grant_count``), and the money
they add up to is a ``Money`` shown exactly when its count of grants is (``suppress_funding``).

Cells are ``Count`` objects: templates print them with ``{{ cell }}`` and never see a hidden value's
number.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import InitVar, dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from django.utils.formats import get_format, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

THRESHOLD = 5


@lru_cache(maxsize=None)
def _thousand_separator(language: str | None) -> str | None:
    """The language's thousands separator when it groups digits in threes (None: another grouping)."""
    return get_format("THOUSAND_SEPARATOR", language) if get_format("NUMBER_GROUPING", language) == 3 else None


@dataclass(frozen=True)
class Grouping:
    """How the active language groups a whole number's digits: its thousands separator when it groups
    them in threes (None: another grouping, left to number_format)."""

    separator: str | None


def grouping() -> Grouping:
    """The active language's grouping. Looking the language up costs more than writing a number, so
    code that writes a page of cells looks it up once and hands it to each cell's ``text``."""
    return Grouping(_thousand_separator(get_language()))


def whole_number(number: int | Decimal, digits: Grouping | None = None) -> str:
    """A whole number (an int, or a Decimal with no fraction) with its thousands grouped, as
    number_format(force_grouping=True) writes it in the active language (`digits`: its grouping,
    already looked up)."""
    separator = (digits or grouping()).separator
    if separator is None:
        return number_format(number, decimal_pos=0, force_grouping=True)
    return f"{int(number):,}".replace(",", separator)


@dataclass(frozen=True)
class Count:
    """A published count. `value` is the true figure and is only for code that needs it (sorting
    bar lengths of shown cells); display goes through ``display``, ``shown_value`` or str()."""

    value: int
    primary: bool = False  # hidden because it is small
    secondary: bool = False  # hidden because it would give a small count away
    # The group of records this count is the size of (rule 4), when other figures may count it too.
    population: str = field(default="", compare=False)
    # Whether it could pick out a person or a very small group (see the module's docstring).
    personal: bool = field(default=True, compare=False)

    @property
    def hidden(self) -> bool:
        return self.primary or self.secondary

    @property
    def shown_value(self) -> int | None:
        """The number, or None when it is hidden: what downloads write."""
        return None if self.hidden else self.value

    @property
    def display(self) -> str:
        return self.text()

    def text(self, digits: Grouping | None = None) -> str:
        """What is shown (`digits`: the language's grouping, already looked up)."""
        if self.primary:
            return _("fewer than %(threshold)s") % {"threshold": THRESHOLD}
        if self.secondary:
            return _("withheld")
        return whole_number(self.value, digits)

    def __str__(self) -> str:
        return self.display


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


def count(value: int, *, population: str = "", personal: bool = True) -> Count:
    """One count on its own, with primary suppression only (there is no total beside it); a count
    that is not personal is a public fact, never hidden."""
    return Count(value=int(value), primary=personal and is_small(int(value)), population=population, personal=personal)


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

    def counts(self) -> Iterator[Count]:
        for row in self.cells:
            yield from row
        yield from self.row_totals or ()
        yield from self.column_totals or ()
        if self.grand_total is not None:
            yield self.grand_total

    def replace_counts(self, change: Callable[[Count], Count]) -> None:
        self.cells = [[change(cell) for cell in row] for row in self.cells]
        if self.row_totals is not None:
            self.row_totals = [change(total) for total in self.row_totals]
        if self.column_totals is not None:
            self.column_totals = [change(total) for total in self.column_totals]
        if self.grand_total is not None:
            self.grand_total = change(self.grand_total)

    def lines(self) -> list[tuple[list[Count], Count]]:
        """The sums it publishes, as (cells, total): each row and column with a total, and the row and
        column totals against the grand total."""
        lines = []
        if self.row_totals is not None:
            lines += zip(self.cells, self.row_totals, strict=True)
        if self.column_totals is not None:
            lines += [([row[j] for row in self.cells], total) for j, total in enumerate(self.column_totals)]
        if self.grand_total is not None:
            lines += [(self.row_totals, self.grand_total), (self.column_totals, self.grand_total)]
        return lines


@dataclass
class Series:
    """A one-column table: a label per row, a count each, and perhaps a total."""

    rows: list[tuple[str, Count]]
    total: Count | None = None
    # Overlapping categories have a separately counted total, labelled so nobody adds the rows up.
    total_label: str = ""
    # The total is the sum of the rows (each record in one row), so it is protected with them (rule 2).
    additive: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(cell.value for _label, cell in self.rows)

    @property
    def max_shown(self) -> int:
        return max((cell.value for _label, cell in self.rows if not cell.hidden), default=0)

    def counts(self) -> Iterator[Count]:
        for _label, cell in self.rows:
            yield cell
        if self.total is not None:
            yield self.total

    def replace_counts(self, change: Callable[[Count], Count]) -> None:
        self.rows = [(label, change(cell)) for label, cell in self.rows]
        if self.total is not None:
            self.total = change(self.total)

    def lines(self) -> list[tuple[list[Count], Count]]:
        if not self.additive or self.total is None:
            return []
        return [([cell for _label, cell in self.rows], self.total)]


def _bounds(cell: Count) -> tuple[int, float]:
    """What a reader knows about a cell: a shown one exactly; a small count is 1 to 4; a withheld one
    is 5 or more (a small one would say "fewer than 5", and a zero is never withheld)."""
    if not cell.hidden:
        return cell.value, cell.value
    return (1, THRESHOLD - 1) if cell.primary else (THRESHOLD, float("inf"))


def _pins(cells: Sequence[Count], low: float, high: float) -> bool:
    """Whether knowing that the cells add up to between `low` and `high` pins a hidden cell down to one value."""
    hidden = [_bounds(cell) for cell in cells if cell.hidden]
    shown = sum(cell.value for cell in cells if not cell.hidden)
    for index, (cell_low, cell_high) in enumerate(hidden):
        others = hidden[:index] + hidden[index + 1 :]
        least = max(cell_low, low - shown - sum(other_high for _other_low, other_high in others))
        most = min(cell_high, high - shown - sum(other_low for other_low, _other_high in others))
        if least >= most:
            return True
    return False


def line_exposes(cells: Sequence[Count], total: Count | None) -> bool:
    """Whether a reader could work out a hidden cell of this line exactly from its shown total."""
    if total is None or total.hidden:
        return False
    return _pins(cells, total.value, total.value)


def _smallest_shown(cells: Sequence[Count]) -> Count | None:
    """Rule 2's next cell to withhold: the smallest non-zero shown one (the first, on a tie)."""
    return min((cell for cell in cells if not cell.hidden and cell.value > 0), key=lambda cell: cell.value, default=None)


def _withhold(figures: Sequence["Table | Series | Statistic | Comparison"], target: Count) -> None:
    """Withhold one count (that very object) wherever it is published."""
    for figure in figures:
        figure.replace_counts(lambda cell: replace(cell, secondary=True) if cell is target else cell)


def _protect(figure: "Table | Series | Statistic | Comparison") -> None:
    """Rule 2 on one figure, in place: while a line gives a hidden cell away, withhold its next-smallest
    shown cell, or its total when it has none (hiding a cell in one line can expose another)."""
    while True:
        exposed = next(((cells, total) for cells, total in figure.lines() if line_exposes(cells, total)), None)
        if exposed is None:
            return
        cells, total = exposed
        cell = _smallest_shown(cells)
        _withhold([figure], cell if cell is not None else total)


def suppress_table(
    cells: Sequence[Sequence[int]],
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    row_totals: bool = False,
    column_totals: bool = False,
    row_populations: Sequence[str] = (),
    column_populations: Sequence[str] = (),
    personal: bool = True,
) -> Table:
    """Suppress a grid of counts, with its totals worked out as sums and protected as above.

    Use totals only for additive tables (each record in one cell); for overlapping categories show
    no totals, or a separately counted total through ``suppress_series(total=...)``. The populations
    name what each row or column total counts (rule 4). personal=False publishes a table of public
    facts as it is.
    """
    n_columns = len(column_labels)
    row_populations = list(row_populations) or [""] * len(cells)
    column_populations = list(column_populations) or [""] * n_columns
    table = Table(
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=[[count(value, personal=personal) for value in row] for row in cells],
        row_totals=[count(sum(row), population=row_populations[i], personal=personal) for i, row in enumerate(cells)]
        if row_totals
        else None,
        column_totals=[
            count(sum(row[j] for row in cells), population=column_populations[j], personal=personal) for j in range(n_columns)
        ]
        if column_totals
        else None,
        grand_total=count(sum(sum(row) for row in cells), personal=personal) if row_totals and column_totals else None,
    )
    _protect(table)
    return table


def suppress_series(
    rows: Sequence[tuple[str, int]],
    *,
    total: int | bool | None = None,
    population: str = "",
    personal: bool = True,
    row_populations: Sequence[str] = (),
) -> Series:
    """A list of (label, count), suppressed; `population` names what the total counts (rule 4), and
    personal=False publishes a list of public facts as it is. `row_populations` name what each row
    counts, where another figure on the page states the same count (rule 4).

    total=True shows the sum of the rows as a total, protected so that a hidden row cannot be worked
    out from it. An int is a separately counted total for overlapping categories (an organisation in
    several), which no subtraction can undo: it gets primary suppression only.
    """
    row_populations = list(row_populations) or [""] * len(rows)
    cells = [(label, count(value, population=row_populations[i], personal=personal)) for i, (label, value) in enumerate(rows)]
    if total is True:
        series = Series(
            rows=cells, total=count(sum(cell.value for _label, cell in cells), population=population, personal=personal), additive=True
        )
        _protect(series)
        return series
    return Series(
        rows=cells,
        total=None if total is None or total is False else count(total, population=population, personal=personal),
        total_label=_("All, each counted once") if total not in (None, False) else "",
    )


@dataclass
class Statistic:
    """A median or average, shown only when it rests on enough records."""

    value: Decimal | float | None
    n: int
    unit: str = ""
    # The group of records it rests on (rule 4), when another figure counts them too.
    population: InitVar[str] = ""
    # How many records it rests on: itself a count, so small numbers are hidden too.
    records: Count = field(init=False, repr=False, compare=False)

    def __post_init__(self, population: str) -> None:
        self.records = count(self.n, population=population)

    @property
    def hidden(self) -> bool:
        return self.value is None or self.n < THRESHOLD

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

    def counts(self) -> Iterator[Count]:
        yield self.records

    def replace_counts(self, change: Callable[[Count], Count]) -> None:
        self.records = change(self.records)

    def lines(self) -> list[tuple[list[Count], Count]]:
        return []


# Areas side by side ------------------------------------------------------------------------------


@dataclass
class ComparisonRow:
    """One area's figures: its records (`base`), those of them meeting a condition (`part`), a
    statistic of them, and a breakdown in which each record is in one column (adding up to `base`)."""

    label: str
    base: Count
    part: Count
    statistic: Statistic
    breakdown: list[Count]

    @property
    def share(self) -> int | None:
        """`part` as a whole per cent of `base`: only where both are shown (and there is a base)."""
        if self.base.hidden or self.part.hidden or not self.base.value:
            return None
        return int((Decimal(self.part.value) * 100 / self.base.value).quantize(Decimal(1)))

    @property
    def share_display(self) -> str:
        if not self.base.value:
            return _("none asked")
        if self.share is None:
            return _("withheld")
        return f"{self.share}%"

    def counts(self) -> Iterator[Count]:
        yield self.base
        yield self.part
        yield from self.breakdown
        yield from self.statistic.counts()

    def replace_counts(self, change: Callable[[Count], Count]) -> None:
        self.base, self.part = change(self.base), change(self.part)
        self.breakdown = [change(cell) for cell in self.breakdown]
        self.statistic.replace_counts(change)


@dataclass
class Comparison:
    """Areas side by side, and the whole they are part of (`total`). When `total_adds_up` the areas
    are every part of the whole, so each of its counts is the sum of the areas' (rule 2 protects those
    columns as it does a table's); otherwise the whole is shown beside one area, as a benchmark."""

    breakdown_labels: list[str]
    rows: list[ComparisonRow]
    total: ComparisonRow
    total_adds_up: bool = True

    @property
    def all_rows(self) -> list[ComparisonRow]:
        return [*self.rows, self.total]

    def counts(self) -> Iterator[Count]:
        for row in self.all_rows:
            yield from row.counts()

    def replace_counts(self, change: Callable[[Count], Count]) -> None:
        for row in self.all_rows:
            row.replace_counts(change)

    def lines(self) -> list[tuple[list[Count], Count]]:
        """Each area's breakdown adds up to its base; with `total_adds_up`, each column of the areas
        (base, part, each of the breakdown) adds up to the whole's."""
        lines = [(row.breakdown, row.base) for row in self.all_rows]
        if self.total_adds_up:
            lines.append(([row.base for row in self.rows], self.total.base))
            lines.append(([row.part for row in self.rows], self.total.part))
            lines += [([row.breakdown[j] for row in self.rows], cell) for j, cell in enumerate(self.total.breakdown)]
        return lines


def suppress_comparison(comparison: Comparison) -> Comparison:
    """Rule 2 on a comparison built from ``count``s (rule 1) and ``Statistic``s (rule 3), in place."""
    _protect(comparison)
    return comparison


# Money: grants and what they add up to ------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """A sum of grants published beside the count of grants it adds up: hidden whenever that count is,
    so a sum never says more than its count may."""

    value: Decimal
    hidden: bool = False

    @property
    def shown_value(self) -> Decimal | None:
        return None if self.hidden else self.value

    @property
    def display(self) -> str:
        return self.text()

    def text(self, digits: Grouping | None = None) -> str:
        """What is shown (`digits`: the language's grouping, already looked up)."""
        if self.hidden:
            return _("withheld")
        return "£" + whole_number(self.value.quantize(Decimal(1)), digits)

    def __str__(self) -> str:
        return self.display


def grant_count(grants: int, recipients: int, *, population: str = "") -> Count:
    """How many grants, suppressed as any count (rule 1), and withheld too when they went to fewer than
    5 organisations: the money would then be about one or a few named organisations. A withheld count
    is 5 or more, as rule 2 reads it."""
    cell = count(grants, population=population)
    if not cell.primary and is_small(recipients):
        cell = replace(cell, secondary=True)
    return cell


@dataclass
class Funding(Series):
    """A list of (label, grants) with the money each row's grants add up to beside it. Only the grants
    are counts that the rules work on; a row's money is shown exactly when its count of grants is (so
    rule 2, which leaves at least two hidden cells in any line with a shown total, keeps the money of a
    hidden row from being found by subtraction too)."""

    amounts: list[Decimal] = field(default_factory=list)
    total_amount: Decimal = Decimal(0)

    def money_rows(self) -> Iterator[tuple[str, Count, Money]]:
        for (label, cell), amount in zip(self.rows, self.amounts, strict=True):
            yield label, cell, Money(value=amount, hidden=cell.hidden)

    @property
    def total_money(self) -> Money | None:
        return None if self.total is None else Money(value=self.total_amount, hidden=self.total.hidden)

    @property
    def max_shown_amount(self) -> Decimal:
        return max((money.value for _label, _cell, money in self.money_rows() if not money.hidden), default=Decimal(0))


def suppress_funding(
    rows: Sequence[tuple[str, int, int, Decimal]],
    *,
    total: tuple[int, int, Decimal],
    overlapping: bool = False,
    population: str = "",
) -> Funding:
    """Rows of (label, grants, recipient organisations, amount) and the total (grants, recipients,
    amount), suppressed as grants; recipients are counted once however many rows they are in.

    Each grant is in one row unless `overlapping` (an organisation in several segments): then the
    rows are the sum, protected with the total (rule 2); overlapping rows have a separately counted
    total that no subtraction can undo, so they get primary suppression only.
    """
    cells = [(label, grant_count(grants, recipients)) for label, grants, recipients, _amount in rows]
    amounts = [Decimal(amount or 0) for _label, _grants, _recipients, amount in rows]
    grants, recipients, amount = total
    if not overlapping and (sum(cell.value for _label, cell in cells) != grants or sum(amounts) != Decimal(amount or 0)):
        raise ValueError("The rows of an additive breakdown must add up to its total.")
    funding = Funding(
        rows=cells,
        total=grant_count(grants, recipients, population=population),
        total_label=_("All, each counted once") if overlapping else "",
        additive=not overlapping,
        amounts=amounts,
        total_amount=Decimal(amount or 0),
    )
    _protect(funding)
    return funding


def protect_shared_totals(figures: Sequence[Table | Series | Statistic]) -> None:
    """Rule 4, in place, over every figure published together (a page, a report, a download)."""
    while True:
        cell = _next_to_withhold(figures)
        if cell is None:
            return
        _withhold(figures, cell)
        for figure in figures:
            _protect(figure)


def _next_to_withhold(figures: Sequence[Table | Series | Statistic]) -> Count | None:
    """The next count rule 4 withholds, or None when no population's size is given away."""
    counts = [cell for figure in figures for cell in figure.counts()]
    withheld = sorted({cell.population for cell in counts if cell.population and cell.hidden})
    for cell in counts:
        if cell.population in withheld and not cell.hidden:
            return cell
    for population in withheld:
        # Every count of the population is hidden now: what a reader knows of its size is what each
        # breakdown of it adds up to, and what a hidden count is (1 to 4, or 5 or more).
        low, high = _bounds(next(cell for cell in counts if cell.population == population))
        lines = [cells for figure in figures for cells, total in figure.lines() if total.population == population]
        for cells in lines:
            bounds = [_bounds(cell) for cell in cells]
            low = max(low, sum(cell_low for cell_low, _cell_high in bounds))
            high = min(high, sum(cell_high for _cell_low, cell_high in bounds))
        if any(_pins(cells, low, high) for cells in lines):
            cell = _smallest_shown([cell for cells in lines for cell in cells])
            if cell is not None:
                return cell
    return None
