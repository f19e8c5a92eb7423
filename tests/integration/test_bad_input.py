"""Bad input answers a 400 naming the field in plain words, never a 500 (9.A5, 10.4, 10.9).

Every test runs on SQLite and, with `DATABASE_URL` set, on PostgreSQL (which refuses NUL in text
and ids past 64 bits where SQLite would not).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from litestar import Litestar

from tandem.core.auth import PUBLIC_OPT_KEY, Role
from tandem.core.errors import MAX_ID
from tests.integration.test_access_matrix import served_routes

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
DEVELOPER_WORDS = re.compile(r"Expected `|regex|\$\.|msgspec|Validation failed")

INTAKE = {
    "pathways": ["twelve_step"],
    "languages": ["en"],
    "formats": ["phone"],
    "gender": "man",
    "timezone": "America/Denver",
    "availability": [{"day": 0, "start": "17:00", "end": "21:00"}],
}
MENTOR_FORM = {
    "recovery_start": "2020-01-01",
    "gender": "woman",
    "languages": "English",
    "pathways": "twelve_step",
    "formats": "phone",
    "timezone": "America/Denver",
    "slot": "0|17:00|21:00",
}


def only_error(response: Any) -> dict[str, str]:
    """The one field error of a 400, after checking it is worded for people."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert not DEVELOPER_WORDS.search(response.text), response.text
    [error] = body["errors"]
    assert body["detail"] == error["message"]
    return error


async def sign_up(client: Any, **fields: Any) -> Any:
    data = {"username": "robin", "display_name": "Robin", "password": "a-long-password"}
    return await client.post(
        "/api/v1/auth/signup", json={**data, "program": "program-a", **fields}, headers=JSON
    )


# 9.A5: plain words, field by field ---------------------------------------------------------


async def test_api_errors_say_what_to_change(client, people) -> None:
    assert only_error(await sign_up(client, username="robin hood")) == {
        "field": "username",
        "message": "Usernames can use letters, numbers and . _ @ + - only.",
    }
    assert only_error(await sign_up(client, password="short")) == {
        "field": "password",
        "message": "Password needs at least 10 characters.",
    }
    assert only_error(await sign_up(client, program="Program A!"))["field"] == "program"
    missing = await client.post("/api/v1/auth/signup", json={"username": "robin"}, headers=JSON)
    assert only_error(missing) == {
        "field": "display_name",
        "message": "Please fill in first name or alias.",
    }
    unknown = await sign_up(client, shoe_size=9)
    assert only_error(unknown) == {
        "field": "shoe_size",
        "message": "shoe_size is not a field here: remove it.",
    }


