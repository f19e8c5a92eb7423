"""The outcome loop in a real browser on the demo program: a supervisor opens the weights review
from the program settings, asks for weights learned from the demo's past matches, reads the
held-out evaluation in plain words beside the current weights, and adopts them."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_supervisor_reviews_and_adopts_learned_weights(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "supervisor2")
    page.get_by_role("link", name="Match review").click()
    page.get_by_role("link", name="Program settings").click()
    page.wait_for_url("**/staff/settings")
    assert page.get_by_text(re.compile(r"version 0 \(the engine's own weights\)")).is_visible()
    page.get_by_role("link", name="Review weights learned from this program's outcomes").click()
    page.wait_for_url("**/staff/weights")

    # Fitting reads the whole history and loads scikit-learn: give a loaded machine time.
    page.get_by_role("button", name="Look for better weights").click(timeout=90_000)
    evaluation = page.locator("#evaluation").inner_text()
    found = re.search(
        r"ranks a lasting match above an early ending or a concern (\d+)% of the time, against"
        r" (\d+)% now, on (\d+) past matches it did not learn from",
        evaluation,
    )
    assert found is not None, evaluation
    assert int(found.group(1)) > int(found.group(2))
    table = page.get_by_role("table", name=re.compile("weight now .* and as suggested"))
    assert table.get_by_role("row", name=re.compile("^lived experience")).is_visible()

    page.get_by_role("button", name=re.compile(r"^Adopt version \d+$")).click()
    page.wait_for_url("**/staff/weights?done=adopted")
    assert page.get_by_text("Adopted. Every proposal from now on").is_visible()
    assert page.get_by_text(re.compile(r"In use now: version [1-9]")).is_visible()
    assert page.get_by_role("cell", name="adopted").is_visible()

    page.goto("/staff/settings")
    assert page.get_by_text(re.compile(r"counts in a score: version [1-9]")).is_visible()
