"""The real tap against answers recorded from real Slack (tests/corpus, see SOURCES.md).

Each corpus answer is served by a small replay server over HTTP on 127.0.0.1 to the tap,
which must exit 0, turn every entry into a record, and keep every field the answer had:
equal, or converted by a documented rule (Unix times keep their raw value in
``<field>_unix``; a type drift is converted without loss).
"""

from __future__ import annotations

import os
import typing as t
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from click.testing import CliRunner

from tap_slack_snow.cli import main as auth_main
from tap_slack_snow.records.unix_times import unix_int
from tap_slack_snow.tap import STREAM_TYPES, TapSlackSnow
from tap_slack_snow_devkit.catalogs import select_only
from tests._support import stored_chain, sync_catching
from tests.replay import SCIM_USERS, ReplayServer, load, variants

#: The Web API streams by method (scim_users reads SCIM: its own tests below).
STREAMS = {stream.slack_method: stream for stream in STREAM_TYPES if stream.name != "scim_users"}
TAP = TapSlackSnow(config={"access_token": "xoxp-corpus"}, validate_config=False)
SCHEMAS = {name: stream.schema for name, stream in TAP.streams.items()}
FORMATS = jsonschema.FormatChecker()
DEFAULT_AUTH_TEST = load("auth.test", "docs-user-token")


def entries(
    method: str, answer: t.Any, replay: ReplayServer | None = None
) -> list[dict[str, t.Any]]:
    """What each record of ``method``'s stream is made from, as Slack sent it (by
    ``replay``: analytics lines are the file of the first day the tap asked for)."""
    if method == "admin.analytics.getFile":
        if replay is None:
            return list(answer)
        day = next(args["date"] for name, args in replay.requests if name == method)
        return [{**line, "date": day} for line in answer]
    if method == "team.billableInfo":
        return [{**info, "user_id": uid} for uid, info in answer["billable_info"].items()]
    if method == "team.billing.info":
        return [{k: v for k, v in answer.items() if k != "ok"}]
    key = STREAMS[method].records_key
    value = answer[key]
    return [value] if isinstance(value, dict) else list(value)


def lossless(raw: t.Any, kept: t.Any) -> bool:
    """``kept`` is ``raw`` converted without loss (the type-drift rules)."""
    if isinstance(raw, bool) or isinstance(kept, bool):
        return raw in (0, 1) and kept is bool(raw)
    if isinstance(raw, int | float) and isinstance(kept, str):
        return kept == str(raw)
    if isinstance(raw, str) and isinstance(kept, int | float):
        return raw.strip() == str(kept)
    return raw == [] and kept == {}  # Slack's [] for an empty object


def assert_kept(raw: t.Any, kept: t.Any, where: str) -> None:
    """Every field of ``raw`` is in ``kept``, equal or converted without loss."""
    if raw == kept and type(raw) is type(kept):
        return
    if isinstance(raw, dict) and isinstance(kept, dict):
        for key, value in raw.items():
            assert key in kept, f"{where}.{key} was dropped"
            assert_kept(value, kept[key], f"{where}.{key}")
        return
    if isinstance(raw, list) and isinstance(kept, list):
        assert len(raw) == len(kept), f"{where}: {len(raw)} items became {len(kept)}"
        for index, (item, kept_item) in enumerate(zip(raw, kept, strict=True)):
            assert_kept(item, kept_item, f"{where}[{index}]")
        return
    assert lossless(raw, kept), f"{where}: {raw!r} became {kept!r}"


def assert_record_keeps(stream: str, entry: dict[str, t.Any], record: dict[str, t.Any]) -> None:
    datetime_fields = set(TAP.streams[stream].datetime_fields)  # type: ignore[attr-defined]
    for key, value in entry.items():
        assert key in record, f"{stream}: field {key} was dropped"
        if key in datetime_fields:
            assert record[f"{key}_unix"] == unix_int(value), key
        elif stream == "billing" and key == "plan" and value == "":
            assert record[key] == "free"  # Slack's "" is the Free plan
        else:
            assert_kept(value, record[key], f"{stream}.{key}")


def record_key(stream: str, record: dict[str, t.Any]) -> tuple[t.Any, ...]:
    return tuple(record[key] for key in TAP.streams[stream].primary_keys or ())


def stream_config(url: str) -> dict[str, t.Any]:
    return {
        "access_token": "xoxp-corpus",
        "api_url": url,
        "edition": "enterprise",
        "retry_initial_wait": 0.01,
        "retry_max_attempts": 2,
    }


CASES = [(method, variant) for method in sorted(STREAMS) for variant in variants(method)]


