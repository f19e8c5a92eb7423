"""The match journey in a real browser on the demo program: a newcomer asks, a supervisor
approves the explained proposal, the mentor accepts, the newcomer sees their mentor and then
asks for someone else."""

from __future__ import annotations

import re

import pytest

from tandem.demo import FIRST_NAMES
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

NEWCOMER = "newcomer001"  # the demo's "newcomer (ready to ask)"; display name FIRST_NAMES[0]


def person(browser, base_url: str, username: str):  # type: ignore[no-untyped-def]
    """A browser window of its own for one person, signed in through the form."""
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, username)
    return page


def mentor_username(display_name: str) -> str:
    """Demo mentor `i` is called FIRST_NAMES[i] and signs in as mentor{i+1:02d}."""
    return f"mentor{FIRST_NAMES.index(display_name) + 1:02d}"


def test_newcomer_asks_supervisor_approves_mentor_accepts(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    name = FIRST_NAMES[0]
    newcomer = person(browser, base_url, NEWCOMER)
    newcomer.get_by_role("link", name="My mentor").first.click()
    newcomer.wait_for_url("**/match")
    newcomer.get_by_role("button", name="Ask for a mentor").click()
    newcomer.wait_for_url("**/match?done=asked")
    assert newcomer.get_by_text("Waiting for review").is_visible()
    assert newcomer.get_by_text(re.compile(r"Usually .* days|We cannot say yet")).is_visible()

    supervisor = person(browser, base_url, "supervisor1")
    supervisor.get_by_role("link", name="Match review").click()
    supervisor.wait_for_url("**/staff/matches")
    # The queue is oldest first; this newcomer asked last.
    supervisor.get_by_role("link", name=f"Review the proposal for {name}").last.click()
    supervisor.wait_for_url(re.compile(r".*/staff/matches/proposals/\d+$"))
    heading = supervisor.get_by_role("heading", name=re.compile("^Proposed mentor: ")).inner_text()
    mentor_name = heading.removeprefix("Proposed mentor: ")
    assert supervisor.get_by_text("How the score adds up").first.is_visible()
    assert supervisor.locator("table.week").first.is_visible()
    supervisor.get_by_role("button", name=f"Approve {mentor_name}").click()
    supervisor.wait_for_url("**/staff/matches?done=approved")

    mentor = person(browser, base_url, mentor_username(mentor_name))
    mentor.get_by_role("link", name="My mentees").first.click()
    mentor.wait_for_url("**/mentor/matches")
    assert mentor.get_by_role("heading", name=f"Would you mentor {name}?").is_visible()
    mentor.get_by_role("button", name=f"Yes, I will mentor {name}").click()
    mentor.wait_for_url("**/mentor/matches?done=accepted")
    assert mentor.get_by_role("heading", name=f"Your mentee {name}").is_visible()

    newcomer.goto("/match")
    assert newcomer.get_by_role("heading", name=f"Your mentor is {mentor_name}").is_visible()
    assert newcomer.get_by_text("Ways to meet that suit you both").is_visible()
    newcomer.goto("/home")
    assert newcomer.get_by_text(f"Your mentor is {mentor_name}").is_visible()

    newcomer.goto("/match")
    newcomer.get_by_role("button", name="Ask for a different mentor").click()
    newcomer.wait_for_url("**/match?done=rematch")
    assert newcomer.get_by_text("will not be suggested to you again").is_visible()
    for page in (newcomer, supervisor, mentor):
        page.context.close()
