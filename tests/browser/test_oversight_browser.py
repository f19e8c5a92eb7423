"""The supervisor's dashboard and trends in a real browser on the demo program (two years of
history): at phone and desktop size, a screenshot saved beside the test, and no axe-core
violations (axe-core as shipped inside the axe-playwright-python package: no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def _no_violations(page) -> None:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("size", list(SIZES))
def test_dashboard_and_trends_at_phone_and_desktop_size(
    browser, base_url, tmp_path: Path, size
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, "supervisor1")
    assert page.url.endswith("/staff/dashboard")  # the supervisor's home
    assert page.get_by_role("heading", name="Newcomers waiting for a mentor").is_visible()
    chart = page.get_by_role("img", name="Bar chart of newcomers waiting by how long")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG drew
    assert page.get_by_role("heading", name="Open concerns").is_visible()
    assert page.get_by_role("heading", name="Mentor load").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / f"dashboard-{size}.png"), full_page=True)
    assert (tmp_path / f"dashboard-{size}.png").stat().st_size > 0
    _no_violations(page)

    page.get_by_role("link", name="Trends over time").click()
    page.wait_for_url("**/staff/trends")
    page.get_by_label("Period").select_option("104")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/staff/trends?weeks=104")
    charts = page.locator("img.chart")
    assert charts.count() == 4
    for index in range(4):
        assert charts.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    # Two years of demo history: matches in most weeks, shown in words and in the table.
    summary = page.locator("#trend-time-to-match ~ p").first.inner_text()
    assert "newcomers were matched" in summary
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / f"trends-{size}.png"), full_page=True)
    _no_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table as CSV").first.click()
    assert download.value.suggested_filename == "tandem-time-to-match-104-weeks.csv"
    context.close()


def test_admin_reads_the_program_health(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "admin")
    page.get_by_role("link", name="Program health").click()  # from the dashboard
    page.wait_for_url("**/admin/health")
    assert page.get_by_role("heading", name="Notification outbox").is_visible()
    assert page.get_by_role("heading", name="Periodic loops").is_visible()
    _no_violations(page)
