"""Training pages: the track, lessons, quizzes and feedback, the certificate, and compliance.

Plain forms, no JavaScript: a quiz is a form of radio buttons, graded on the server.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.errors import Invalid
from tandem.training import services
from tandem.training.content import current_track
from tandem.training.schemas import Remediation

Form = URLEncodedBody[dict[str, Any]]
ANSWER_PREFIX = "answer-"
OPTION_POSITION = re.compile(r"[0-9]")  # a quiz shows at most five options
REMEDIATION_LABELS: dict[Remediation, str] = {
    "supervision_conversation": "We talked it through in supervision",
    "remediation_plan": "We agreed a remediation plan and it is done",
    "supervised_review": "We reviewed the module together",
}
STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "passed": "Passed",
    "expiring_soon": "Renew soon",
    "expired": "Renew now",
    "locked": "Locked",
}
STATE_LABELS = {
    "complete": "Complete",
    "expiring_soon": "Expiring within 30 days",
    "expired": "Expired",
    "locked": "Locked after three tries",
    "in_progress": "In progress",
    "not_started": "Not started",
}


@get("/mentor/training", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def track_page(request: CallerRequest) -> Template:
    progress = await services.track_progress(request.user)
    return Template(
        "training/track.html",
        context={"progress": progress, "labels": STATUS_LABELS, "why_not": services.why_not},
    )


@get(
    "/mentor/training/modules/{module_id:str}", guards=[allow(Role.MENTOR)], include_in_schema=False
)
async def lesson_page(
    request: CallerRequest, module_id: FromPath[str], marked: FromQuery[str | None] = None
) -> Template:
    lesson = await services.lesson(request.user, module_id)
    return Template(
        "training/lesson.html",
        context={
            "lesson": lesson,
            "labels": STATUS_LABELS,
            "why_not": services.why_not,
            "marked": marked == "read",
        },
    )


@post(
    "/mentor/training/modules/{module_id:str}/read",
    guards=[allow(Role.MENTOR)],
    include_in_schema=False,
)
async def mark_read(request: CallerRequest, module_id: FromPath[str]) -> Redirect:
    """The "Mark as read" button: the deliberate step that counts as reading the module."""
    await services.mark_read(request.user, module_id)
    return Redirect(f"/mentor/training/modules/{module_id}?marked=read")


@post(
    "/mentor/training/modules/{module_id:str}/quiz",
    guards=[allow(Role.MENTOR)],
    include_in_schema=False,
)
async def start_quiz(request: CallerRequest, module_id: FromPath[str]) -> Redirect:
    attempt = await services.start_attempt(request.user, module_id)
    return Redirect(f"/mentor/training/attempts/{attempt.id}")


@get(
    "/mentor/training/attempts/{attempt_id:int}",
    guards=[allow(Role.MENTOR)],
    include_in_schema=False,
)
async def attempt_page(request: CallerRequest, attempt_id: FromPath[int]) -> Template:
    attempt = await services.get_attempt(request.user, attempt_id)
    if attempt.result is None:
        return Template("training/quiz.html", context={"attempt": attempt})
    progress = await services.track_progress(request.user)
    module = next(m for m in progress.modules if m.module_id == attempt.module_id)
    return Template(
        "training/result.html",
        context={
            "attempt": attempt,
            "result": attempt.result,
            "module": module,
            "progress": progress,
            "why_not": services.why_not,
        },
    )


def answers_from_form(form: dict[str, Any]) -> dict[str, int]:
    """`answer-<question id>=<option position>` fields into the answer sheet.

    Only the ASCII digits the form sends: `str.isdigit` also accepts `²` and `①`, which `int()`
    then refuses.
    """
    answers = {}
    for key, value in form.items():
        if not key.startswith(ANSWER_PREFIX):
            continue
        choice = str(value[-1] if isinstance(value, list) else value)
        if not OPTION_POSITION.fullmatch(choice):
            raise Invalid("Please choose one of the options.", field="answers")
        answers[key.removeprefix(ANSWER_PREFIX)] = int(choice)
    return answers


@post(
    "/mentor/training/attempts/{attempt_id:int}",
    guards=[allow(Role.MENTOR)],
    include_in_schema=False,
)
async def submit_quiz(request: CallerRequest, attempt_id: FromPath[int], data: Form) -> Redirect:
    await services.submit_attempt(request.user, attempt_id, answers_from_form(data))
    return Redirect(f"/mentor/training/attempts/{attempt_id}")


@get("/mentor/training/certificate", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def certificate_page(request: CallerRequest) -> Template:
    certificate = await services.certificate(request.user)
    return Template("training/certificate.html", context={"certificate": certificate})


@get("/staff/training", guards=[allow(*STAFF)], include_in_schema=False)
async def compliance_page(request: CallerRequest, saved: FromQuery[str | None] = None) -> Template:
    report = await services.compliance(request.user)
    return Template(
        "training/compliance.html",
        context={
            "report": report,
            "labels": STATE_LABELS,
            "remediations": REMEDIATION_LABELS,
            "titles": {module.id: module.title for module in current_track().modules},
            "saved": saved,
        },
    )


@post(
    "/staff/training/mentors/{membership_id:int}/modules/{module_id:str}/unlock",
    guards=[allow(*STAFF)],
    include_in_schema=False,
)
async def unlock_page(
    request: CallerRequest, membership_id: FromPath[int], module_id: FromPath[str], data: Form
) -> Redirect:
    remediation = data.get("remediation")
    if remediation not in REMEDIATION_LABELS:
        raise Invalid("Please say what remediation took place.", field="remediation")
    await services.unlock_module(request.user, membership_id, module_id, remediation)
    return Redirect("/staff/training?saved=unlocked")


routes = [
    track_page,
    lesson_page,
    mark_read,
    start_quiz,
    attempt_page,
    submit_quiz,
    certificate_page,
    compliance_page,
    unlock_page,
]