@pytest.mark.parametrize(("method", "variant"), CASES)
def test_every_recorded_answer_becomes_records_with_every_field(method: str, variant: str) -> None:
    stream = STREAMS[method].name
    answer = load(method, variant)
    with ReplayServer({"auth.test": DEFAULT_AUTH_TEST, method: answer}) as replay:
        result, error = sync_catching(stream_config(replay.url), select_only(stream))
    assert result.exit_code == 0, error
    raw = entries(method, answer, replay)
    records = result.records.get(stream, [])
    assert len(records) == len(raw), "every entry becomes exactly one record"
    validator = jsonschema.Draft7Validator(SCHEMAS[stream], format_checker=FORMATS)
    for entry, record in zip(raw, records, strict=True):
        assert not [e.message for e in validator.iter_errors(record)]
        assert_record_keeps(stream, entry, record)
    keys = [record_key(stream, record) for record in records]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("variant", variants("auth.test"))
def test_every_recorded_auth_test_answer_identifies_the_workspace(variant: str) -> None:
    answer = load("auth.test", variant)
    billable = load("team.billableInfo", "docs-example")
    with ReplayServer({"auth.test": answer, "team.billableInfo": billable}) as replay:
        config = {**stream_config(replay.url), "edition": "auto"}
        result, error = sync_catching(config, select_only("billable_info"))
    assert result.exit_code == 0, error
    assert {r["team_id"] for r in result.records["billable_info"]} == {answer["team_id"]}


def refresh_config(url: str, tmp_path: Path) -> dict[str, t.Any]:
    return {
        **stream_config(url),
        "access_token": None,
        "client_id": "111.222",
        "client_secret": "corpus-secret",
        "refresh_token": "xoxe-1-corpus",
        "token_store_path": str(tmp_path / "tokens.json"),
    }


def rotates(answer: dict[str, t.Any]) -> bool:
    nested = answer.get("authed_user") or {}
    return bool(nested.get("refresh_token") or answer.get("refresh_token"))


@pytest.mark.parametrize("variant", variants("oauth.v2.access"))
def test_every_recorded_refresh_answer_is_read(variant: str, tmp_path: Path) -> None:
    """A refresh answer with a refresh token rotates; one without says rotation is off."""
    answer = load("oauth.v2.access", variant)
    served = {"oauth.v2.access": answer, "auth.test": DEFAULT_AUTH_TEST}
    served["team.billing.info"] = load("team.billing.info", "docs-example")
    with ReplayServer(served) as replay:
        config = {k: v for k, v in refresh_config(replay.url, tmp_path).items() if v is not None}
        result, error = sync_catching(config, select_only("billing"))
    if not rotates(answer):
        assert result.exit_code == 1
        assert "token rotation" in error
        return
    assert result.exit_code == 0, error
    assert result.count("billing") == 1
    stored = stored_chain(config)  # the store is encrypted: read it as the tap does
    user_token = answer.get("authed_user") or answer
    assert stored["refresh_token"] == user_token["refresh_token"]
    assert stored["access_token"] == user_token["access_token"]


