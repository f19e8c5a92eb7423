"""The oversight charts: valid SVG (parsed as XML) with the expected bars, lines and labels,
no script, and the CSV of a trend's table."""

from __future__ import annotations

import base64
import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

from tandem.oversight import charts
from tandem.oversight.schemas import Trend, TrendKey
from tandem.oversight.services import trend_csv

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())  # noqa: S314 - our own chart, not untrusted input


def texts(root: ET.Element) -> list[str]:
    return [t.text.strip() for t in root.iter(f"{SVG}text") if t.text and t.text.strip()]


def trend(rows: list[list[str | int | float | None]], series: list[int]) -> Trend:
    return Trend(
        key=TrendKey.RETENTION,
        title="Still active",
        summary="",
        columns=["Week starting", "Started", "At 30 days (%)", "At 90 days (%)"],
        rows=rows,
        series=series,
        unit="%",
    )


def test_histogram_has_a_bar_per_band_with_its_label_and_count() -> None:
    root = parse(charts.histogram("Waiting", ["Under 3 days", "3 to 7 days", "Longer"], [4, 0, 7]))
    assert root.tag == f"{SVG}svg"
    bars = [r for r in root.iter(f"{SVG}rect") if "rect" in (r.get("class") or "")]
    assert len(bars) == 3
    heights = [float(bar.get("height", 0)) for bar in bars]
    assert heights[1] == 0
    assert heights[2] > heights[0] > 0
    words = texts(root)
    assert {"Under 3 days", "3 to 7 days", "Longer", "Waiting"} <= set(words)
    assert {"4", "7"} <= set(words)  # each bar printed with its count


def test_charts_carry_no_script() -> None:
    svg = charts.histogram("Waiting", ["a"], [1])
    assert not list(parse(svg).iter(f"{SVG}script"))
    line = charts.trend_chart(trend([["2026-01-05", 1, 50.0, None]], [2, 3]))
    assert not list(parse(line).iter(f"{SVG}script"))


def test_trend_chart_draws_a_line_per_series_with_week_labels() -> None:
    rows: list[list[str | int | float | None]] = [
        [date(2025, 12, 1 + 7 * n).isoformat(), n, 50.0 + n, 20.0 if n else None] for n in range(4)
    ]
    root = parse(charts.trend_chart(trend(rows, [2, 3])))
    dots: dict[str, int] = {}
    for group in root.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if "series" in classes:
            [serie] = [c for c in classes if c.startswith("serie-")]
            dots[serie] = dots.get(serie, 0) + len(list(group.iter(f"{SVG}circle")))
    # A line per series: a point each week, none where nothing was measured.
    assert dots == {"serie-0": 4, "serie-1": 3}
    words = texts(root)
    assert "2025-12-01" in words
    assert {"At 30 days (%)", "At 90 days (%)"} <= set(words)  # the legend


def test_data_uri_round_trips_the_svg() -> None:
    svg = charts.histogram("Waiting", ["a"], [1])
    uri = charts.data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == svg


def test_trend_csv_has_the_header_and_a_row_per_week_with_blanks_for_unmeasured() -> None:
    table = trend([["2026-01-05", 3, 66.7, None], ["2026-01-12", 0, None, None]], [2, 3])
    assert list(csv.reader(io.StringIO(trend_csv(table)))) == [
        ["Week starting", "Started", "At 30 days (%)", "At 90 days (%)"],
        ["2026-01-05", "3", "66.7", ""],
        ["2026-01-12", "0", "", ""],
    ]
