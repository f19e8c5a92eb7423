"""The program's records in a real browser on the demo program: a supervisor filters the audit
trail and downloads it; a newcomer changes what their mentor sees and the mentor's page
follows; a newcomer downloads and deletes their data, and the trail shows both."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tandem.demo import FIRST_NAMES
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

DELETED = "A person who deleted their account"


def person(browser, base_url: str, username: str):  # type: ignore[no-untyped-def]
    """A browser window of its own for one person, signed in through the form."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, username)
    return page


def downloaded(page, click) -> str:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        click()
    return Path(info.value.path()).read_text()


def test_a_supervisor_filters_the_audit_trail_and_downloads_it(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    supervisor = person(browser, base_url, "supervisor1")
    # Reading pause notes is a sensitive read; the trail shows it.
    supervisor.get_by_role("link", name="Paused mentors").first.click()
    supervisor.wait_for_url("**/staff/mentors/paused")
    supervisor.get_by_role("link", name="Audit trail").click()
    supervisor.wait_for_url("**/staff/audit")
    supervisor.get_by_label("Kind of event").select_option("mentor.pause_notes_read")
    supervisor.get_by_role("button", name="Show").click()
    supervisor.wait_for_url(re.compile(r".*/staff/audit\?.*action=mentor.pause_notes_read"))
    rows = supervisor.locator("tbody tr")
    assert rows.count() >= 1
    for text in rows.all_inner_texts():
        assert "mentor.pause_notes_read" in text
        assert "sensitive read" in text

    text = downloaded(
        supervisor, supervisor.get_by_role("link", name="Download these events as CSV").click
    )
    events = list(csv.DictReader(io.StringIO(text)))
    assert len(events) == rows.count()
    assert {e["event"] for e in events} == {"mentor.pause_notes_read"}
    assert {e["sensitive_read"] for e in events} == {"yes"}

    supervisor.get_by_role("link", name="Clear the filters").click()
    supervisor.get_by_label("Only reads of sensitive records").check()
    supervisor.get_by_role("button", name="Show").click()
    supervisor.wait_for_url(re.compile(r".*sensitive=on"))
    assert supervisor.locator("tbody tr").count() >= 1


def test_a_newcomer_changes_what_their_mentor_sees(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    newcomer = person(browser, base_url, "newcomer004")  # the demo's "newcomer (matched)"
    mentor_name = newcomer.locator("text=Your mentor is").locator("strong").inner_text()
    mentor = person(browser, base_url, f"mentor{FIRST_NAMES.index(mentor_name) + 1:02d}")
    mentor.get_by_role("link", name="My mentees").first.click()
    mentee = mentor.locator(
        "section.card", has=mentor.get_by_role("heading", name=re.compile("^Your mentee"))
    )
    assert mentee.get_by_text("What they hope for").is_visible()

    hopes = newcomer.get_by_label("What I hope for (in my own words)")
    assert hopes.is_checked()
    hopes.uncheck()
    newcomer.get_by_role("button", name="Save what my mentor sees").click()
    newcomer.wait_for_url("**/home?saved=sharing")
    assert not newcomer.get_by_label("What I hope for (in my own words)").is_checked()

    mentor.reload()
    assert mentee.get_by_text("Recovery pathway(s)").is_visible()
    assert mentee.get_by_text("What they hope for").count() == 0


def test_a_newcomer_downloads_and_deletes_their_data_and_the_trail_shows_it(
    browser, base_url
) -> None:  # type: ignore[no-untyped-def]
    newcomer = person(browser, base_url, "newcomer100")  # the demo's "just signed up"
    newcomer.get_by_role("link", name="Your data").click()
    newcomer.wait_for_url("**/privacy")
    exported = json.loads(
        downloaded(
            newcomer,
            newcomer.get_by_role("link", name="Download everything we hold about you").click,
        )
    )
    assert exported["person"]["username"] == "newcomer100"
    newcomer.get_by_label(re.compile("To confirm, type")).fill("delete my data")
    newcomer.get_by_role("button", name="Delete my account").click()
    newcomer.wait_for_url(re.compile(r".*/\?deleted=1$"))

    supervisor = person(browser, base_url, "supervisor1")
    supervisor.goto("/staff/audit")
    supervisor.get_by_label("Kind of event").select_option("person.deleted")
    supervisor.get_by_role("button", name="Show").click()
    supervisor.wait_for_url(re.compile(r".*action=person.deleted"))
    row = supervisor.locator("tbody tr").first
    assert DELETED in row.inner_text()
    supervisor.get_by_label("Kind of event").select_option("person.exported")
    supervisor.get_by_role("button", name="Show").click()
    supervisor.wait_for_url(re.compile(r".*action=person.exported"))
    assert DELETED in supervisor.locator("tbody tr").first.inner_text()
    assert "newcomer100" not in supervisor.content()
