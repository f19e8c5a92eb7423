"""Check-ins and self-care in a real browser on the demo program: a mentor logs a check-in with
the form, then tells Tandem privately about a return to use; the supervisor sees only that the
mentor asked to talk; the mentor comes back when ready."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

MENTOR = "mentor09"  # the demo's "mentor (check-ins to log)"


def person(browser, base_url: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, username)
    return page


def test_a_mentor_logs_a_check_in_and_reports_a_return_to_use(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    mentor = person(browser, base_url, MENTOR)
    mentor.get_by_role("link", name="Check-ins").first.click()
    mentor.wait_for_url("**/mentor/check-ins")
    assert mentor.get_by_text("Need help right now?").is_visible()
    mentor.get_by_label("Time it started (your time)").fill("18:00")
    mentor.get_by_label("How many minutes").fill("40")
    mentor.get_by_label("How you met").select_option("phone")
    mentor.get_by_label("Goals and next steps").check()
    mentor.get_by_role("button", name="Log the check-in").click()
    mentor.wait_for_url(re.compile(r".*/mentor/check-ins\?done=(logged|flagged)$"))
    assert mentor.get_by_text("Thank you, your check-in is logged").is_visible()
    assert mentor.get_by_role("cell", name="40", exact=True).first.is_visible()

    mentor.get_by_role("link", name="Self-care").first.click()
    mentor.wait_for_url("**/mentor/self-care")
    assert mentor.get_by_text("Check-ins this month").is_visible()
    mentor.get_by_role("link", name="tell us about a return to use").click()
    mentor.wait_for_url("**/mentor/self-care/return-to-use")
    assert mentor.get_by_text("carries no penalty").is_visible()
    mentor.get_by_role("button", name="Tell us privately").click()
    assert mentor.get_by_role("heading", name="Thank you for telling us").is_visible()
    assert mentor.get_by_role("heading", name="A supportive plan").is_visible()
    assert mentor.get_by_text("988").first.is_visible()

    supervisor = person(browser, base_url, "supervisor1")
    supervisor.get_by_role("link", name="Conversations").click()
    supervisor.wait_for_url("**/staff/self-care/conversations")
    assert supervisor.get_by_text("They have not told Tandem why").is_visible()
    assert "return to use" not in supervisor.content().lower()
    supervisor.get_by_role("link", name="Gone quiet").click()
    supervisor.wait_for_url("**/staff/check-ins/quiet")
    assert supervisor.get_by_role("heading", name="Matches gone quiet (1)").is_visible()

    mentor.goto("/mentor/self-care")
    mentor.get_by_role("button", name="I am ready for new mentees again").click()
    mentor.wait_for_url("**/mentor/self-care?done=ready")
    assert mentor.get_by_text("Welcome back").is_visible()
