"""A mentor takes the rest of the training track in a real browser and becomes matchable.

The test knows the answers from the content files on disk (through the loader), never from the
page: the page only ever shows stems and options until the quiz is submitted.
"""

from __future__ import annotations

import re

import pytest

from tandem.training.content import current_track
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

IN_TRAINING_MENTOR = "mentor27"  # the demo's "mentor (in training)": 3 of 8 modules passed


def take_quiz(page, module_id: str) -> None:  # type: ignore[no-untyped-def]
    """On a quiz page: pick the best option for every question shown, then submit."""
    module = current_track().module(module_id)
    assert module is not None
    names = page.locator('input[type="radio"]').evaluate_all(
        "inputs => [...new Set(inputs.map(i => i.name))]"
    )
    assert len(names) == module.quiz_length
    assert "correct" not in page.content().lower().replace("correct it", "")
    for name in names:
        question = module.question(name.removeprefix("answer-"))
        assert question is not None
        # Options are shuffled per attempt: find the best one by its text, as a person would.
        choices = page.locator("label.option").filter(has=page.locator(f'input[name="{name}"]'))
        best = choices.filter(has_text=" ".join(question.best.text.split()))
        assert best.count() == 1
        best.locator("input").check()
    page.get_by_role("button", name="Submit my answers").click()


def test_mentor_passes_the_rest_of_the_track_and_can_be_matched(page) -> None:  # type: ignore[no-untyped-def]
    login(page, IN_TRAINING_MENTOR)
    assert page.get_by_role("heading", name="Your training").is_visible()
    page.get_by_role("link", name="Go to my training").click()
    page.wait_for_url("**/mentor/training")
    assert page.get_by_text("3 of 8 modules passed and current").is_visible()

    taken = 0
    for module in current_track().modules:
        page.goto(f"/mentor/training/modules/{module.id}")
        assert page.get_by_role("heading", level=1).count() == 1
        start = page.get_by_role("button", name="Take the quiz", exact=True)
        if start.count() == 0:  # passed already
            continue
        if taken == 0:  # reading is recorded only when the mentor says so
            page.get_by_role("button", name="Mark as read").click()
            page.wait_for_url(f"**/mentor/training/modules/{module.id}?marked=read")
            assert page.get_by_text("this module is marked as read").is_visible()
            start = page.get_by_role("button", name="Take the quiz", exact=True)
        start.click()
        page.wait_for_url(re.compile(r".*/mentor/training/attempts/\d+$"))
        take_quiz(page, module.id)
        page.wait_for_url(re.compile(r".*/mentor/training/attempts/\d+$"))
        assert page.get_by_role("heading", name=f"{module.title}: passed").is_visible()
        assert "Passed" in page.get_by_role("status").inner_text()
        # Feedback with the reasons appears only now.
        assert page.get_by_text("(best answer)").first.is_visible()
        taken += 1
    assert taken == 5

    page.goto("/mentor/training")
    assert page.get_by_text("8 of 8 modules passed and current").is_visible()
    assert page.get_by_text("You can be matched").first.is_visible()
    page.get_by_role("link", name="My certificate").click()
    assert page.get_by_role("heading", name="Certificate of completion").is_visible()
    page.goto("/home")
    assert page.get_by_text("You can be matched").is_visible()
