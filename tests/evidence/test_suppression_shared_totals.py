"""Rule 4 of the suppression layer: one population, one total, across every figure of a page."""

import itertools
from collections import defaultdict

from evidence import suppression
from evidence.suppression import protect_shared_totals, suppress_series, suppress_table
from tests.evidence.test_suppression import recoverable_cells, shown


def rows(series):
    return shown(cell for _label, cell in series.rows)


def pinned_cells(breakdowns, most=40):
    """(breakdown, row) of each hidden cell a reader can work out from several breakdowns of one
    population together: for every size of the population that all of them allow (a shown total, or a
    hidden one as 1 to 4 or 5 or more), the values their hidden cells could take and still add up."""

    def readings(breakdown, size):
        cells = [cell for _label, cell in breakdown.rows]
        hidden = [index for index, cell in enumerate(cells) if cell.hidden]
        rest = size - sum(cell.value for cell in cells if not cell.hidden)
        ranges = [range(1, 5) if cells[index].primary else range(5, max(rest, 5) + 1) for index in hidden]
        return [dict(zip(hidden, combo, strict=True)) for combo in itertools.product(*ranges) if sum(combo) == rest]

    def allowed(total, size):
        if not total.hidden:
            return size == total.value
        return 1 <= size <= 4 if total.primary else size >= 5

    sizes = [size for size in range(most + 1) if all(allowed(b.total, size) and readings(b, size) for b in breakdowns)]
    pinned = []
    for number, breakdown in enumerate(breakdowns):
        values = defaultdict(set)
        for size in sizes:
            for reading in readings(breakdown, size):
                for index, value in reading.items():
                    values[index].add(value)
        pinned += [(number, index) for index, seen in values.items() if len(seen) == 1]
    return pinned


def test_a_total_withheld_in_one_breakdown_is_withheld_wherever_the_population_is_counted():
    # By stage: 4 and 4 with 8 shown would give both away, so the chart withholds its total.
    by_stage = suppress_series([("Stage 1", 4), ("Stage 2", 4), ("Stage 3", 0)], total=True, population="vcos")
    # By ward: 5 and 3; the 5 is withheld so that 8 - 5 does not give the 3 away, and the 8 stands.
    by_ward = suppress_series([("Bow East", 5), ("Bow West", 3)], total=True, population="vcos")
    # By segment (overlapping, a total counted once), a median resting on the same 8, and another
    # population that happens to be 8 too.
    by_segment = suppress_series([("BME VCOs", 6), ("Older people", 3)], total=8, population="vcos")
    median = suppression.Statistic(value=12, n=8, unit="hours", population="vcos")
    referrals = suppress_series([("Resolved", 5), ("Not resolved", 3)], total=True, population="referrals")
    assert by_stage.total.display == "withheld" and by_ward.total.display == "8" and by_segment.total.display == "8"
    assert pinned_cells([by_stage, by_ward]) == [(0, 0), (0, 1)]  # the two 4s, as the page stood

    protect_shared_totals([by_stage, by_ward, by_segment, median, referrals])

    assert (rows(by_stage), by_stage.total.display) == (["fewer than 5", "fewer than 5", "0"], "withheld")
    assert (rows(by_ward), by_ward.total.display) == (["withheld", "fewer than 5"], "withheld")
    assert (rows(by_segment), by_segment.total.display) == (["6", "fewer than 5"], "withheld")
    assert median.records.display == "withheld" and str(median) == "12.0 hours"  # 8 records are enough for the median
    assert referrals.total.display == "8"  # another population: nothing to do with the VCOs
    # Together: the stage cells add up to 2 to 8 and the ward cells to 6 or more, so 6 to 8 VCOs, which
    # leaves each 4 anywhere from 2 to 4.
    assert pinned_cells([by_stage, by_ward]) == []


def test_a_withheld_total_cannot_be_added_up_from_another_breakdown():
    # Every VCO is in Bow East: the ward chart's row is the total the stage chart withholds.
    by_stage = suppress_series([("Stage 1", 4), ("Stage 2", 4), ("Stage 3", 0)], total=True, population="vcos")
    by_ward = suppress_series([("Bow East", 8), ("Bow West", 0)], total=True, population="vcos")
    assert rows(by_ward) == ["8", "0"] and by_ward.total.display == "8"

    protect_shared_totals([by_stage, by_ward])

    assert (rows(by_ward), by_ward.total.display) == (["withheld", "0"], "withheld")
    assert (rows(by_stage), by_stage.total.display) == (["fewer than 5", "fewer than 5", "0"], "withheld")
    assert pinned_cells([by_stage, by_ward]) == []


def test_one_population_in_the_rows_of_a_table():
    # Providers by standard area and level: each row counts all 8 providers. The first row withholds
    # its total (4 + 4); the second, with every provider in one column, would show it twice over.
    table = suppress_table(
        [[4, 0, 4], [8, 0, 0]], row_labels=["Governance", "Finance"], column_labels=["None", "Not met", "Met"],
        row_totals=True, row_populations=["providers", "providers"],
    )
    assert [total.display for total in table.row_totals] == ["withheld", "8"]

    protect_shared_totals([table])

    assert [total.display for total in table.row_totals] == ["withheld", "withheld"]
    assert shown(table.cells[1]) == ["withheld", "0", "0"]


def test_withholding_a_total_is_checked_again_against_the_grand_total():
    # Row totals 8 and 20 under a grand total of 28: once the 8 is withheld for its population, 28 - 20
    # would give it back, so rule 2 runs again on the table and the 20 is withheld too.
    values = [[5, 3], [10, 10]]
    table = suppress_table(values, row_labels=["a", "b"], column_labels=["x", "y"], row_totals=True, column_totals=True, row_populations=["p", ""])
    elsewhere = suppress_series([("c", 4), ("d", 4)], total=True, population="p")
    assert [total.display for total in table.row_totals] == ["8", "20"] and table.grand_total.display == "28"
    assert elsewhere.total.display == "withheld"

    protect_shared_totals([table, elsewhere])

    assert [total.display for total in table.row_totals] == ["withheld", "withheld"] and table.grand_total.display == "28"
    assert recoverable_cells([8, 20], table.row_totals, table.grand_total) == []
    for j in range(2):
        column = [row[j] for row in table.cells]
        assert recoverable_cells([row[j] for row in values], column, table.column_totals[j]) == []


def test_figures_without_a_population_are_left_alone():
    by_stage = suppress_series([("Stage 1", 4), ("Stage 2", 4)], total=True)
    by_ward = suppress_series([("Bow East", 8)], total=True)
    protect_shared_totals([by_stage, by_ward])
    assert by_stage.total.display == "withheld" and by_ward.total.display == "8"
