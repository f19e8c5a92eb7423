"""Charts drawn on the server as SVG (pygal), so they read without JavaScript.

Pages show them as `<img>`: the page's content security policy allows no inline styles, and an
SVG in an `<img>` keeps its own styles and runs no script. The trends' charts come as data URIs
(each is drawn from a dozen weeks of figures); the dashboard's histogram, seen on every visit to
the home page, has its own address made of its counts, so browsers keep it. Each chart's words
(the alternative text) and table are on the page beside it.
"""

from __future__ import annotations

import base64
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

from tandem.oversight.schemas import Trend


@cache
def _pygal() -> ModuleType:
    """pygal, imported on the first chart (not at app start). It appends an old-style import
    hook for its optional map plugins (unused here) that makes later imports in the process
    warn (an ImportWarning, an error under the tests): it is taken out again at once."""
    import pygal

    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]
    return pygal


@cache
def _common() -> dict[str, Any]:
    from pygal.style import Style

    return {
        "style": Style(**STYLE),
        "js": [],  # no script from anywhere: the chart is a picture
        "width": 720,
        "height": 320,
        "explicit_size": False,
        "margin": 12,
    }


# Dark, distinct colours that keep their contrast on white (and for common colour blindness).
STYLE: dict[str, Any] = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1c5d99", "#b35806", "#2d7d46", "#7b3294", "#8c510a", "#444444"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=16,
    value_font_size=12,
)


def histogram(title: str, labels: Sequence[str], counts: Sequence[int]) -> str:
    """A bar per band, each labelled with its count."""
    return _histogram(title, tuple(labels), tuple(counts))


@lru_cache(maxsize=256)
def _histogram(title: str, labels: tuple[str, ...], counts: tuple[int, ...]) -> str:
    """Drawn once per distinct set of counts: pygal takes about 10 ms a chart, most of the
    dashboard's time, and the counts change far less often than supervisors open the page."""
    chart = _pygal().Bar(
        title=title,
        show_legend=False,
        print_values=True,
        x_label_rotation=0,
        truncate_label=-1,
        **_common(),
    )
    chart.x_labels = list(labels)
    chart.add(title, list(counts))
    return _svg(chart)


def trend_chart(trend: Trend) -> str:
    """A line per series of the trend's table, over its weeks (gaps where nothing was measured)."""
    weeks = [str(row[0]) for row in trend.rows]
    chart = _pygal().Line(
        title=trend.title,
        show_legend=len(trend.series) > 1,
        legend_at_bottom=True,
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(weeks) // 8),
        allow_interruptions=True,
        y_title=trend.unit,
        **_common(),
    )
    chart.x_labels = weeks
    for index in trend.series:
        values = [row[index] for row in trend.rows]
        chart.add(trend.columns[index], [v if isinstance(v, int | float) else None for v in values])
    return _svg(chart)


def _svg(chart: Any) -> str:
    """The chart as SVG text without pygal's script (a copy of its whole configuration, for
    its tooltips): an `<img>` would not run it, and it doubled the size of every chart."""
    root = chart.render_tree()
    for parent in root.iter():
        for child in [c for c in parent if str(c.tag).endswith("script")]:
            parent.remove(child)
    return str(ET.tostring(root, encoding="unicode"))


def data_uri(svg: str) -> str:
    """The SVG as an `<img src>` the page's security policy allows."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
