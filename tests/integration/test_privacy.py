"""Personal data (issue 15): sealed at rest per data subject, readable while
its key lives, erased everywhere by ``forget``, with the chain intact."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from quality_ledger import Actor, Ledger
from quality_ledger import commands as c
from quality_ledger.audit.export import export_trail
from quality_ledger.erasures import erasure_id
from quality_ledger.errors import (
    ConfigurationError,
    EncryptionKeyError,
    IntegrityError,
    InvalidCommand,
    NotFound,
    PermissionDenied,
    ReadOnly,
    StoreUnavailable,
)
from quality_ledger.eventlog import EventLog
from quality_ledger.policy import DepartmentPolicy
from quality_ledger.privacy import ERASED, KEY_TABLE, FieldCipher
from quality_ledger.privacy.keys import MemoryKeyStore
from quality_ledger.scenarios import xian2017
from quality_ledger.store.mapper import PydanticMapper
from tests.conftest import ORGANISER, plan_campaign
from tests.integration.test_golden_logs import GOLDEN, rows

OFFICER = Actor(user="wang.dpo", department="XA-DPO")
POLICY = DepartmentPolicy(privacy_officers={"XA-DPO"})
PERSON, EMPLOYER = "张敏", "西安示范电缆厂"


def nominate(ledger: Ledger, campaign_id: UUID, person: str = PERSON, employer: str = EMPLOYER) -> UUID:
    return ledger.execute(
        c.NominateCraftsman(
            campaign_id=campaign_id,
            person=person,
            employer=employer,
            deeds=f"{person}的事迹：改进退火工艺",
            nominating_department="XA-QTS",
        ),
        Actor(user="clerk.nominates", department="XA-QTS"),
    ).aggregate_id


def approved_nominee(ledger: Ledger) -> UUID:
    """A campaign planned, and in it PERSON nominated and approved; her commendation's id."""
    nominee = nominate(ledger, plan_campaign(ledger))
    ledger.execute(c.ReviewNomination(commendation_id=nominee, approved=True, reviewed_on=date(2017, 9, 20)), ORGANISER)
    return nominee


def raw_rows(ledger: Ledger) -> list[bytes]:
    return [n.state for n in EventLog.of(ledger).notifications()]


def test_personal_fields_are_sealed_at_rest_and_read_back(ledger_url: str) -> None:
    # given a ledger with a campaign and a nomination
    with Ledger.open(ledger_url, policy=POLICY) as ledger:
        campaign_id = plan_campaign(ledger)
        nominee = nominate(ledger, campaign_id)
        # then no stored row holds the nominee's name, employer or deeds, nor a clerk's user name
        stored = b"".join(raw_rows(ledger))
        for plain in (PERSON, EMPLOYER, "改进退火工艺", ORGANISER.user, "clerk.nominates"):
            assert plain.encode() not in stored, plain
        # and every read gives them back
        state: Any = ledger.get(nominee)
        assert (state.person, state.employer) == (PERSON, EMPLOYER)
        assert {e.meta.user for e in ledger.history(nominee)} == {"clerk.nominates"}
        assert ledger.audit_trail(actor=ORGANISER.user).entries
        assert ledger.verify().ok


def test_a_sealed_field_moved_to_another_row_does_not_open() -> None:
    # given two events sealed for the same clerk
    with Ledger.open("memory://") as ledger:
        plan_campaign(ledger)
        log = EventLog.of(ledger)
        first, second = list(log.notifications())[:2]
        # when the first's bytes are presented as another event's (another version)
        moved = StoredEvent(second.originator_id, second.originator_version, first.topic, first.state)
        # then reading it is an integrity error, not the clerk's name
        with pytest.raises(IntegrityError, match="does not open with its key"):
            log.decode(moved)


@pytest.fixture
def xian(demo_file: Path, tmp_path: Path) -> Iterator[tuple[Ledger, Path]]:
    """A copy of the demo's Xi'an case (conftest's ``demo_file``, loaded once per module), under the privacy policy."""
    path = tmp_path / "xian.db"
    shutil.copyfile(demo_file, path)
    with Ledger.open(f"sqlite:///{path}", policy=POLICY) as ledger:
        yield ledger, path


def nominees(ledger: Ledger) -> dict[UUID, tuple[str, str]]:
    return {
        e.originator_id: (e.person, e.employer)
        for _, e in EventLog.of(ledger).events()
        if type(e).__qualname__ == "Commendation.Nominated"
    }


