"""Charts drawn on the server: no script, no CDN, readable without colour.

A dashboard's bar chart is a list in HTML, a row per category with its label and its figure as text
and the bar drawn in a small SVG beside them, so the words wrap and keep their size on a phone. The
two series of a target chart differ in pattern (hatched outline for the target, solid for the actual)
as well as colour, with a legend that shows the patterns. The same figures are always in a table too
(see the templates), in a focusable region so that a keyboard can scroll a wide one. No label is cut
short: a long one wraps.
"""

import textwrap
from decimal import Decimal
from html import escape as escape_text

from django import template
from django.utils.formats import localize, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.templatetags.portal import scroll_region
from evidence import suppression
from evidence.selectors import DELIVERY_COLUMNS

register = template.Library()

WIDTH = 720
LABEL_WIDTH = 250
BAR_SPACE = 330  # the rest is for the figure written after the bar
ROW_HEIGHT = 26


def _escaped(value) -> str:
    """conditional_escape without the lazy-text check that wraps Django's escape: a row's label, hundreds
    of them a page (a lazy label is turned into text, as conditional_escape does)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape_text(str(value))


def _label_lines(text: str, width: int = 34) -> list[str]:
    """A label as the lines it takes in a chart: whole, wrapped at spaces (never cut with "…")."""
    return textwrap.wrap(str(text), width=width, break_long_words=False) or [""]


def _svg_label(text: str, *, y: int, width: int = 34) -> SafeString:
    """A chart label as SVG text, a tspan per line, the first line's baseline at y."""
    lines = _label_lines(text, width)
    tspans = format_html_join("", '<tspan x="0" dy="{}">{}</tspan>', ((0 if i == 0 else 15, line) for i, line in enumerate(lines)))
    return format_html('<text x="0" y="{}" class="chart-label">{}</text>', y, tspans)


def _defs(prefix: str) -> SafeString:
    return format_html(
        '<defs><pattern id="{0}-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="8" stroke="#1d4e89" stroke-width="3"/></pattern>'
        '<pattern id="{0}-solid" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="4" height="4" fill="#143a66"/></pattern></defs>',
        prefix,
    )


@register.simple_tag
def bar_chart(chart) -> SafeString:
    """A row per category of the chart's series: its label, a bar, and the figure in words. A hidden
    count gets no bar, only its words; the bars are drawn to the largest shown figure."""
    series = chart.series
    if series is None:
        return mark_safe("")
    digits = suppression.grouping()
    if isinstance(series, suppression.Funding):
        return _money_chart(chart, digits)
    scale = max(series.max_shown, 1)
    rows = []
    for label, cell in series.rows:
        width = 0 if cell.hidden or not cell.value else max(round(100 * cell.value / scale), 1)
        # A row per category, every chart: built as format_html would, without its overhead.
        rows.append(
            f'<li class="bar-row"><span class="bar-label">{_escaped(label)}</span><span class="bar-track">{_bar(width)}</span>'
            f'<span class="bar-value{" suppressed" if cell.hidden else ""}">{escape_text(cell.text(digits))}</span></li>'
        )
    return format_html(
        '<ul class="bar-chart list-unstyled" aria-label="{}">{}</ul>',
        _("%(title)s, as a bar chart (figures are %(unit)s)") % {"title": chart.title, "unit": chart.unit},
        mark_safe("".join(rows)),
    )


def _bar(width: int) -> SafeString:
    return mark_safe(
        '<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        f'<rect x="0" y="0" width="{int(width)}" height="10"/></svg>'
    )


