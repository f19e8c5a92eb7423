"""A person signs up, signs in and finds their way, in a real browser on a phone-sized screen."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_newcomer_signs_up_fills_intake_and_sees_home(page) -> None:
    page.goto("/")
    assert page.get_by_role("complementary", name="Get help now").is_visible()
    assert "988" in page.get_by_role("complementary", name="Get help now").inner_text()
    page.get_by_role("link", name="Ask for a mentor").click()
    page.get_by_label("First name or alias").fill("Robin")
    page.get_by_label("Username").fill("robin-browser")
    page.get_by_label("Password").fill("a-long-browser-password")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/home")
    assert page.get_by_role("heading", name="Welcome, Robin").is_visible()

    page.get_by_role("link", name="Start my intake").click()
    page.get_by_label("Where are you in your recovery?").select_option("1_to_3_months")
    page.get_by_label("Your gender").select_option("nonbinary")
    page.get_by_label("Mentor gender").select_option("any")
    page.get_by_label("Main language").fill("English")
    page.get_by_label("Time zone").fill("America/New_York")
    page.get_by_label("SMART Recovery").check()
    page.get_by_label("Video call").check()
    page.get_by_label("Mon Evening").check()
    page.get_by_label("Wed Evening").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/home?saved=intake")
    assert page.get_by_role("status").inner_text().startswith("Saved")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    login(page, "robin-browser", "a-long-browser-password")
    assert page.get_by_role("link", name="Review my intake").is_visible()


def test_a_form_error_names_the_problem(page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("newcomer001")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That username and password")


def test_supervisor_sees_and_approves_a_mentor_application(page) -> None:
    login(page, "supervisor1")
    page.get_by_role("link", name=re.compile("Mentor applications waiting")).click()
    assert page.get_by_role("heading", name=re.compile("overview")).is_visible()
    pending = page.get_by_role("heading", name=re.compile("Mentor applications"))
    assert re.search(r"\((\d+)\)", pending.inner_text())
    page.get_by_role("button", name=re.compile("^Approve")).first.click()
    page.wait_for_url("**/staff/overview?saved=approved")
    assert page.get_by_role("status").inner_text() == "Done."


def test_signed_out_visitor_is_sent_to_sign_in(page) -> None:
    page.goto("/home")
    assert "/login" in page.url
