"""Concerns in a real browser on the demo program, on a server of this module's own (with the
delivery worker on and a webhook receiver on this host allowed): a newcomer reports a boundary
concern and is told by when; a supervisor sees it with its deadline and acts; a mentor escalates
an S1 in one tap and a real webhook receiver, an HTTP server in this test, gets the signed
alert for the on-call supervisor."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tandem.notifications.webhooks import verify
from tests.browser.conftest import running_server
from tests.browser.test_matches_browser import person

pytestmark = pytest.mark.browser

SERVER_PORT = 8261  # the concerns helper's port range (8260-8279)
RECEIVER_PORT = 8262
NEWCOMER = "newcomer004"  # the demo's "newcomer (matched)"


@pytest.fixture(scope="module")
def safety_url() -> Iterator[str]:
    extra = {
        "TANDEM_ALLOW_PRIVATE_WEBHOOKS": "1",
        "TANDEM_OUTBOX_WORKER": "1",
        "TANDEM_OUTBOX_POLL_SECONDS": "0.2",
        "TANDEM_SAFETY_LOOP_SECONDS": "0",
        "TANDEM_MATCH_LOOP_SECONDS": "0",
    }
    with running_server(extra, SERVER_PORT) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[queue.Queue[tuple[dict[str, str], bytes]]]:
    """A webhook receiver: each POST's headers and body, in order of arrival."""
    arrived: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived.put((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield arrived
    server.shutdown()
    server.server_close()


def test_newcomer_reports_a_boundary_concern_and_a_supervisor_acts(browser, safety_url) -> None:  # type: ignore[no-untyped-def]
    newcomer = person(browser, safety_url, NEWCOMER)
    newcomer.get_by_role("link", name="Report a concern").first.click()
    newcomer.wait_for_url("**/concerns/new")
    assert newcomer.get_by_text("If anyone is in danger right now").is_visible()
    newcomer.get_by_label("Which match is it about?").select_option(index=0)
    newcomer.get_by_role("radio", name="Money Lending or borrowing").check()
    newcomer.get_by_label("What happened?").fill("They asked me to lend them money.")
    newcomer.get_by_role("button", name="Send to a supervisor").click()
    newcomer.wait_for_url("**/concerns/mine?filed=*")
    told = newcomer.locator("[data-filed]")
    assert "A supervisor will respond by" in told.inner_text()
    assert "same day" in told.inner_text()
    concern_id = told.get_attribute("data-filed")

    supervisor = person(browser, safety_url, "supervisor1")
    supervisor.get_by_role("link", name="Concerns").first.click()
    supervisor.wait_for_url("**/staff/concerns")
    row = supervisor.locator(f"tr[data-concern='{concern_id}']")
    assert "S2" in row.inner_text()
    assert "Money" in row.inner_text()
    supervisor.get_by_role("link", name=f"Open concern {concern_id}").click()
    supervisor.wait_for_url(f"**/staff/concerns/{concern_id}")
    assert supervisor.locator("[data-due]").inner_text()
    assert supervisor.get_by_text("They asked me to lend them money.").is_visible()
    supervisor.get_by_role("button", name="Acknowledge").click()
    supervisor.wait_for_url("**?done=acknowledged")
    supervisor.get_by_label("Take a step").select_option("suspend_match")
    supervisor.get_by_role("button", name="Do it").click()
    supervisor.wait_for_url("**?done=acted")
    supervisor.get_by_label("Close with an outcome").select_option("match_ended")
    supervisor.get_by_role("button", name="Close the concern").click()
    supervisor.wait_for_url("**?done=closed")
    history = supervisor.locator("main").inner_text()
    assert "Suspend the match" in history
    assert "The match ended" in history


def test_mentor_escalates_now_and_the_on_call_webhook_gets_it(  # type: ignore[no-untyped-def]
    browser, safety_url, receiver
) -> None:
    admin = person(browser, safety_url, "admin")
    admin.goto("/admin/webhooks")
    admin.get_by_label("Name").fill("On-call pager")
    admin.get_by_label("Address").fill(f"http://127.0.0.1:{RECEIVER_PORT}/tandem")
    admin.get_by_label("On-call channel").check()
    admin.get_by_role("button", name="Add").click()
    secret = admin.locator("code").first.inner_text()

    mentor = person(browser, safety_url, "mentor07")
    mentor.get_by_role("link", name="Escalate now").click()  # in the crisis bar of every page
    mentor.wait_for_url("**/mentor/escalate")
    main = mentor.locator("main").inner_text()
    assert main.index("First: make everyone safe") < main.index("alert the on-call supervisor")
    assert "988" in main
    mentor.get_by_role("radio", name="Someone may be overdosing").check()
    mentor.get_by_role("button", name="Alert the on-call supervisor now").click()
    mentor.wait_for_url("**/concerns/mine?filed=*")
    assert "on-call supervisor is alerted" in mentor.locator("[data-filed]").inner_text()

    headers, body = receiver.get(timeout=30)
    assert verify(secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "safety.urgent_concern"
    assert event["severity"] == "S1"
    assert event["subject"]["type"] == "concern"
    assert event["link"].endswith(f"/staff/concerns/{event['subject']['id']}")