def _money_chart(chart, digits: suppression.Grouping) -> SafeString:
    """Money per row: the bar is the amount, and the words give the amount and its number of grants
    (a hidden row only its words: "fewer than 5 grants", "withheld")."""
    funding = chart.series
    scale = max(funding.max_shown_amount, Decimal(1))
    fewer, withheld = escape_text(_("fewer than 5 grants")), escape_text(_("withheld"))
    grant_words: dict[int, str] = {}
    rows = []
    for label, cell, money in funding.money_rows():
        width = 0 if money.hidden or not money.value else max(round(100 * money.value / scale), 1)
        if cell.primary:
            words = fewer
        elif cell.hidden:
            words = withheld
        else:
            if cell.value not in grant_words:  # one plural lookup for each number of grants
                grant_words[cell.value] = ngettext("%(count)s grant", "%(count)s grants", cell.value)
            grants = grant_words[cell.value] % {"count": cell.text(digits)}
            words = f'{escape_text(money.text(digits))}<span class="bar-grants">{escape_text(grants)}</span>'
        # A row per funder, ward, stage and year: built as format_html would, without its overhead.
        rows.append(
            f'<li class="bar-row"><span class="bar-label">{_escaped(label)}</span><span class="bar-track">{_bar(width)}</span>'
            f'<span class="bar-value{" suppressed" if cell.hidden else ""}">{words}</span></li>'
        )
    return format_html(
        '<ul class="bar-chart list-unstyled" aria-label="{}">{}</ul>',
        _("%(title)s, as a bar chart of the amount awarded, with the number of grants") % {"title": chart.title},
        mark_safe("".join(rows)),
    )


def _money_table(chart, caption_id: str, caption: str, digits: suppression.Grouping) -> SafeString:
    funding = chart.series
    head = format_html(
        '<tr><th scope="col">{}</th><th scope="col" class="text-end">{}</th><th scope="col" class="text-end">{}</th></tr>',
        chart.row_heading, _("Grants"), _("Amount"),
    )
    body = mark_safe(
        "".join(
            f'<tr><th scope="row">{_escaped(label)}</th>{_cell_html(cell, digits=digits)}{_cell_html(money, digits=digits)}</tr>'
            for label, cell, money in funding.money_rows()
        )
    )
    foot = format_html(
        '<tfoot><tr><th scope="row">{}</th>{}{}</tr></tfoot>',
        funding.total_label or _("Total"),
        _cell_html(funding.total, digits=digits),
        _cell_html(funding.total_money, digits=digits),
    )
    table = format_html(
        '<table class="table table-sm figures-table"><caption id="{}">{}</caption><thead>{}</thead><tbody>{}</tbody>{}</table>',
        caption_id, caption, head, body, foot,
    )
    return scroll_region(table, labelled_by=caption_id)


def _alignment_table(chart, caption_id: str, caption: str) -> SafeString:
    head = format_html(
        '<tr><th scope="col">{}</th><th scope="col" class="text-end">{}</th><th scope="col" class="text-end">{}</th>'
        '<th scope="col" class="text-end">{}</th></tr>',
        chart.row_heading, _("Share of referrals"), _("Share of money"), _("Gap"),
    )

    def gap(row) -> SafeString:
        # Narrow enough for a phone: the number alone (the caption gives the unit), a dash read out as words.
        if row.gap is None:
            return format_html('<td class="text-end suppressed"><span aria-hidden="true">–</span><span class="visually-hidden">{}</span></td>', row.gap_display)
        return format_html('<td class="text-end">{}{}</td>', "+" if row.gap > 0 else "\u2212" if row.gap < 0 else "", abs(row.gap))

    body = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="text-end{}">{}</td><td class="text-end{}">{}</td>{}</tr>',
        (
            (
                row.need,
                "" if row.referral_share is not None else " suppressed", row.referral_display,
                "" if row.money_share is not None else " suppressed", row.money_display,
                gap(row),
            )
            for row in chart.alignment.gaps()
        ),
    )
    table = format_html(
        '<table class="table table-sm figures-table"><caption id="{}">{}</caption><thead>{}</thead><tbody>{}</tbody></table>',
        caption_id, caption, head, body,
    )
    return scroll_region(table, labelled_by=caption_id)