def test_forget_erases_a_nominee_everywhere_and_the_chain_still_verifies(xian: tuple[Ledger, Path]) -> None:
    ledger, path = xian
    campaign_id = next(iter(ledger.campaigns())).campaign_id
    before = ledger.campaign_status(campaign_id)
    others_before = nominees(ledger)
    # the nominee whose commendation was publicised: the press title names her too
    target = max(others_before, key=lambda k: len(ledger.get(k).publicity))  # type: ignore[attr-defined]
    person, employer = others_before[target]
    assert any(person in item.title for item in ledger.get(target).publicity)  # type: ignore[attr-defined]
    # when the nominee is forgotten
    report = ledger.forget(f"nominee:{person}@{employer}", reason="PIPL Art. 47, request 2026-118", actor=OFFICER)
    # then the record says who, when and why, and the chain verifies
    assert (report.kind, report.sealed_events, report.legacy_events) == ("nominee", 3, 0)  # nominated, publicised twice
    assert len(report.linked_key_ids) == 1  # the commendation's own key: the press title
    (record,) = ledger.history(erasure_id(report.key_id))
    assert EventLog.of(ledger).recorder.select_notifications(report.position, 1)[0].originator_id == record.aggregate_id
    assert record.meta.user == OFFICER.user
    assert record.payload["reason"] == "PIPL Art. 47, request 2026-118"
    assert ledger.verify().ok
    # and the nominee reads as erased in the state, the history and the views
    state: Any = ledger.get(target)
    assert (state.person, state.employer, state.deeds) == (ERASED, ERASED, ERASED)
    assert {item.title for item in state.publicity} == {ERASED}
    assert ledger.history(target)[0].payload["person"] == ERASED
    trail = ledger.audit_trail(aggregate_id=target).entries
    assert trail[0].summary == f"nominated {ERASED} ({ERASED}) as Quality Craftsman"
    assert ledger.verify_views().ok
    with ledger.as_of(position=ledger.position()) as replayed:
        assert replayed.get(target).person == ERASED  # type: ignore[attr-defined]
    # and everyone else reads back unchanged, the figures too
    after = nominees(ledger)
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in others_before.items() if k != target}
    assert ledger.campaign_status(campaign_id) == before
    assert ledger.personal_data(f"nominee:{person}@{employer}").items == ()
    # and no byte of the name is left in the file (events, snapshots, views, key table, freed pages, WAL)
    ledger.close()
    data = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
    )
    assert person.encode() not in data
    with sqlite3.connect(path) as db:
        # 13 clerks, 5 nominees and the 4 publicised commendations' own keys, less the
        # nominee's two (hers and her commendation's), plus the officer who recorded the erasure
        assert db.execute(f"SELECT count(*) FROM {KEY_TABLE}").fetchone()[0] == 13 + 5 + 4 - 2 + 1


def test_forget_a_clerk_erases_the_user_name_from_every_event_and_the_trail(xian: tuple[Ledger, Path]) -> None:
    ledger, _ = xian
    held = ledger.personal_data("user:clerk.fda")
    assert len(held.items) == 27
    assert {i.field for i in held.items} == {"meta.user"}
    assert all(i.sealed and i.value == "clerk.fda" for i in held.items)
    # when the clerk is forgotten
    report = ledger.forget("user:Clerk.FDA", reason="left the bureau; GDPR Art. 17", actor=OFFICER)
    # then their events remain, who recorded them reads as erased
    assert report.sealed_events == 27
    assert ledger.audit_trail(actor="clerk.fda").entries == ()
    exported = io.StringIO()
    assert export_trail(ledger, exported, "csv", department="XA-FDA") >= 27
    assert "clerk.fda" not in exported.getvalue()
    assert ERASED in exported.getvalue()
    erased = [e for e in ledger.audit_trail(department="XA-FDA").entries if e.command != "Forget"]
    assert erased
    assert all(e.actor == ERASED for e in erased)
    assert ledger.verify().ok
    assert ledger.verify_views().ok
    # and the clerk may go on working: a new key, readable
    campaign_id = next(iter(ledger.campaigns())).campaign_id
    activity = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="回访",
            lead_department="XA-FDA",
            focus_area="everyone-takes-part",
            targets={"enterprises": 1},
        ),
        Actor(user="clerk.fda", department="XA-FDA"),
    ).aggregate_id
    assert ledger.history(activity)[0].meta.user == "clerk.fda"


