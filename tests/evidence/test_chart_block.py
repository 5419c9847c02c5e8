"""The chart_block tag: a dashboard chart's block (heading, drawing, gaps, table, CSV link) as the section
template's per-chart markup wrote it, byte for byte, kept here as the reference."""

import pytest
from django.template import Context, Template

from evidence import suppression
from evidence.selectors import Chart

# The section template's markup for one chart before chart_block (templates/evidence/includes/section.html).
TEMPLATE_MARKUP = """{% load i18n evidence_charts %}<div class="evidence-chart-block mb-4{% if chart.is_long %} chart-long{% endif %}" id="chart-{{ chart.key }}">
      <h3 class="h5">{{ chart.title }}</h3>
      {% if chart.is_empty %}
        <p class="empty-state mb-1">{% translate "Nothing to count for this period and area." %}</p>
        <p class="small">{{ chart.definition }}</p>
      {% else %}
        {% if chart.series %}{% bar_chart chart %}{% endif %}
        {% if chart.note %}<p>{{ chart.note }}</p>{% endif %}
        {% if chart.alignment %}<p>{{ chart.alignment.summary }}</p>{% endif %}
        {% if chart.gaps %}
        <details class="evidence-details mb-2"{% if tables_open %} open{% endif %}>
          <summary>{% blocktranslate count counter=chart.gap_count %}Show the gap{% plural %}Show all {{ counter }} gaps{% endblocktranslate %}</summary>
          <ul class="gap-list">{% for function, wards in chart.gaps %}<li><strong>{{ function }}</strong>: {{ wards|join:", " }}</li>{% endfor %}</ul>
        </details>
        {% endif %}
        <details class="evidence-details"{% if tables_open or chart.alignment or chart.comparison %} open{% endif %}>
          <summary>{% blocktranslate with title=chart.title %}Show the table for {{ title }}{% endblocktranslate %}</summary>
          <p class="small">{{ chart.definition }}</p>
          {% figures_table chart %}
          {% if chart.column_definitions %}
          <dl class="small column-definitions">{% for column, definition in chart.column_definitions %}<dt>{{ column }}</dt><dd>{{ definition }}</dd>{% endfor %}</dl>
          {% endif %}
          {% if query is not None %}<p class="small no-print"><a href="?{{ query }}&amp;format=csv&amp;chart={{ chart.key }}">{% blocktranslate with title=chart.title %}Download this table (CSV)<span class="visually-hidden"> for {{ title }}</span>{% endblocktranslate %}</a></p>{% endif %}
        </details>
      {% endif %}
    </div>"""


def charts() -> list[Chart]:
    gaps = [("Advice & <guidance>", ["Bow East", "Bow <West>"]), ("Premises", ["Mile End"])]
    return [
        Chart(key="empty", title="Nothing <here> & there", definition="Counts of <nothing>.", series=suppression.suppress_series([("A", 0), ("B", 0)])),
        Chart(
            key="series", title="Groups by \"stage\"", definition="Groups & their stage.", note="A note with <b>markup</b>.",
            series=suppression.suppress_series([("Starting <out>", 12), ("Growing", 3), ("Established", 40)], total=True, population="groups"),
            column_definitions=[("Asked", "Referrals <asked>"), ("Answered", "By a provider")],
        ),
        Chart(
            key="gaps", title="Coverage", definition="Functions by ward.", zeros_are_findings=True, gaps=gaps,
            table=suppression.suppress_table([[0, 7], [6, 0]], row_labels=["Advice", "Premises"], column_labels=["Bow East", "Mile End"], personal=False),
        ),
        Chart(
            key="one-gap", title="One gap", definition="One function missing.", zeros_are_findings=True, gaps=[("Advice", ["Bow East"])],
            table=suppression.suppress_table([[0, 7]], row_labels=["Advice"], column_labels=["Bow East", "Mile End"], personal=False),
        ),
    ]


@pytest.mark.parametrize(
    "context",
    [{"query": "start=2026-01-01&end=2026-12-31&area="}, {"tables_open": True}, {}],
    ids=["dashboard", "report", "no query"],
)
def test_chart_block_is_the_templates_markup(context):
    reference, tag = Template(TEMPLATE_MARKUP), Template("{% load evidence_charts %}{% chart_block chart %}")
    for chart in charts():
        expected = reference.render(Context({**context, "chart": chart}))
        assert tag.render(Context({**context, "chart": chart})) == expected, chart.key
    # What the comparison covered: an empty chart, escaped text, one gap and several, the CSV link.
    markup = "".join(tag.render(Context({**context, "chart": chart})) for chart in charts())
    assert "Nothing to count for this period and area." in markup and "Nothing &lt;here&gt; &amp; there" in markup
    assert "Show the gap<" in markup and "Show all 3 gaps" in markup
    assert ("&amp;format=csv&amp;chart=series" in markup) == ("query" in context)