def _comparison_tables(chart, caption_id: str, digits: suppression.Grouping) -> SafeString:
    """Areas side by side in two tables, so that each fits a phone: how referrals were answered, then
    where they stand (each referral in one column, adding up to the referrals asked)."""
    comparison = chart.comparison
    columns = [str(DELIVERY_COLUMNS[key]) for key in ("asked", "in_time", "share", "median")]

    def median_html(row) -> SafeString:
        statistic = row.statistic
        if statistic.hidden:
            return format_html('<td class="text-end suppressed">{}</td>', statistic.display)
        return format_html('<td class="text-end">{}</td>', number_format(statistic.value, decimal_pos=1, force_grouping=True))

    def share_html(row) -> SafeString:
        return format_html('<td class="text-end{}">{}</td>', "" if row.share is not None else " suppressed", row.share_display)

    def answered_row(row, cell: str) -> SafeString:
        return format_html(
            "<tr><{} scope=\"row\">{}</{}>{}{}{}{}</tr>",
            cell, row.label, cell,
            _cell_html(row.base, digits=digits), _cell_html(row.part, digits=digits),
            share_html(row), median_html(row),
        )

    head = format_html_join("", '<th scope="col" class="text-end">{}</th>', ((column,) for column in columns))
    answered = format_html(
        '<table class="table table-sm figures-table"><caption id="{}">{}</caption>'
        '<thead><tr><th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody><tfoot>{}</tfoot></table>',
        caption_id,
        _("%(title)s: referrals asked and how they were answered (counts, per cent and hours)") % {"title": chart.title},
        chart.row_heading, head,
        mark_safe("".join(answered_row(row, "th") for row in comparison.rows)),
        answered_row(comparison.total, "th"),
    )

    def outcome_row(row) -> SafeString:
        cells = mark_safe("".join(_cell_html(cell, digits=digits) for cell in row.breakdown))
        return format_html('<tr><th scope="row">{}</th>{}{}</tr>', row.label, cells, _cell_html(row.base, digits=digits))

    outcome_head = format_html_join("", '<th scope="col" class="text-end">{}</th>', ((label,) for label in comparison.breakdown_labels))
    outcomes = format_html(
        '<table class="table table-sm figures-table coverage-table"><caption id="{}-outcomes">{}</caption>'
        '<thead><tr><th scope="col">{}</th>{}<th scope="col" class="text-end">{}</th></tr></thead>'
        "<tbody>{}</tbody><tfoot>{}</tfoot></table>",
        caption_id,
        _("%(title)s: where the referrals stand now (referrals)") % {"title": chart.title},
        chart.row_heading, outcome_head, _("Referrals asked"),
        mark_safe("".join(outcome_row(row) for row in comparison.rows)),
        outcome_row(comparison.total),
    )
    return scroll_region(answered, labelled_by=caption_id) + scroll_region(outcomes, labelled_by=f"{caption_id}-outcomes")


def _number(value: Decimal | None) -> str:
    if value is None:
        return _("no return yet")
    value = Decimal(value)
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,.1f}"


@register.simple_tag
def target_chart(item) -> SafeString:
    """Target against actual for one indicator, a pair of bars per period."""
    key = f"indicator-{item.indicator.pk}"
    scale = float(item.scale)
    pair_height = 2 * 20 + 12
    height = pair_height * len(item.rows) + 40
    parts = [
        # Legend: the patterns themselves, named.
        format_html('<rect x="0" y="4" width="22" height="14" fill="url(#{}-hatch)" stroke="#1d4e89" stroke-width="2"/>', key),
        format_html('<text x="28" y="16" class="chart-label">{}</text>', _("Target (hatched)")),
        format_html('<rect x="200" y="4" width="22" height="14" fill="url(#{}-solid)" stroke="#0b0c0c"/>', key),
        format_html('<text x="228" y="16" class="chart-label">{}</text>', _("Actual (solid)")),
    ]
    for index, (period, target, actual) in enumerate(item.rows):
        y = 34 + index * pair_height
        parts.append(_svg_label(period.label, y=y + 14, width=34))
        target_width = round(BAR_SPACE * float(target) / scale)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="18" fill="url(#{}-hatch)" stroke="#1d4e89" stroke-width="2"/>',
                LABEL_WIDTH, y, max(target_width, 1), key,
            )
        )
        parts.append(format_html('<text x="{}" y="{}" class="chart-value">{} {}</text>', LABEL_WIDTH + target_width + 6, y + 14, _("Target"), _number(target)))
        actual_width = round(BAR_SPACE * float(actual) / scale) if actual is not None else 0
        if actual is not None:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="18" fill="url(#{}-solid)" stroke="#0b0c0c"/>',
                    LABEL_WIDTH, y + 21, max(actual_width, 1), key,
                )
            )
        actual_text = _("Actual %(figure)s") % {"figure": _number(actual)} if actual is not None else _("Actual: no submitted return yet")
        parts.append(format_html('<text x="{}" y="{}" class="chart-value">{}</text>', LABEL_WIDTH + actual_width + 6, y + 35, actual_text))
    return format_html(
        '<svg class="evidence-chart" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="{}-title" '
        'preserveAspectRatio="xMinYMin meet" focusable="false"><title id="{}-title">{}</title>{}{}</svg>',
        WIDTH, height, key, key,
        _("%(indicator)s: target and actual for each period. The same figures are in the table below.") % {"indicator": item.indicator.name},
        _defs(key),
        mark_safe("".join(parts)),
    )