def test_refusals_record_nothing_and_destroy_nothing(xian: tuple[Ledger, Path]) -> None:
    ledger, _ = xian
    position = ledger.position()
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        (
            {"subject": "user:clerk.fda", "actor": Actor(user="x", department="XA-QTS")},
            PermissionDenied,
            "may not erase",
        ),
        ({"subject": "clerk.fda"}, InvalidCommand, "subject must be"),
        ({"subject": "employee:clerk.fda"}, InvalidCommand, "subject must be"),
        ({"subject": "user:" + "x" * 600}, InvalidCommand, "at most 512"),
        ({"subject": "user:nobody.here"}, NotFound, "never recorded, or forgotten already"),
        ({"subject": "user:clerk.fda", "reason": "  "}, InvalidCommand, "reason must be"),
    ]
    for given, error, words in cases:
        arguments = {"subject": "user:clerk.fda", "reason": "request", "actor": OFFICER, **given}
        with pytest.raises(error, match=words):
            ledger.forget(arguments.pop("subject"), **arguments)
        assert ledger.position() == position, given
    assert ledger.personal_data("user:clerk.fda").key_id is not None
    with pytest.raises(InvalidCommand, match="subject must be"):
        ledger.personal_data("nobody")


def test_forgetting_twice_finds_nothing_the_second_time(xian: tuple[Ledger, Path]) -> None:
    ledger, _ = xian
    ledger.forget("user:clerk.hfp", reason="request", actor=OFFICER)
    position = ledger.position()
    with pytest.raises(NotFound, match="forgotten already"):
        ledger.forget("user:clerk.hfp", reason="request", actor=OFFICER)
    assert ledger.position() == position


def test_a_read_only_ledger_forgets_nothing(xian: tuple[Ledger, Path]) -> None:
    ledger, path = xian
    ledger.close()
    with Ledger.open(f"sqlite:///{path}?mode=ro", policy=POLICY) as reader:
        with pytest.raises(ReadOnly):
            reader.forget("user:clerk.fda", reason="request", actor=OFFICER)
        assert reader.personal_data("user:clerk.fda").items


def test_forget_on_postgresql_leaves_the_name_in_no_table(postgres_url: str) -> None:
    from tests.conftest import postgres_connect

    with Ledger.open(postgres_url, policy=POLICY) as ledger:
        campaign_id = plan_campaign(ledger)
        nominate(ledger, campaign_id)
        nominate(ledger, campaign_id, "李娜", "秦川机床厂")
        ledger.forget(f"nominee:{PERSON}@{EMPLOYER}", reason="request", actor=OFFICER)
        assert ledger.verify().ok
        assert ledger.verify_views().ok
        schema = postgres_url.rsplit("schema=", 1)[1]
    with postgres_connect(postgres_url) as db:
        tables = [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        assert KEY_TABLE in tables
        assert "ql_commendations" in tables
        found = {
            table: db.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE %s', (f"%{PERSON}%",)
            ).fetchone()[0]
            for table in tables
        }
        assert set(found.values()) == {0}, found
        assert (
            db.execute(
                f'SELECT count(*) FROM "{schema}"."ql_commendations" t WHERE t::text LIKE %s', ("%李娜%",)
            ).fetchone()[0]
            == 1
        )


def test_a_golden_log_written_before_sealing_opens_and_says_what_it_cannot_erase(tmp_path: Path) -> None:
    # 0.1.0, named: the golden logs of later versions hold sealed fields
    path = tmp_path / "ledger.db"
    shutil.copyfile(GOLDEN / "0.1.0" / "ledger.db", path)
    with Ledger.open(f"sqlite:///{path}", policy=POLICY) as ledger:
        assert ledger.verify().ok
        users = {e.meta.user for _, e in EventLog.of(ledger).events()}
        user = sorted(users)[0]
        held = ledger.personal_data(f"user:{user}")
        assert held.key_id is None
        assert held.items
        assert not any(i.sealed for i in held.items)
        position = ledger.position()
        with pytest.raises(NotFound, match="written before sealing"):
            ledger.forget(f"user:{user}", reason="request", actor=OFFICER)
        assert ledger.position() == position