@pytest.mark.parametrize("variant", variants("oauth.v2.access"))
def test_every_recorded_code_exchange_answer_is_read(
    variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = load("oauth.v2.access", variant)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in list(os.environ):
        if name.startswith(("TAP_SLACK_SNOW_", "SLACK_CLIENT_")):
            monkeypatch.delenv(name)
    runner = CliRunner()
    url = runner.invoke(
        auth_main, ["authorize-url", "--edition", "standard", "--client-id", "111.222"]
    ).stdout.strip()
    state = parse_qs(urlsplit(url).query)["state"][0]
    with ReplayServer({"oauth.v2.access": answer}) as replay:
        result = runner.invoke(
            auth_main,
            [
                "exchange",
                "--client-id",
                "111.222",
                "--api-url",
                replay.url,
                "--redirect-response",
                f"https://localhost/?code=corpus&state={state}",
                "--token-store-path",
                str(tmp_path / "tokens.json"),
            ],
            env={"SLACK_CLIENT_SECRET": "corpus-secret"},
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    assert f"user:              {answer['authed_user']['id']}" in result.stdout
    assert ("token rotation:    on" in result.stdout) is rotates(answer)


def undeclared(raw: t.Any, schema: dict[str, t.Any], path: str) -> list[str]:
    """Fields of ``raw`` that the schema's declared objects do not list."""
    missing: list[str] = []
    if isinstance(raw, dict) and isinstance(schema.get("properties"), dict):
        properties = schema["properties"]
        for key, value in raw.items():
            if key not in properties:
                missing.append(f"{path}.{key}")
            else:
                missing += undeclared(value, properties[key], f"{path}.{key}")
    elif isinstance(raw, list) and isinstance(schema.get("items"), dict):
        for item in raw:
            missing += undeclared(item, schema["items"], f"{path}[]")
    return missing


@pytest.mark.parametrize(("method", "variant"), CASES)
def test_the_schema_declares_every_recorded_field(method: str, variant: str) -> None:
    stream = STREAMS[method].name
    found = {
        name
        for entry in entries(method, load(method, variant))
        for name in undeclared(entry, SCHEMAS[stream], stream)
    }
    assert not found, sorted(found)


# --- SCIM (scim_users): camelCase and extension URNs become snake_case columns -------------

SCIM_RENAMED = {
    "externalId": "external_id",
    "userName": "user_name",
    "nickName": "nick_name",
    "displayName": "display_name",
    "profileUrl": "profile_url",
    "phoneNumbers": "phone_numbers",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "enterprise_extension",
    "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User": "guest_extension",
}
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GUEST = "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"


def expected_columns(user: dict[str, t.Any]) -> dict[str, t.Any]:
    """The flattened columns of docs/streams.md's scim_users table, from the raw user."""

    def text(value: t.Any) -> t.Any:
        return None if value in (None, "") else value

    def utc(value: t.Any) -> str | None:
        if not value:
            return None
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(timezone.utc).isoformat()

    emails = user.get("emails") or []
    primary = [e for e in emails if e.get("primary") is True] or emails[:1]
    enterprise = user.get(ENTERPRISE) or {}
    guest = user.get(GUEST) or {}
    return {
        "given_name": text(user.get("name", {}).get("givenName")),
        "family_name": text(user.get("name", {}).get("familyName")),
        "email": text(primary[0].get("value")) if primary else None,
        "created_at": utc(user.get("meta", {}).get("created")),
        "employee_number": text(enterprise.get("employeeNumber")),
        "cost_center": text(enterprise.get("costCenter")),
        "organization": text(enterprise.get("organization")),
        "division": text(enterprise.get("division")),
        "department": text(enterprise.get("department")),
        "manager_id": text((enterprise.get("manager") or {}).get("managerId")),
        "guest_type": text(guest.get("type")),
        "guest_expires_at": utc(guest.get("expiration")),
    }


@pytest.mark.parametrize("variant", variants(SCIM_USERS))
def test_every_recorded_scim_answer_becomes_records_with_every_field(variant: str) -> None:
    answer = load(SCIM_USERS, variant)
    with ReplayServer({"auth.test": DEFAULT_AUTH_TEST, SCIM_USERS: answer}) as replay:
        config = {**stream_config(replay.url), "scim_url": replay.scim_url}
        result, error = sync_catching(config, select_only("scim_users"))
    assert result.exit_code == 0, error
    users = answer["Resources"]
    records = result.records["scim_users"]
    assert len(records) == len(users), "every SCIM user becomes exactly one record"
    validator = jsonschema.Draft7Validator(SCHEMAS["scim_users"], format_checker=FORMATS)
    for user, record in zip(users, records, strict=True):
        assert not [e.message for e in validator.iter_errors(record)]
        for key, value in user.items():
            assert_kept(value, record[SCIM_RENAMED.get(key, key)], f"scim_users.{key}")
        for column, value in expected_columns(user).items():
            assert record[column] == value, (user["id"], column)
    assert len({r["id"] for r in records}) == len(records)
    assert [path for path, _ in replay.requests if path != "auth.test"] == [SCIM_USERS]


@pytest.mark.parametrize("variant", variants(SCIM_USERS))
def test_the_scim_schema_declares_every_recorded_field(variant: str) -> None:
    found = {
        name
        for user in load(SCIM_USERS, variant)["Resources"]
        for name in undeclared(
            {SCIM_RENAMED.get(k, k): v for k, v in user.items()},
            SCHEMAS["scim_users"],
            "scim_users",
        )
    }
    assert not found, sorted(found)


def test_the_scim_corpus_has_the_cases_slack_sends() -> None:
    """Members without the enterprise extension, an empty addresses entry, a deactivated
    member, guests with and without expiration (what the issue asks the corpus to hold)."""
    users = [u for v in variants(SCIM_USERS) for u in load(SCIM_USERS, v)["Resources"]]
    assert any(ENTERPRISE not in u for u in users)
    assert any({} in (u.get("addresses") or []) for u in users)
    assert any(u.get("active") is False for u in users)
    assert any(GUEST in u and u[GUEST].get("expiration") for u in users)
    assert any(GUEST in u and not u[GUEST].get("expiration") for u in users)