async def test_nested_and_enum_errors_name_the_field(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    bad_time = {**INTAKE, "availability": [{"day": 0, "start": "25:00", "end": "21:00"}]}
    assert only_error(await client.put("/api/v1/intake", json=bad_time)) == {
        "field": "availability[0].start",
        "message": "Times are written as HH:MM on a 24-hour clock, like 18:30.",
    }
    bad_day = {**INTAKE, "availability": [{"day": 9, "start": "08:00", "end": "12:00"}]}
    assert only_error(await client.put("/api/v1/intake", json=bad_day)) == {
        "field": "availability[0].day",
        "message": "Day must be a whole number from 0 to 6.",
    }
    bad_pathway = only_error(await client.put("/api/v1/intake", json={**INTAKE, "pathways": ["x"]}))
    assert bad_pathway["field"] == "pathways[0]"
    assert bad_pathway["message"].startswith("Pathways must be one of: ")
    empty = only_error(await client.put("/api/v1/intake", json={**INTAKE, "formats": []}))
    assert empty == {"field": "formats", "message": "Formats needs from 1 to 4 choices."}
    not_object = await client.put("/api/v1/intake", json=[1, 2])
    assert only_error(not_object)["field"] == "body"


async def test_query_errors_name_the_parameter(client, people) -> None:
    await client.login(people.a[Role.SUPERVISOR].username)
    error = only_error(await client.get("/api/v1/members/?role=wizard"))
    assert error["field"] == "role"
    assert error["message"] == "Role must be one of: newcomer, mentor, supervisor, admin."


def _patterns(info: mi.Type, where: str, seen: set[type]) -> list[tuple[str, str | None]]:
    """Every string pattern reachable from a type, with the plain message it carries."""
    found: list[tuple[str, str | None]] = []
    message = None
    while isinstance(info, mi.Metadata):
        message = message or (info.extra or {}).get("pattern_message")
        info = info.type
    if isinstance(info, mi.StrType) and info.pattern:
        found.append((where, message))
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            found += _patterns(member, where, seen)
    elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        found += _patterns(info.item_type, f"{where}[]", seen)
    elif isinstance(info, mi.DictType):
        found += _patterns(info.key_type, f"{where}{{key}}", seen)
        found += _patterns(info.value_type, f"{where}{{}}", seen)
    elif isinstance(info, mi.StructType) and info.cls not in seen:
        seen.add(info.cls)
        for field in info.fields:
            found += _patterns(field.type, f"{where}.{field.name}", seen)
    return found


def test_every_pattern_at_the_edge_has_plain_words(app: Litestar) -> None:
    """A regex has no plain reading, so each one the edge checks carries its own sentence."""
    unworded = []
    for (method, path), handler in served_routes(app).items():
        model = handler.signature_model
        for name, info in zip(model.__struct_fields__, mi.type_info(model).fields, strict=True):  # type: ignore[attr-defined]
            for where, message in _patterns(info.type, name, set()):
                if not message:
                    unworded.append(f"{method} {path} {where}")
    assert unworded == []


async def test_signup_page_shows_each_message_beside_its_field(client, people) -> None:
    form = {"role": "newcomer", "program": "program-a", "display_name": "Robin"}
    page = await client.post(
        "/signup",
        data={**form, "username": "robin hood", "password": "a-long-password"},
        headers=HTML,
    )
    assert page.status_code == 400
    assert not DEVELOPER_WORDS.search(page.text)
    assert (
        '<small class="field-error" id="username-error" role="status">'
        "Usernames can use letters, numbers and . _ @ + - only.</small>"
    ) in page.text
    assert '<a href="#username">' in page.text
    assert 'value="Robin"' in page.text


async def test_profile_page_names_the_field_in_plain_words(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    form = {"gender": "man", "languages": "Klingon", "pathways": "twelve_step", "formats": "phone",
            "timezone": "America/Denver", "slot": "0|17:00|21:00"}  # fmt: skip
    page = await client.post("/intake", data=form, headers=HTML)
    assert page.status_code == 400
    assert "Please choose each language from the list; we do not know &#39;Klingon&#39;." in (
        page.text
    )
    assert not DEVELOPER_WORDS.search(page.text)


# 10.4: no 500 from any input ----------------------------------------------------------------


def _roles_allowed(handler: Any) -> set[Role]:
    return {
        role
        for layer in handler.ownership_layers
        for guard in layer.guards or ()
        for role in getattr(guard, "allowed_roles", ())
    }


async def test_ids_past_64_bits_are_a_400_on_every_route(
    app: Litestar, make_client, people
) -> None:
    """Every route with an integer in its path, called by a role it admits, with 2^63."""
    clients: dict[Role, Any] = {}
    checked, failures = 0, []
    for (method, path), handler in served_routes(app).items():
        ints = re.findall(r"\{(\w+):int\}", path)
        if not ints or handler.opt.get(PUBLIC_OPT_KEY):
            continue
        role = sorted(_roles_allowed(handler))[0]
        if role not in clients:
            clients[role] = await make_client()
            await clients[role].login(people.a[role].username)
        for too_big in (MAX_ID + 1, 2**63, 10**30):
            url = re.sub(r"\{\w+:int\}", str(too_big), path)
            url = url.replace("{module_id:str}", "mentor-role")
            response = await clients[role].request(method, url, headers=JSON)
            checked += 1
            if response.status_code != 400 or response.json()["errors"][0]["field"] != ints[0]:
                failures.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert checked >= 20
    assert failures == []


async def test_the_largest_id_is_a_404_not_a_500(client, people) -> None:
    await client.login(people.a[Role.SUPERVISOR].username)
    response = await client.get(f"/api/v1/mentors/{MAX_ID}/profile")
    assert response.status_code == 404


async def test_malformed_slot_on_the_intake_page_is_a_400(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    form = {"gender": "man", "languages": "English", "pathways": "twelve_step", "formats": "phone",
            "timezone": "America/Denver"}  # fmt: skip
    for slot in ("garbage", "x|y|z", "²|17:00|21:00"):
        page = await client.post("/intake", data={**form, "slot": slot}, headers=HTML)
        assert page.status_code == 400, slot
        assert "Please tick the times you are free in the grid." in page.text
    for slot in ("0|17:00", "9|17:00|21:00"):
        page = await client.post("/intake", data={**form, "slot": slot}, headers=HTML)
        assert page.status_code == 400, slot
        assert "Day must be a whole number from 0 to 6." in page.text or "HH:MM" in page.text


async def test_capacity_in_superscript_digits_is_a_400(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    for capacity in ("²", "①", "9" * 400, "-1"):
        page = await client.post(
            "/mentor/profile", data={**MENTOR_FORM, "capacity": capacity}, headers=HTML
        )
        assert page.status_code == 400, capacity
        assert "Capacity must be a whole number from 1 to 6." in page.text


async def test_quiz_answers_that_are_not_ascii_digits_are_a_400(client, people) -> None:
    await client.login(people.a[Role.MENTOR].username)
    started = await client.post("/api/v1/training/modules/mentor-role/attempts")
    assert started.status_code == 201, started.text
    attempt = started.json()
    question = attempt["questions"][0]["id"]
    for choice in ("²", "①", "9" * 400):
        page = await client.post(
            f"/mentor/training/attempts/{attempt['id']}",
            data={f"answer-{question}": choice},
            headers=HTML,
        )
        assert page.status_code == 400, choice
        api = await client.post(
            f"/api/v1/training/attempts/{attempt['id']}/submit",
            json={"answers": {question: choice}},
        )
        assert only_error(api)["field"] == "answers[...]"


async def test_json_nested_50000_deep_is_a_400(client, people) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    response = await client.post(
        "/api/v1/auth/signup", content=deep, headers={**JSON, "content-type": "application/json"}
    )
    assert only_error(response)["field"] == "body"


# 10.9: NUL bytes, names that hide or reverse text, 500s logged once -------------------------


async def test_nul_bytes_in_free_text_are_refused(client, people) -> None:
    await client.login(people.a[Role.NEWCOMER].username)
    error = only_error(await client.put("/api/v1/intake", json={**INTAKE, "hopes": "a\x00b"}))
    assert error["field"] == "hopes"
    assert "NUL" in error["message"]
    assert only_error(await sign_up(client, password="long-enough\x00"))["field"] == "password"


async def test_nul_bytes_that_reach_the_database_are_a_400(client, people) -> None:
    """A query parameter has no text type at the edge: PostgreSQL refuses the NUL itself
    (asyncpg's CharacterNotInRepertoireError), which must still be a 400."""
    await client.login(people.a[Role.SUPERVISOR].username)
    response = await client.get("/api/v1/members/?status=a%00b")
    assert response.status_code in (200, 400), response.text


@pytest.mark.parametrize(
    "name",
    ["Robin\u202eniboR", "Ro\u200bbin", "Robin\u2066x\u2069", "\ufeffRobin", "Ro\x07bin"],
)
async def test_display_names_refuse_invisible_and_reversing_characters(
    client, people, name
) -> None:
    error = only_error(await sign_up(client, display_name=name))
    assert error["field"] == "display_name"
    assert "invisible or direction-changing" in error["message"]


async def test_ordinary_names_in_any_script_are_welcome(make_client, people) -> None:
    for number, name in enumerate(("José", "محمد", "李小龍", "O'Brien-Smith")):
        fresh = await make_client()  # signing up signs in; a second sign-up must sign out first
        response = await sign_up(fresh, username=f"person{number}", display_name=name)
        assert response.status_code == 201, response.text


async def test_a_500_is_logged_once_without_the_query_string(
    client, people, caplog, monkeypatch
) -> None:
    from tandem.profiles import services

    async def broken(*_: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "get_intake", broken)
    await client.login(people.a[Role.NEWCOMER].username)
    with caplog.at_level(logging.INFO):
        response = await client.get("/api/v1/intake?hopes=my-private-words")
    assert response.status_code == 500
    records = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len(records) == 1
    assert records[0].getMessage() == "unhandled error on GET /api/v1/intake"
    assert "my-private-words" not in caplog.text


def test_each_tandem_log_line_reaches_one_handler(app: Litestar) -> None:
    """A second handler on the `tandem` logger wrote every line, each 500 included, twice."""
    logger: logging.Logger | None = logging.getLogger("tandem.errors")
    handlers = []
    while logger is not None:
        handlers += [h for h in logger.handlers if type(h).__module__ != "_pytest.logging"]
        logger = logger.parent if logger.propagate else None
    assert len(handlers) == 1


async def test_a_client_that_left_early_is_one_line_not_a_traceback(
    app: Litestar, client, caplog
) -> None:
    """The body never arrives: the server reads `http.disconnect`, as uvicorn sends it."""
    token = client.http.cookies["csrftoken"]
    messages = [
        {"type": "http.request", "body": b'{"username": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/auth/login",
        "raw_path": b"/api/v1/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"cookie", f"csrftoken={token}".encode()),
            (b"x-csrftoken", token.encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)  # type: ignore[arg-type]
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert any("client left" in r.getMessage() for r in caplog.records)
    assert sent[0]["status"] != 500


def test_field_errors_read_the_schema_not_the_developer_message() -> None:
    from tandem.accounts.schemas import SignUp
    from tandem.core.errors import field_errors

    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert({"username": "ab", "display_name": "x", "password": "p" * 20,
                         "program": "program-a"}, SignUp)  # fmt: skip
    [error] = field_errors(raised.value, SignUp)
    assert (error.field, error.message) == ("username", "Username needs at least 3 characters.")


# 10.4: the OpenAPI document says the truth ---------------------------------------------------


async def test_openapi_states_bounds_refusals_and_public_routes(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 30
    for method, path, operation in operations:
        answers = set(operation["responses"])
        public = operation.get("security") == [{}]
        assert "400" in answers, path
        assert public or {"401", "403"} <= answers, f"{method} {path} does not say 401/403"
        if "{" in path:
            assert "404" in answers, f"{method} {path} does not say 404"
        if method != "GET":
            assert "409" in answers, f"{method} {path} does not say 409"
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                assert parameter["schema"]["minimum"] == 1, path
                assert parameter["schema"]["maximum"] == MAX_ID, path
    by_path = {(method, path): op for method, path, op in operations}
    assert by_path[("POST", "/api/v1/auth/login")]["security"] == [{}]
    assert "429" in by_path[("POST", "/api/v1/auth/signup")]["responses"]
    assert "security" not in by_path[("GET", "/api/v1/me")]  # the document's default: signed in
    assert document["security"] == [{"sessionCookie": []}]