def test_a_key_is_trusted_for_a_while_then_read_again() -> None:
    now = [0.0]
    keys = MemoryKeyStore()
    keys._clock = lambda: now[0]
    key_id, key = keys.key_for("user:a")
    assert keys.key_for("user:a") == (key_id, key)
    assert keys.key(key_id) == key
    assert keys.destroy("user:a") == key_id
    assert keys.key(key_id) is None
    assert keys.key_id("user:a") is None
    # a subject forgotten and seen again gets a new key
    assert keys.key_for("user:a")[0] != key_id
    assert keys.destroy("user:nobody") is None


# Encryption at rest ----------------------------------------------------------------


def test_a_ledger_encrypted_at_rest_keeps_no_event_in_the_clear_and_opens_only_with_its_key(
    durable_url: str, tmp_path: Path
) -> None:
    key = os.urandom(32)
    # given a ledger created with a key, the Xi'an case loaded
    with Ledger.open(durable_url, encryption_key=key, policy=POLICY) as ledger:
        campaign_id = xian2017.load(ledger)
        figures = ledger.campaign_status(campaign_id)
        log = EventLog.of(ledger)
        rows = list(log.notifications())
        snapshots = [r for n in {r.originator_id for r in rows} for r in log.snapshots.recorder.select_events(n)]
        # then every stored row and snapshot is sealed, and the chain verifies over the sealed bytes
        assert snapshots
        assert all(r.state.startswith(b"QLE1") for r in [*rows, *snapshots])
        assert not any(b"XA-QTS" in r.state or "西安".encode() in r.state for r in [*rows, *snapshots])
        assert ledger.verify().ok
        # and a nominee can still be forgotten inside it
        person, employer = sorted(nominees(ledger).values())[0]
        ledger.forget(f"nominee:{person}@{employer}", reason="request", actor=OFFICER)
        with ledger.as_of(position=ledger.position()) as replayed:
            assert replayed.campaign_status(campaign_id) == figures
    # when it is opened again with the key, it reads as before; without it, or with another, it does not open
    with Ledger.open(durable_url, encryption_key=key) as again:
        assert again.campaign_status(campaign_id) == figures
    for wrong, words in [(None, "open it with its key"), (os.urandom(32), "another key"), (b"short", "32 bytes")]:
        with pytest.raises(EncryptionKeyError, match=words):
            Ledger.open(durable_url, encryption_key=wrong)


def test_a_plain_ledger_is_not_opened_with_a_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    with Ledger.open(url) as ledger:
        plan_campaign(ledger)
    with pytest.raises(EncryptionKeyError, match="created without encryption"):
        Ledger.open(url, encryption_key=os.urandom(32))


def test_an_encrypted_row_moved_to_another_event_does_not_open() -> None:
    with Ledger.open("memory://", encryption_key=os.urandom(32)) as ledger:
        plan_campaign(ledger)
        log = EventLog.of(ledger)
        first, second = list(log.notifications())[:2]
        moved = StoredEvent(second.originator_id, second.originator_version, second.topic, first.state)
        with pytest.raises(IntegrityError, match="does not open with the ledger's key"):
            log.decode(moved)


def test_the_cli_opens_an_encrypted_ledger_with_its_key_file_and_refuses_it_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from quality_ledger.cli import main

    key = os.urandom(32)
    url = f"sqlite:///{tmp_path / 'sealed.db'}"
    with Ledger.open(url, encryption_key=key) as ledger:
        plan_campaign(ledger)
    (tmp_path / "raw.key").write_bytes(key)
    (tmp_path / "hex.key").write_text(key.hex() + "\n")
    (tmp_path / "bad.key").write_text("not a key")
    for name in ("raw.key", "hex.key"):
        assert main(["--url", url, "--key-file", str(tmp_path / name), "audit", "verify"]) == 0
    capsys.readouterr()
    assert main(["--url", url, "audit", "verify"]) == 2
    assert "open it with its key" in capsys.readouterr().err
    assert main(["--url", url, "--key-file", str(tmp_path / "bad.key"), "status"]) == 2
    assert "holds no encryption key" in capsys.readouterr().err


