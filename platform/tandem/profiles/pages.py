"""Pages for the newcomer intake and the mentor profile. Plain forms; no JavaScript needed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import get, post
from litestar.response import Redirect, Template

from matching.vocabulary import (
    FORMAT_LABELS,
    GENDER_LABELS,
    PATHWAY_LABELS,
    RECOVERY_STAGE_LABELS,
)
from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.clock import clock
from tandem.core.errors import DomainError, Invalid, NotFound
from tandem.core.forms import Form, form_errors, whole_number
from tandem.profiles import services
from tandem.profiles.choices import (
    LANGUAGE_BY_NAME,
    LANGUAGE_INPUTS,
    LANGUAGES,
    TIME_ZONES,
    html_pattern,
    language_label,
)
from tandem.profiles.schemas import (
    BARRIER_LABELS,
    LIVED_EXPERIENCE_LABELS,
    SHARE_LABELS,
    MentorProfileUpdate,
    NewcomerIntake,
    SharingUpdate,
)

Shape = type[NewcomerIntake] | type[MentorProfileUpdate]

# Availability is offered as blocks of the day: fine enough to find overlap, quick on a phone.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TIME_BLOCKS = (
    ("08:00", "12:00", "Morning"),
    ("12:00", "17:00", "Afternoon"),
    ("17:00", "21:00", "Evening"),
    ("21:00", "23:00", "Late evening"),
)
# Checkbox groups: a key missing from the form means none ticked.
LIST_FIELDS = ("pathways", "formats", "barriers", "lived_experience", "share_with_mentor")

CHOICES = {
    "pathways": PATHWAY_LABELS,
    "formats": FORMAT_LABELS,
    "genders": GENDER_LABELS,
    # Nobody can ask for a mentor who "prefers not to say"; such mentors meet those open to any.
    "wanted_genders": {k: v for k, v in GENDER_LABELS.items() if k != "prefer_not_to_say"},
    "lived_experience": LIVED_EXPERIENCE_LABELS,
    "barriers": BARRIER_LABELS,
    "share_with_mentor": SHARE_LABELS,
    "recovery_stages": RECOVERY_STAGE_LABELS,
    "languages": LANGUAGES,
    "language_inputs": LANGUAGE_INPUTS,
    "language_pattern": html_pattern([name for name, _ in LANGUAGES.values()]),
    "timezones": TIME_ZONES,
    "timezone_pattern": html_pattern(TIME_ZONES),
    "days": DAY_NAMES,
    "blocks": TIME_BLOCKS,
}


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v != ""]


def _languages(names: list[str]) -> tuple[list[str], str | None]:
    """Language names from the list -> codes; a name not on the list is named back."""
    codes: list[str] = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        code = LANGUAGE_BY_NAME.get(name)
        if code is None:
            return codes, f"Please choose each language from the list; we do not know {name!r}."
        if code not in codes:
            codes.append(code)
    return codes, None


def form_to_profile(form: dict[str, Any], shape: Shape) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the flat form (repeated keys, a slot grid) into the API's shape, and the problems
    the page itself can name (a language not on the list)."""
    fields = set(shape.__struct_fields__)
    data: dict[str, Any] = {
        key: (value[-1] if isinstance(value, list) else value).strip()
        for key, value in form.items()
        if key in fields and key not in (*LIST_FIELDS, "languages", "availability")
    }
    for key in LIST_FIELDS:
        if key in fields:
            data[key] = _as_list(form.get(key))
    errors: dict[str, str] = {}
    data["languages"], problem = _languages(_as_list(form.get("languages")))
    if problem:
        errors["languages"] = problem
    slots = []
    for value in _as_list(form.get("slot")):
        # "day|start|end" from the grid; anything else is a problem with the grid.
        day, _, times = value.partition("|")
        start, _, end = times.partition("|")
        number = whole_number(day)
        if number is None:
            errors["availability"] = "Please tick the times you are free in the grid."
            continue
        slots.append({"day": number, "start": start, "end": end})
    data["availability"] = slots
    for key in ("recovery_start", "recovery_stage", "gender", "wanted_gender"):
        if key in fields and not data.get(key):
            data.pop(key, None)
    if "capacity" in data:
        data["capacity"] = _number_or_text(data["capacity"])
    return data, errors


