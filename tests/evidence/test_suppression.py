"""The small-number suppression layer: primary, secondary (totals) and statistics."""

import itertools
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import override

from evidence import suppression
from evidence.suppression import Count, suppress_series, suppress_table


def shown(cells):
    return [cell.display for cell in cells]


def recoverable_cells(values, cells, total):
    """Which hidden cells an attacker could work out exactly from the shown cells and the shown total,
    knowing that a "fewer than 5" cell is 1 to 4 and a withheld one is 5 or more (zeros are shown)."""
    if total.hidden:
        return []
    hidden = [i for i, cell in enumerate(cells) if cell.hidden]
    remainder = total.value - sum(cell.value for cell in cells if not cell.hidden)
    ranges = [range(1, 5) if cells[i].primary else range(5, remainder + 1) for i in hidden]
    solutions = [combo for combo in itertools.product(*ranges) if sum(combo) == remainder]
    exposed = []
    for position, index in enumerate(hidden):
        if len({combo[position] for combo in solutions}) == 1:
            exposed.append(index)
    return exposed


def test_counts_under_five_are_shown_as_fewer_than_five():
    assert str(suppression.count(3)) == "fewer than 5"
    assert str(suppression.count(1)) == "fewer than 5"
    assert str(suppression.count(4)) == "fewer than 5"
    assert str(suppression.count(5)) == "5"
    assert str(suppression.count(1234)) == "1,234"
    # A true zero picks nobody out and shows a gap in provision.
    assert str(suppression.count(0)) == "0"


def test_hidden_count_never_exposes_its_value():
    cell = suppression.count(2)
    assert cell.hidden and cell.shown_value is None and "2" not in cell.display


def test_series_without_total_has_primary_suppression_only():
    series = suppress_series([("A", 3), ("B", 50), ("C", 7)])
    assert shown(cell for _label, cell in series.rows) == ["fewer than 5", "50", "7"]
    assert series.total is None


def test_a_total_that_would_reveal_a_suppressed_cell_makes_the_next_smallest_withheld():
    # Without secondary suppression: 60 - 50 - 7 = 3, the hidden cell.
    series = suppress_series([("A", 3), ("B", 50), ("C", 7)], total=True)
    cells = [cell for _label, cell in series.rows]
    assert shown(cells) == ["fewer than 5", "50", "withheld"]
    assert series.total.display == "60"
    assert recoverable_cells([3, 50, 7], cells, series.total) == []


def test_two_ones_adding_to_under_five_are_protected_too():
    # 1 + 1 = 2 could only be split as 1 and 1: another cell must go.
    series = suppress_series([("A", 1), ("B", 1), ("C", 40), ("D", 9)], total=True)
    cells = [cell for _label, cell in series.rows]
    assert shown(cells) == ["fewer than 5", "fewer than 5", "40", "withheld"]
    assert recoverable_cells([1, 1, 40, 9], cells, series.total) == []


def test_when_no_other_cell_can_be_withheld_the_total_is():
    series = suppress_series([("A", 3), ("B", 0)], total=True)
    assert shown(cell for _label, cell in series.rows) == ["fewer than 5", "0"]
    assert series.total.display == "fewer than 5"  # 3 is itself small
    series = suppress_series([("A", 3), ("B", 0), ("C", 0)], total=True)
    assert series.total.hidden


def test_total_with_single_nonzero_hidden_cell_and_zeros_is_withheld():
    series = suppress_series([("A", 4), ("B", 0), ("C", 0), ("D", 2)], total=True)
    cells = [cell for _label, cell in series.rows]
    # 4 + 2 = 6 across two hidden cells: the total may stand, and neither can be pinned down.
    assert shown(cells) == ["fewer than 5", "0", "0", "fewer than 5"]
    assert series.total.display == "6"
    assert recoverable_cells([4, 0, 0, 2], cells, series.total) == []


def test_nothing_small_means_nothing_hidden():
    series = suppress_series([("A", 10), ("B", 20)], total=True)
    assert shown(cell for _label, cell in series.rows) == ["10", "20"]
    assert series.total.display == "30"


def test_overlapping_categories_take_a_separately_counted_total():
    series = suppress_series([("Young people", 3), ("Women", 12)], total=13)
    assert shown(cell for _label, cell in series.rows) == ["fewer than 5", "12"]
    assert series.total.display == "13"


