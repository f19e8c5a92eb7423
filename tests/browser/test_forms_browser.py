"""The profile forms and the staff pages in a real Chromium, on a 390 px wide phone screen."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
# Pages a person reaches by links; these would sign them out, download a file or call the API.
# Not pages to visit: the API, signing out, files, and downloads (a CSV is not a page).
NOT_PAGES = re.compile(r"^/(api/|logout|static/|schema|staff/trends/download)|.*\.csv$")


def sign_up(page, username: str, name: str, *, mentor: bool = False) -> None:  # type: ignore[no-untyped-def]
    page.goto("/signup?role=mentor" if mentor else "/signup")
    page.get_by_label("First name or alias").fill(name)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    button = "Send my application" if mentor else "Create my account"
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/home")


def test_a_new_mentor_applies_fills_the_profile_and_a_supervisor_sees_it(page, browser) -> None:  # type: ignore[no-untyped-def]
    sign_up(page, "ines-applies", "Ines", mentor=True)
    page.get_by_role("link", name="Fill in my profile").click()
    page.get_by_label("When did your continuous recovery begin?").fill("2018-03-15")
    page.get_by_label("Your gender").select_option("prefer_not_to_say")
    page.get_by_label("Main language").fill("Spanish")
    page.get_by_label("Another language (optional)").first.fill("English")
    page.get_by_label("Faith-based").check()
    page.get_by_label("Phone call").check()
    page.get_by_label("Time zone").fill("America/Chicago")
    page.get_by_label("Tue Morning").check()
    page.get_by_label("Sun Late evening").check()
    page.get_by_label("A short introduction for your supervisor").fill("Madre, abuela, amiga.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/home?saved=profile")
    assert page.get_by_role("status").inner_text().startswith("Saved")

    staff = browser.new_context(base_url=page.url.split("/home")[0])
    supervisor = staff.new_page()
    login(supervisor, "supervisor2")
    supervisor.goto("/staff/overview")  # the applications, one click from the dashboard
    application = supervisor.locator("li.application", has_text="Ines")
    assert "Madre, abuela, amiga." in application.inner_text()
    assert "Faith-based" in application.inner_text()
    assert application.get_by_role("button", name="Approve Ines").is_visible()
    staff.close()


def test_the_browser_checks_what_the_server_checks(page) -> None:  # type: ignore[no-untyped-def]
    sign_up(page, "kit-checks", "Kit")
    page.get_by_role("link", name="Start my intake").click()
    language = page.get_by_label("Main language")
    language.fill("Klingon")
    assert language.evaluate("el => el.validity.patternMismatch")
    language.fill("Spanish")
    assert language.evaluate("el => el.validity.valid")
    zone = page.get_by_label("Time zone")
    zone.fill("Mars/Olympus")
    assert zone.evaluate("el => el.validity.patternMismatch")
    # Nothing is chosen for a person: both gender questions start empty and are required.
    for label in ("Your gender", "Mentor gender"):
        field = page.get_by_label(label)
        assert field.input_value() == ""
        assert field.evaluate("el => el.validity.valueMissing")


def test_the_time_zone_is_suggested_from_the_browser(browser, base_url) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=base_url, viewport={"width": 390, "height": 844}, timezone_id="Europe/Lisbon"
    )
    page = context.new_page()
    sign_up(page, "lu-lisbon", "Lu")
    page.goto("/intake")
    assert page.get_by_label("Time zone").input_value() == "Europe/Lisbon"
    context.close()


def test_answers_typed_when_the_session_ended_are_put_back(page) -> None:  # type: ignore[no-untyped-def]
    sign_up(page, "noor-drafts", "Noor")
    page.get_by_role("link", name="Start my intake").click()
    page.get_by_label("Your gender").select_option("woman")
    page.get_by_label("Mentor gender").select_option("any")
    page.get_by_label("Main language").fill("English")
    page.get_by_label("Harm reduction").check()
    page.get_by_label("Text messages").check()
    page.get_by_label("Time zone").fill("America/Denver")
    page.get_by_label("Thu Evening").check()
    hopes = "Someone who understands early mornings and long shifts."
    page.get_by_label("In your own words").fill(hopes)

    # The session ends (its cookie is gone); the CSRF cookie stays, as it does in a browser.
    cookies = page.context.cookies()
    page.context.clear_cookies()
    page.context.add_cookies([c for c in cookies if "csrf" in c["name"]])
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/login\?next=/intake$"))
    page.get_by_label("Username").fill("noor-drafts")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/intake")

    assert page.get_by_text("we put back what you had typed").is_visible()
    assert page.get_by_label("In your own words").input_value() == hopes
    assert page.get_by_label("Harm reduction").is_checked()
    assert page.get_by_label("Thu Evening").is_checked()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/home?saved=intake")
    page.goto("/intake")  # saved: nothing is put back twice
    assert not page.get_by_text("we put back what you had typed").is_visible()
    assert page.get_by_label("In your own words").input_value() == hopes


def _links(page) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        url = urlparse(href)
        if url.netloc == urlparse(page.url).netloc and not NOT_PAGES.match(url.path):
            paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def _assert_fits(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """No sideways scrolling of the page, and nothing cut off inside a scrolling box."""
    wide = page.evaluate(
        """() => {
        const page = document.documentElement;
        const out = [];
        if (page.scrollWidth > page.clientWidth) out.push(`page ${page.scrollWidth}px`);
        for (const el of document.querySelectorAll('.scroll, table, pre, form, fieldset')) {
            if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.tagName} ${el.scrollWidth}px`);
        }
        return out;
    }"""
    )
    assert wide == [], f"{path} is wider than a 390 px screen: {wide}"


# Pages each crawl must reach (the ones that overflowed before), so a lost link is noticed.
MUST_SEE = {
    None: {"/", "/login", "/signup", "/signup?role=mentor"},
    "newcomer001": {"/intake", "/privacy", "/notifications"},
    "mentor07": {"/mentor/profile", "/mentor/training", "/mentor/training/certificate"},
    "mentor27": {"/mentor/training"},
    "mentor03": {"/mentor/profile"},
    "supervisor1": {"/home", "/staff/training", "/staff/mentors/paused", "/staff/deliveries"},
    "admin": {"/admin/webhooks", "/staff/deliveries?status=dead"},
}


@pytest.mark.parametrize("username", list(MUST_SEE))
def test_every_page_fits_a_phone_screen(page, username) -> None:  # type: ignore[no-untyped-def]
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    if username:
        login(page, username)
    start = "/home" if username else "/"
    seen: set[str] = set()
    queue = [start, "/login", "/signup"] if not username else [start]
    while queue:
        path = queue.pop(0)
        if path in seen or len(seen) >= 60:
            continue
        seen.add(path)
        page.goto(path)
        _assert_fits(page, path)
        queue.extend(p for p in _links(page) if p not in seen)
    assert MUST_SEE[username] <= seen, MUST_SEE[username] - seen
    assert missing == [], f"not found: {missing}"
