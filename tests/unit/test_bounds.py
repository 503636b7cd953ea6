"""Bounded input: every limit of docs/guide.md ("Limits") refuses what lies
beyond it with one InvalidCommand, before anything can be recorded, and
accepts what lies at it. The values the adversarial run of issue 11 used are
tested here by name."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from quality_ledger import Actor
from quality_ledger import commands as c
from quality_ledger.domain import values as v
from quality_ledger.errors import InvalidCommand

QTS = Actor(user="li.wei", department="XA-QTS")
SOME_ID = UUID("6f1c1f5e-51a4-4c1e-9d0b-2017a0e1d9c8")
ASTRAL = "𠀀"  # CJK extension B: 4 bytes in UTF-8, 12 as a \u-escaped surrogate pair


def progress(amount: object) -> dict[str, Any]:
    return {
        "command": "ReportProgress",
        "activity_id": str(SOME_ID),
        "metric": "enterprises",
        "amount": amount,
        "reported_on": "2017-09-03",
    }


def postpone(reason: str) -> dict[str, Any]:
    return {"command": "PostponeActivity", "activity_id": str(SOME_ID), "reason": reason}


def refused(build: Any, *args: Any, **kwargs: Any) -> InvalidCommand:
    with pytest.raises(InvalidCommand) as refusal:
        build(*args, **kwargs)
    assert "\n" not in str(refusal.value), "an error is one line"
    return refusal.value


# The named values of issue 11 ---------------------------------------------------------


@pytest.mark.parametrize("amount", [2**63, 2**31], ids=["2**63", "2**31"])
def test_an_amount_of_2_to_the_63_or_31_is_refused_from_json_and_from_code(amount: int) -> None:
    error = refused(c.parse, json.dumps(progress(amount)))
    assert error.errors[0]["loc"] == ("amount",)
    refused(c.ReportProgress, **{**progress(amount), "command": "ReportProgress"})


@pytest.mark.parametrize("amount", [2**63, 2**31], ids=["2**63", "2**31"])
def test_a_target_of_2_to_the_63_or_31_is_refused(amount: int) -> None:
    error = refused(
        c.PlanActivity,
        campaign_id=SOME_ID,
        title="experts into enterprises",
        lead_department="XA-QTS",
        focus_area="everyone-takes-part",
        targets={"enterprises": amount},
    )
    assert error.errors[0]["loc"] == ("targets", "enterprises")


def test_the_largest_amount_is_accepted_and_one_more_is_not() -> None:
    assert c.parse(json.dumps(progress(v.MAX_COUNT))).amount == v.MAX_COUNT  # type: ignore[attr-defined]
    refused(c.parse, json.dumps(progress(v.MAX_COUNT + 1)))


@pytest.mark.parametrize(
    "field", ["title", "theme", "purpose", "partners"], ids=["name", "name-2", "free-text", "tuple-item"]
)
def test_a_nul_character_in_any_text_is_refused(field: str) -> None:
    value: object = ("ok", "a\x00b") if field == "partners" else "品質\x00西安"
    fields = {"title": "Quality Month", "theme": "品質", "organiser": "XA-QPC", field: value}
    error = refused(c.PlanCampaign, **fields, starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30))
    assert "U+0000" in str(error)


def test_a_nul_character_escaped_in_json_is_refused() -> None:
    error = refused(c.parse, json.dumps(postpone("rain\x00")))  # written "rain\\u0000"
    assert "U+0000" in str(error)


def test_a_9_mb_text_is_refused_by_parse_before_parsing_and_by_the_field_in_code() -> None:
    huge = "監" * (9 * 2**20 // 3)  # 9 MB in UTF-8
    error = refused(c.parse, json.dumps(postpone(huge), ensure_ascii=False))
    assert "over the limit" in str(error)
    refused(c.parse, json.dumps(postpone(huge)).encode())
    error = refused(c.PostponeActivity, activity_id=SOME_ID, reason=huge)
    assert error.errors[0]["type"] == "string_too_long"


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_10000_deep_is_refused_without_recursion(opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    error = refused(c.parse, opening * 10_000 + closing * 10_000)
    assert "nested 10000 deep" in str(error)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    reason = "[[[[" * 100 + '"{{{{'
    command = c.parse(json.dumps(postpone(reason)))
    assert command.reason == reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "user",
    [
        "zhang.min\u202e",
        "\u202ezhang.min",
        "zhang\u202enim.",
        "zhang\u2066.min\u2069",
        "zhang\u200b.min",
        "zhang\u200d.min",
        "zhang\u2060.min",
        "\ufeffzhang.min",
        "zhang\u200e.min",
        "zhang\u061c.min",
        "zhang\u00ad.min",
        "zhang\ufe0f.min",
        "zhang\u3164.min",
        "zhang\u00a0min",
        "zhang\u2028min",
        "zhang\ue000min",
        "zhang\x00min",
        "zhang\tmin",
    ],
    ids=lambda u: "-".join(f"U+{ord(ch):04X}" for ch in u if not ch.isascii() or not ch.isprintable()),
)
def test_an_invisible_or_reordering_character_in_a_user_name_is_refused(user: str) -> None:
    error = refused(Actor, user=user, department="XA-QTS")
    assert error.errors[0]["loc"] == ("user",)


@pytest.mark.parametrize(
    "user", ["", "   ", "x" * 2**20, "zhang\x00min", "zhang\u202emin"], ids=["empty", "blank", "1MB", "NUL", "RLO"]
)
def test_a_model_construct_actor_is_refused_when_checked(user: str) -> None:
    built = Actor.model_construct(user=user, department="XA-QTS")
    assert built.user == user  # model_construct validated nothing
    error = refused(Actor.checked, built)
    assert error.errors[0]["loc"] == ("user",)


def test_a_model_construct_actor_with_a_bad_or_missing_department_is_refused_when_checked() -> None:
    refused(Actor.checked, Actor.model_construct(user="li.wei", department="xa qts"))
    refused(Actor.checked, Actor.model_construct(user="li.wei"))


def test_a_valid_actor_checked_is_an_equal_actor() -> None:
    assert Actor.checked(QTS) == QTS
    assert Actor.checked(Actor.model_construct(user=" li.wei ", department="XA-QTS")) == QTS


def test_something_else_than_an_actor_is_refused_when_checked() -> None:
    refused(Actor.checked, {"user": "li.wei", "department": "XA-QTS"})


# Identifiers ---------------------------------------------------------------------------


def test_a_user_name_is_nfc_normalised_so_both_spellings_are_one_user() -> None:
    composed = Actor(user="jos\u00e9", department="XA-QTS")
    decomposed = Actor(user="jose\u0301", department="XA-QTS")
    assert composed == decomposed
    assert decomposed.user == "jos\u00e9"


def test_a_user_name_keeps_its_script_and_inner_spaces() -> None:
    assert Actor(user=" 張 敏 ", department="XA-QTS").user == "張 敏"
    assert Actor(user="zhāng.mǐn@西安.gov", department="XA-QTS").user == "zhāng.mǐn@西安.gov"


def test_a_sample_id_is_not_normalised_and_refuses_invisible_characters() -> None:
    take = {"inspection_id": SOME_ID, "product": "cable", "batch": "A", "taken_on": date(2017, 9, 5)}
    assert c.TakeSample(sample_id="S-e\u0301", **take).sample_id == "S-e\u0301"
    refused(c.TakeSample, sample_id="S\u200b1", **take)
    refused(c.TakeSample, sample_id="S" * (v.MAX_NAME + 1), **take)


def test_an_idempotency_key_refuses_control_and_invisible_characters() -> None:
    refused(c.PostponeActivity, activity_id=SOME_ID, reason="rain", idempotency_key="key\x00")
    refused(c.PostponeActivity, activity_id=SOME_ID, reason="rain", idempotency_key="key\u202e")
    assert c.PostponeActivity(activity_id=SOME_ID, reason="rain", idempotency_key="鍵-1").idempotency_key == "鍵-1"


# Text ----------------------------------------------------------------------------------


def test_free_text_keeps_newlines_and_tabs_but_refuses_other_control_characters() -> None:
    assert c.PostponeActivity(activity_id=SOME_ID, reason="rain\n\tand wind").reason == "rain\n\tand wind"
    for control in ("\r", "\x1b", "\x7f", "\x85"):
        refused(c.PostponeActivity, activity_id=SOME_ID, reason=f"rain{control}and wind")


def test_a_name_is_one_line() -> None:
    refused(c.ScheduleActivity, activity_id=SOME_ID, starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 2), place="a\nb")
    refused(
        c.ScheduleActivity, activity_id=SOME_ID, starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 2), place="a\u2028b"
    )


def test_a_lone_surrogate_is_refused_in_text_and_in_json() -> None:
    refused(c.PostponeActivity, activity_id=SOME_ID, reason="rain\ud800")
    refused(c.parse, json.dumps(postpone("rain\ud800")))  # \ud800 as an escape
    refused(c.parse, json.dumps(postpone("rain\ud800"), ensure_ascii=False).encode("utf-8", "surrogatepass"))


def test_cjk_debris_emoji_combining_marks_private_use_and_format_characters_are_welcome_in_text() -> None:
    reason = "監(jiān)督抽查 👨\u200d👩\u200d👧 e\u0301 \ue000 \u202bعربي\u202c 𠀀"
    assert c.PostponeActivity(activity_id=SOME_ID, reason=reason).reason == reason


@pytest.mark.parametrize(
    ("bound", "build"),
    [
        (
            v.MAX_NAME,
            lambda s: c.ScheduleActivity(
                activity_id=SOME_ID, starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 2), place=s
            ),
        ),
        (v.MAX_TEXT, lambda s: c.PostponeActivity(activity_id=SOME_ID, reason=s)),
        (
            v.MAX_TEXT,
            lambda s: c.VerifyRectification(inspection_id=SOME_ID, verified_on=date(2017, 9, 1), passed=True, notes=s),
        ),
        (v.MAX_USER, lambda s: Actor(user=s, department="XA-QTS")),
        (v.MAX_KEY, lambda s: c.LaunchCampaign(campaign_id=SOME_ID, launched_on=date(2017, 9, 1), idempotency_key=s)),
    ],
    ids=["name", "text", "free-text", "user", "idempotency-key"],
)
def test_a_text_at_its_bound_is_accepted_and_one_character_more_is_not(bound: int, build: Any) -> None:
    build(ASTRAL * bound)
    refused(build, ASTRAL * (bound + 1))


def test_a_list_of_names_at_its_bound_is_accepted_and_one_more_is_not() -> None:
    fields = {"title": "Quality Month", "theme": "品質", "organiser": "XA-QPC"}
    dates = {"starts_on": date(2017, 9, 1), "ends_on": date(2017, 9, 30)}
    c.PlanCampaign(**fields, **dates, partners=tuple(f"partner {i}" for i in range(v.MAX_ITEMS)))
    refused(c.PlanCampaign, **fields, **dates, partners=tuple(f"partner {i}" for i in range(v.MAX_ITEMS + 1)))


def test_targets_and_bulletin_lists_are_bounded() -> None:
    activity = {"campaign_id": SOME_ID, "title": "t", "lead_department": "XA-QTS", "focus_area": "craftsman-spirit"}
    c.PlanActivity(**activity, targets={f"m{i}": 1 for i in range(v.MAX_TARGETS)})
    refused(c.PlanActivity, **activity, targets={f"m{i}": 1 for i in range(v.MAX_TARGETS + 1)})
    bulletin = {"campaign_id": SOME_ID, "title": "t", "published_on": date(2017, 9, 30)}
    c.PublishBulletin(**bulletin, inspection_ids=tuple(uuid4() for _ in range(v.MAX_INSPECTIONS)))
    refused(c.PublishBulletin, **bulletin, inspection_ids=tuple(uuid4() for _ in range(v.MAX_INSPECTIONS + 1)))


@pytest.mark.parametrize("amount", ["1000000000000", "-0.01", "0.001", "NaN", "Infinity", "1e20"], ids=lambda a: a)
def test_a_penalty_beyond_its_bound_is_refused(amount: str) -> None:
    penalty = {"inspection_id": SOME_ID, "reason": "r", "decided_on": date(2017, 9, 20)}
    refused(c.ImposePenalty, **penalty, amount=Decimal(amount))
    assert c.ImposePenalty(**penalty, amount=v.MAX_MONEY).amount == v.MAX_MONEY


# The whole command ---------------------------------------------------------------------


def largest_commands() -> list[c.Command]:
    """The commands with the most bounded text, every field at its bound in 4-byte characters."""
    name, text = ASTRAL * v.MAX_NAME, ASTRAL * v.MAX_TEXT
    key = ASTRAL * v.MAX_KEY
    names = tuple(name for _ in range(v.MAX_ITEMS))
    return [
        c.PlanCampaign(
            title=name, theme=name, purpose=text, organiser="X" * 32, partners=names,
            starts_on=date(2017, 9, 1), ends_on=date(2017, 9, 30), idempotency_key=key,
        ),
        c.PlanActivity(
            campaign_id=SOME_ID, title=name, lead_department="X" * 32, focus_area="craftsman-spirit",
            partners=names, targets={f"m{i:02}" + "x" * 61: v.MAX_COUNT for i in range(v.MAX_TARGETS)},
            idempotency_key=key,
        ),
        c.RecordSampleResult(
            inspection_id=SOME_ID, sample_id=name, passed=False, nonconforming_items=names,
            tested_on=date(2017, 9, 8), idempotency_key=key,
        ),
        c.ConcludeCampaign(
            campaign_id=SOME_ID, concluded_on=date(2017, 9, 30), summary=text, override_reason=text,
            idempotency_key=key,
        ),
        c.PublishBulletin(
            campaign_id=SOME_ID, title=name, published_on=date(2017, 9, 30),
            inspection_ids=tuple(uuid4() for _ in range(v.MAX_INSPECTIONS)), idempotency_key=key,
        ),
    ]  # fmt: skip


@pytest.mark.parametrize("command", largest_commands(), ids=lambda command: command.name)
def test_no_command_within_its_field_bounds_exceeds_the_command_bound(command: c.Command) -> None:
    assert len(command.model_dump_json().encode()) <= v.MAX_COMMAND_BYTES


@pytest.mark.parametrize("command", largest_commands(), ids=lambda command: command.name)
def test_parse_reads_the_largest_commands_even_with_every_character_escaped(command: c.Command) -> None:
    raw = json.dumps(command.model_dump(mode="json"), indent=4)  # ensure_ascii: \ud840\udc00 per character
    assert c.parse(raw) == command
    assert c.parse(raw.encode("utf-16")) == command


def test_a_command_over_the_command_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The field bounds keep every command below the bound (above); the check
    # guards a field added without one. Lower the bound to see it refuse.
    monkeypatch.setattr(c, "MAX_COMMAND_BYTES", 100)
    error = refused(c.PostponeActivity, activity_id=SOME_ID, reason="x" * 100)
    assert "over the limit of 100" in str(error)


def test_an_error_about_thousands_of_fields_is_still_one_short_line() -> None:
    raw = {"command": "LaunchCampaign", **{f"extra{i}" + "x" * 1000: i for i in range(5000)}}
    error = refused(c.parse_obj, raw)
    assert len(str(error)) < 1000
    assert len(error.errors) == 5002  # every detail kept: 5000 extras, two missing fields


def test_field_names_that_are_not_strings_are_refused() -> None:
    refused(c.parse_obj, {"command": "LaunchCampaign", 1: 2})