def test_two_way_table_protects_every_row_and_column():
    values = [
        [3, 20, 30],
        [15, 25, 8],
        [12, 6, 40],
    ]
    table = suppress_table(values, row_labels=["r1", "r2", "r3"], column_labels=["c1", "c2", "c3"], row_totals=True, column_totals=True)
    for i, row in enumerate(table.cells):
        assert recoverable_cells(values[i], row, table.row_totals[i]) == [], f"row {i}"
    for j in range(3):
        column = [table.cells[i][j] for i in range(3)]
        assert recoverable_cells([values[i][j] for i in range(3)], column, table.column_totals[j]) == [], f"column {j}"
    assert table.grand_total.display == "159"
    assert table.cells[0][0].primary
    # The cell at [0][0] needed a partner in its row and in its column, and they in turn need partners.
    hidden = sum(cell.hidden for row in table.cells for cell in row)
    assert hidden >= 4


def test_exhaustively_no_hidden_cell_is_recoverable_from_a_series_total():
    for values in itertools.product([0, 1, 2, 4, 5, 6, 9], repeat=4):
        series = suppress_series([(str(i), v) for i, v in enumerate(values)], total=True)
        cells = [cell for _label, cell in series.rows]
        assert recoverable_cells(list(values), cells, series.total) == [], (values, shown(cells), series.total.display)


def test_statistics_from_few_records_are_withheld():
    assert suppression.Statistic(value=12.5, n=4, unit="hours").hidden
    assert "withheld" in str(suppression.Statistic(value=12.5, n=4, unit="hours"))
    assert str(suppression.Statistic(value=12.5, n=5, unit="hours")) == "12.5 hours"
    assert str(suppression.Statistic(value=None, n=0)) == "no data"


def test_count_equality_is_by_value_and_flags():
    assert Count(3, primary=True) == suppression.count(3)


def test_random_two_way_tables_give_nothing_away():
    import random

    generator = random.Random(7)
    for _round in range(300):
        values = [[generator.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30]) for _j in range(4)] for _i in range(3)]
        table = suppress_table(values, row_labels=list("abc"), column_labels=list("wxyz"), row_totals=True, column_totals=True)
        for i, row in enumerate(table.cells):
            assert recoverable_cells(values[i], row, table.row_totals[i]) == [], values
        for j in range(4):
            column = [table.cells[i][j] for i in range(3)]
            assert recoverable_cells([values[i][j] for i in range(3)], column, table.column_totals[j]) == [], values
        # The totals are a line of their own under the grand total.
        assert recoverable_cells([sum(r) for r in values], table.row_totals, table.grand_total) == [], values
        assert recoverable_cells([sum(c) for c in zip(*values)], table.column_totals, table.grand_total) == [], values
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if 0 < value < 5:
                    assert table.cells[i][j].display == "fewer than 5"


def test_whole_numbers_are_written_as_number_format_writes_them():
    with override("en-gb"):
        for value in (0, 7, 999, 1000, 1234567, -4321, 10**12):
            assert suppression.whole_number(value) == number_format(value, force_grouping=True)
        for text in ("0", "-0.4", "999.5", "1234567.49", "1E+3"):
            amount = Decimal(text).quantize(Decimal(1))
            assert suppression.whole_number(amount) == number_format(amount, decimal_pos=0, force_grouping=True)
        assert suppression.Money(Decimal("1234567.50")).display == "£1,234,568"


def test_cells_written_with_a_grouping_looked_up_once_read_as_their_display():
    cells = [Count(value) for value in (0, 7, 999, 1000, 1234567)] + [Count(3, primary=True), Count(40, secondary=True)]
    money = [suppression.Money(Decimal(text)) for text in ("0", "999.5", "1234567.49")] + [suppression.Money(Decimal(9), hidden=True)]
    for language in ("en-gb", "de", "fr", "hi"):
        with override(language):
            digits = suppression.grouping()
            for figure in (*cells, *money):
                assert figure.text(digits) == figure.display, (language, figure)
            for value in (0, 1000, 1234567, 10**12):
                assert suppression.whole_number(value, digits) == number_format(value, decimal_pos=0, force_grouping=True), (language, value)