def test_an_evidence_bundle_of_an_encrypted_ledger_holds_the_stored_bytes_exactly(tmp_path: Path) -> None:
    import base64
    import json as jsonlib

    from quality_ledger.audit.export import export_evidence

    with Ledger.open(f"sqlite:///{tmp_path / 'sealed.db'}", encryption_key=os.urandom(32)) as ledger:
        plan_campaign(ledger)
        export_evidence(ledger, tmp_path / "bundle", "jsonl")
        stored = {n.id: n.state for n in EventLog.of(ledger).notifications()}
    lines = [jsonlib.loads(line) for line in (tmp_path / "bundle" / "events.jsonl").read_text().splitlines()]
    assert {row["position"]: base64.b64decode(row["payload"].removeprefix("base64:")) for row in lines} == stored
    assert all(row["payload"].startswith("base64:") for row in lines)


def test_forget_replaces_a_snapshot_that_held_the_nominee(tmp_path: Path) -> None:
    path = tmp_path / "snapshots.db"
    with Ledger.open(f"sqlite:///{path}", policy=POLICY) as ledger:
        log = EventLog.of(ledger)
        log.snapshot_every = 2  # the nomination's approval takes a snapshot of her state
        nominee = approved_nominee(ledger)
        (snapshot,) = log.snapshots.recorder.select_events(nominee)
        assert PERSON.encode() in snapshot.state
        report = ledger.forget(f"nominee:{PERSON}@{EMPLOYER}", reason="request", actor=OFFICER)
        assert report.snapshots_replaced == 1
        (replaced,) = log.snapshots.recorder.select_events(nominee)
        assert PERSON.encode() not in replaced.state
        assert ledger.get(nominee).person == ERASED  # type: ignore[attr-defined]
    assert PERSON.encode() not in path.read_bytes()


class FailingKms(MemoryKeyStore):
    """A key management service that is out of reach once told so."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def key_for(self, subject: str) -> tuple[UUID, bytes]:
        if self.down:
            raise TimeoutError("kms.example: no answer")
        return super().key_for(subject)


def test_a_key_store_of_ones_own_keeps_the_keys_and_its_failure_is_one_line(tmp_path: Path) -> None:
    kms = FailingKms()
    url = f"sqlite:///{tmp_path / 'kms.db'}"
    with Ledger.open(url, key_store=kms) as ledger:
        plan_campaign(ledger)
        assert kms.key_id(f"user:{ORGANISER.user}") is not None
        position = ledger.position()
        kms.down = True
        with pytest.raises(StoreUnavailable, match=r"the key store failed \(TimeoutError: kms.example: no answer\)"):
            plan_campaign(ledger, title="another")
        assert ledger.position() == position
    with sqlite3.connect(tmp_path / "kms.db") as db:  # no key table: the keys live in the KMS
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (KEY_TABLE,)).fetchone()[0] == 0
    with pytest.raises(ConfigurationError, match="lacks key_for, key, key_id, destroy"):
        Ledger.open(url, key_store=object())  # type: ignore[arg-type]


def test_a_forget_cut_short_after_the_key_names_the_remedy_and_leaves_no_snapshot_with_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'cut.db'}", policy=POLICY) as ledger:
        EventLog.of(ledger).snapshot_every = 2
        nominee = approved_nominee(ledger)
        assert PERSON in ledger.audit_trail(aggregate_id=nominee).entries[0].summary  # the views hold her name

        def fails(**_: object) -> int:
            raise StoreUnavailable("database is locked")

        # when the views cannot be rebuilt once the key is gone
        monkeypatch.setattr(ledger.views, "rebuild", fails)
        with pytest.raises(StoreUnavailable, match=r"key is destroyed .* run 'quality-ledger views rebuild'"):
            ledger.forget(f"nominee:{PERSON}@{EMPLOYER}", reason="request", actor=OFFICER)
        monkeypatch.undo()
        # then the snapshot was replaced before the key went, and the remedy completes the erasure
        (snapshot,) = EventLog.of(ledger).snapshots.recorder.select_events(nominee)
        assert PERSON.encode() not in snapshot.state
        assert ledger.get(nominee).person == ERASED  # type: ignore[attr-defined]
        assert not ledger.verify_views().ok  # the live views still hold her name: found
        ledger.views.rebuild()
        assert ledger.verify_views().ok
        assert ledger.audit_trail(aggregate_id=nominee).entries[0].summary.startswith(f"nominated {ERASED}")


class FailsOnSecond(FailingKms):
    """A key management service that answers the first key asked for, then is out of reach."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def key_for(self, subject: str) -> tuple[UUID, bytes]:
        self.asked += 1
        self.down = self.asked > 1
        return super().key_for(subject)