@register.filter
def figure(value) -> str:
    return _number(value) if value is not None else "–"


def _cell_html(cell, *, digits: suppression.Grouping, gap: str = "") -> SafeString:
    """A count's cell; `gap` (``_gap_html()``, looked up once per table): how a zero is shown where it
    is a finding."""
    # Hundreds of cells a page: the figure's text escaped as format_html would, without its overhead.
    if cell.hidden:
        return mark_safe(f'<td class="text-end suppressed">{escape_text(cell.text(digits))}</td>')
    if gap and not cell.value:
        return mark_safe(gap)
    return mark_safe(f'<td class="text-end">{escape_text(cell.text(digits))}</td>')


def _gap_html() -> str:
    return format_html('<td class="text-end gap"><span aria-hidden="true">✕ </span>0<span class="visually-hidden"> ({})</span></td>', _("gap"))


@register.simple_tag(takes_context=True)
def chart_block(context, chart) -> SafeString:
    """One chart of a section: its heading, drawing, gaps, and table behind "Show the table" (open where
    the context sets `tables_open`, as on the printable report), with the CSV link where it has a `query`.
    Written in Python, as the drawing and table are, because a page has dozens of charts and a template's
    nodes for each cost more than the markup."""
    tables_open = context.get("tables_open")
    query = context.get("query")
    title = _escaped(chart.title)
    parts = [
        f'<div class="evidence-chart-block mb-4{" chart-long" if chart.is_long else ""}" id="chart-{_escaped(chart.key)}">\n'
        f'      <h3 class="h5">{title}</h3>\n      '
    ]
    if chart.is_empty:
        parts.append(
            f'\n        <p class="empty-state mb-1">{escape_text(_("Nothing to count for this period and area."))}</p>\n'
            f'        <p class="small">{_escaped(chart.definition)}</p>\n      '
        )
    else:
        parts += ["\n        ", bar_chart(chart) if chart.series is not None else "", "\n        "]
        if chart.note:
            parts.append(f"<p>{_escaped(chart.note)}</p>")
        parts.append("\n        ")
        if chart.alignment is not None:
            parts.append(f"<p>{_escaped(chart.alignment.summary())}</p>")
        parts.append("\n        ")
        if chart.gaps:
            count = chart.gap_count
            summary = ngettext("Show the gap", "Show all %(counter)s gaps", count) % {"counter": _escaped(localize(count))}
            gaps = "".join(f"<li><strong>{_escaped(function)}</strong>: {', '.join(_escaped(ward) for ward in wards)}</li>" for function, wards in chart.gaps)
            parts.append(
                f'\n        <details class="evidence-details mb-2"{" open" if tables_open else ""}>\n'
                f"          <summary>{summary}</summary>\n"
                f'          <ul class="gap-list">{gaps}</ul>\n        </details>\n        '
            )
        opened = tables_open or chart.alignment is not None or chart.comparison is not None
        parts.append(
            f'\n        <details class="evidence-details"{" open" if opened else ""}>\n'
            f"          <summary>{_('Show the table for %(title)s') % {'title': title}}</summary>\n"
            f'          <p class="small">{_escaped(chart.definition)}</p>\n          {figures_table(chart)}\n          '
        )
        if chart.column_definitions:
            definitions = "".join(f"<dt>{_escaped(column)}</dt><dd>{_escaped(definition)}</dd>" for column, definition in chart.column_definitions)
            parts.append(f'\n          <dl class="small column-definitions">{definitions}</dl>\n          ')
        parts.append("\n          ")
        if query is not None:
            link = _('Download this table (CSV)<span class="visually-hidden"> for %(title)s</span>') % {"title": title}
            parts.append(f'<p class="small no-print"><a href="?{_escaped(query)}&amp;format=csv&amp;chart={_escaped(chart.key)}">{link}</a></p>')
        parts.append("\n        </details>\n      ")
    parts.append("\n    </div>")
    return mark_safe("".join(parts))