def _number_or_text(text: str) -> int | str:
    """A number typed into a form, or the text as it came for validation to refuse by name."""
    number = whole_number(text)
    return text if number is None else number


def _slot_keys(availability: list[Any]) -> set[str]:
    return {f"{slot['day']}|{slot['start']}|{slot['end']}" for slot in availability}


def _form_page(
    template: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    typed_languages: list[str] | None = None,
) -> Template:
    """The form with `values`; `typed_languages` (as typed) stand in for the saved codes."""
    names = typed_languages or [language_label(code) for code in values.get("languages", [])]
    values = {
        **values,
        "slots": _slot_keys(values.get("availability", [])),
        "language_names": names,
    }
    return Template(
        template,
        context={
            "v": values,
            "choices": CHOICES,
            "errors": errors,
            "today": clock.today().isoformat(),
        },
        status_code=status,
    )


async def _show_form(
    template: str, load: Callable[[], Awaitable[Any]], blank: dict[str, Any]
) -> Template:
    """The form filled with the saved profile, or `blank` the first time."""
    try:
        saved = await load()
    except NotFound:
        return _form_page(template, blank, {})
    return _form_page(template, msgspec.to_builtins(saved), {})


async def _submit_form(
    template: str,
    data: dict[str, Any],
    shape: Shape,
    save: Callable[[Any], Awaitable[Any]],
    done: str,
) -> Template | Redirect:
    """Validate the form as the API would; on a problem, show it again with the answers kept
    and each problem next to its field."""
    values, errors = form_to_profile(data, shape)
    if not errors:
        try:
            await save(msgspec.convert(values, shape))
        except (msgspec.ValidationError, DomainError) as error:
            for problem in form_errors(error, shape):
                errors.setdefault(problem.name or "form", problem.message)
        else:
            return Redirect(done)
    typed = [name.strip() for name in _as_list(data.get("languages")) if name.strip()]
    return _form_page(template, values, errors, status=400, typed_languages=typed)


@get("/intake", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def intake_page(request: CallerRequest) -> Template:
    return await _show_form(
        "profiles/intake.html",
        lambda: services.get_intake(request.user),
        {"languages": []},
    )


@post("/intake", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def intake_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    return await _submit_form(
        "profiles/intake.html",
        data,
        NewcomerIntake,
        lambda intake: services.save_intake(request.user, intake),
        "/home?saved=intake",
    )


@post("/intake/sharing", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def sharing_submit(request: CallerRequest, data: Form[Any]) -> Redirect:
    """The home page's "what my mentor sees" form: ticked parts are shared, the rest not."""
    try:
        sharing = msgspec.convert(
            {"share_with_mentor": _as_list(data.get("share_with_mentor"))}, SharingUpdate
        )
    except msgspec.ValidationError as error:
        raise Invalid(
            "What your mentor may see: tick only the parts listed.", field="share_with_mentor"
        ) from error
    await services.set_sharing(request.user, sharing)
    return Redirect("/home?saved=sharing")


@get("/mentor/profile", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_profile_page(request: CallerRequest) -> Template:
    return await _show_form(
        "profiles/mentor_profile.html",
        lambda: services.get_mentor_profile(request.user),
        {"languages": [], "capacity": 2},
    )


@post("/mentor/profile", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_profile_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    return await _submit_form(
        "profiles/mentor_profile.html",
        data,
        MentorProfileUpdate,
        lambda profile: services.save_mentor_profile(request.user, profile),
        "/home?saved=profile",
    )


@post("/mentor/pause", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_pause_submit(request: CallerRequest, data: Form[Any]) -> Redirect:
    pause = data.get("action") == "pause"
    await services.set_paused(request.user, pause, str(data.get("note", ""))[:500])
    return Redirect("/home")


@get("/staff/mentors/paused", guards=[allow(*STAFF)], include_in_schema=False)
async def paused_mentors_page(request: CallerRequest) -> Template:
    """Who paused and what they wrote; where the pause notice leads (the read is audited)."""
    mentors = await services.paused_mentors(request.user)
    return Template("profiles/paused.html", context={"mentors": mentors})


routes = [
    paused_mentors_page,
    intake_page,
    intake_submit,
    sharing_submit,
    mentor_profile_page,
    mentor_profile_submit,
    mentor_pause_submit,
]