def test_sealing_cut_short_leaves_the_event_with_its_own_values() -> None:
    # given a nomination, whose fields are sealed in place as it is encoded
    with Ledger.open("memory://") as ledger:
        nominee = nominate(ledger, plan_campaign(ledger))
        (event,) = [e for _, e in EventLog.of(ledger).events() if e.originator_id == nominee]
    keys = FailsOnSecond()
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    mapper.privacy = FieldCipher(keys)
    before = (event.person, event.employer, event.deeds, event.meta)  # type: ignore[attr-defined]
    # when the key store fails after the first field was sealed
    with pytest.raises(StoreUnavailable, match=r"kms\.example"):
        mapper.to_stored_event(event)
    # then the event holds its own values, none left sealed
    assert keys.asked == 2
    assert (event.person, event.employer, event.deeds, event.meta) == before  # type: ignore[attr-defined]
    assert event.meta.user == "clerk.nominates"  # type: ignore[attr-defined]


FORGOTTEN_IN_0_2_0 = ("Sun Conferred", "孫授予", "Golden Bakery", "A baker's forty years", "he.ping")
"""What the writer of the 0.2.0 golden log had forgotten: a nominee (her name,
employer and press title) and a clerk."""


def test_the_0_2_0_golden_log_keeps_its_sealed_fields_and_its_erasures(tmp_path: Path) -> None:
    # given the golden log of the first release that seals personal fields
    golden = GOLDEN / "0.2.0" / "ledger.db"
    raw = golden.read_bytes()
    states = [row.state for row in rows(golden, "stored_events")]
    # then what it forgot is in no byte of the file, and a living nominee's name is in no event's row
    assert not [name for name in FORGOTTEN_IN_0_2_0 if name.encode() in raw]
    assert not [state for state in states if b"Li Approved" in state]
    assert any(b"\\u0000ql-personal:1:" in state for state in states)
    # and today's code opens the sealed fields with the keys in the file, and reads the erased as erased
    path = tmp_path / "ledger.db"
    shutil.copyfile(golden, path)
    with Ledger.open(f"sqlite:///{path}", create=False) as ledger:
        assert ledger.verify().ok
        erasures = [e for _, e in ledger.events() if type(e).__qualname__ == "Erasure.SubjectForgotten"]
        assert [(e.kind, e.officer) for e in erasures] == [
            ("nominee", "lin.dpo (GL-DPO)"),
            ("user", "lin.dpo (GL-DPO)"),
        ]  # type: ignore[attr-defined]
        by_name = {
            (e.person, e.employer): e.originator_id  # type: ignore[attr-defined]
            for _, e in ledger.events()
            if type(e).__qualname__ == "Commendation.Nominated"
        }
        assert ("Li Approved", "Golden Mill") in by_name
        assert (ERASED, ERASED) in by_name
        erased = ledger.get(by_name[ERASED, ERASED])
        assert (erased.person, erased.employer, erased.deeds) == (ERASED, ERASED, ERASED)  # type: ignore[attr-defined]
        users = {e.meta.user for _, e in ledger.events()}  # type: ignore[attr-defined]
        assert "gao.lan" in users
        assert ERASED in users
        assert "he.ping" not in users


@pytest.mark.parametrize(
    "alter",
    [lambda b: b[:-2] + ("A" if b[-2] != "A" else "B") + b[-1], lambda b: b[:4] + "\n" + b[4:], lambda b: b + "!"],
)
def test_a_sealed_field_altered_in_place_does_not_open(alter: Any) -> None:
    # given: a clerk's name sealed in a stored row
    with Ledger.open("memory://") as ledger:
        plan_campaign(ledger)
        log = EventLog.of(ledger)
        row = next(iter(log.notifications()))
    head, _, body = row.state.partition(b'"user":"')
    sealed, _, tail = body.partition(b'"')
    prefix, _, encoded = sealed.decode().rpartition(":")
    # when: its ciphertext is altered, a character changed, one slipped in, one added
    altered = head + b'"user":"' + f"{prefix}:{alter(encoded)}".encode().replace(b"\n", b"\\n") + b'"' + tail
    # then: reading it is an integrity error naming the field, never a value
    with pytest.raises(IntegrityError, match=r"sealed meta\.user .* does not open with its key"):
        log.decode(StoredEvent(row.originator_id, row.originator_version, row.topic, altered))