@register.simple_tag
def figures_table(chart) -> SafeString:
    """The chart's figures as a table: the same suppressed cells, built in Python because a grid of
    wards by functions is hundreds of cells (a template loop would cost more than the figures)."""
    gaps = chart.zeros_are_findings
    gap = _gap_html() if gaps else ""
    digits = suppression.grouping()
    caption_id = f"table-{chart.key}"
    caption = _("%(title)s (figures are %(unit)s)") % {"title": chart.title, "unit": chart.unit}
    if gaps:
        caption += " " + _("✕ 0 marks a gap.")
    if chart.comparison is not None:
        return _comparison_tables(chart, caption_id, digits)
    if chart.alignment is not None:
        return _alignment_table(
            chart, caption_id, _("%(title)s (shares in per cent, gap in percentage points; – not compared)") % {"title": chart.title}
        )
    if isinstance(chart.series, suppression.Funding):
        return _money_table(chart, caption_id, _("%(title)s (number of grants and amount awarded)") % {"title": chart.title}, digits)
    if chart.series is not None:
        head = format_html('<tr><th scope="col">{}</th><th scope="col" class="text-end">{}</th></tr>', chart.row_heading, _("Number"))
        body = mark_safe(
            "".join(f'<tr><th scope="row">{_escaped(label)}</th>{_cell_html(cell, digits=digits, gap=gap)}</tr>' for label, cell in chart.series.rows)
        )
        foot = ""
        if chart.series.total is not None:
            foot = format_html(
                '<tfoot><tr><th scope="row">{}</th>{}</tr></tfoot>',
                chart.series.total_label or _("Total"),
                _cell_html(chart.series.total, digits=digits),
            )
        table = format_html(
            '<table class="table table-sm figures-table"><caption id="{}">{}</caption><thead>{}</thead><tbody>{}</tbody>{}</table>',
            caption_id, caption, head, body, foot,
        )
        return scroll_region(table, labelled_by=caption_id)
    table = chart.table
    columns = format_html_join("", '<th scope="col" class="text-end">{}</th>', ((column,) for column in table.column_labels))
    total_head = format_html('<th scope="col" class="text-end">{}</th>', _("Total")) if table.row_totals else ""
    rows = []
    for label, cells, total in table.rows():
        cell_html = mark_safe("".join(_cell_html(cell, digits=digits, gap=gap) for cell in cells))
        total_html = _cell_html(total, digits=digits) if total is not None else ""
        rows.append(f'<tr><th scope="row">{_escaped(label)}</th>{cell_html}{total_html}</tr>')
    foot = ""
    if table.column_totals is not None:
        totals_html = mark_safe("".join(_cell_html(total, digits=digits) for total in table.column_totals))
        grand_html = _cell_html(table.grand_total, digits=digits) if table.grand_total is not None else ""
        foot = format_html('<tfoot><tr><th scope="row">{}</th>{}{}</tr></tfoot>', _("Total"), totals_html, grand_html)
    grid = format_html(
        '<table class="table table-sm figures-table coverage-table"><caption id="{}">{}</caption>'
        '<thead><tr><th scope="col">{}</th>{}{}</tr></thead><tbody>{}</tbody>{}</table>',
        caption_id, caption, chart.row_heading, columns, total_head, mark_safe("".join(rows)), foot,
    )
    return scroll_region(grid, labelled_by=caption_id)
