"""Files named on the command line: a bad one is one line naming it, exit 2,
and nothing on disk changes; outputs never clobber a file unless ``--force``;
read-only commands never create a ledger."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from quality_ledger import Ledger
from quality_ledger.cli import exits, main
from tests.conftest import plan_campaign

ONE_LINE = re.compile(r"\Aquality-ledger: (ConfigurationError|InvalidCommand|NoLedger): [^\n]+\n\Z")


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every path under ``directory`` with its bytes (None for a directory)."""
    return {str(p.relative_to(directory)): None if p.is_dir() else p.read_bytes() for p in sorted(directory.rglob("*"))}


@pytest.fixture
def url(tmp_path: Path) -> str:
    path = tmp_path / "l.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        plan_campaign(ledger)
    return f"sqlite:///{path}"


def _files(tmp_path: Path) -> None:
    """The bad inputs, side by side in the test's directory."""
    (tmp_path / "not-json.json").write_text("{size: 3", encoding="utf-8")
    (tmp_path / "not-a-checkpoint.json").write_text('{"size": "three"}', encoding="utf-8")
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "existing.json").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "not-a-key.pem").write_text("hello\n", encoding="utf-8")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


BAD_FILES = [
    # (argv after the command, the error class, what the message must name)
    (["audit", "verify", "--against", "missing.json"], "ConfigurationError", "missing.json"),
    (["audit", "verify", "--against", "a-dir"], "ConfigurationError", "a-dir"),
    (["audit", "verify", "--against", "not-json.json"], "InvalidCommand", "not-json.json"),
    (["audit", "verify", "--against", "not-a-checkpoint.json"], "InvalidCommand", "not-a-checkpoint.json"),
    (["audit", "verify", "--certificate", "missing.json"], "ConfigurationError", "missing.json"),
    (["audit", "verify", "--certificate", "not-a-checkpoint.json"], "InvalidCommand", "not-a-checkpoint.json"),
    (["audit", "checkpoint", "--sign-key", "missing.pem"], "ConfigurationError", "missing.pem"),
    (["audit", "checkpoint", "--sign-key", "not-a-key.pem"], "InvalidCommand", "not-a-key.pem"),
    (["audit", "checkpoint", "--sign-key", "ec.pem"], "InvalidCommand", "Ed25519"),
    (["audit", "checkpoint", "--out", "no-such-dir/cp.json"], "ConfigurationError", "no-such-dir"),
    (["audit", "checkpoint", "--out", "existing.json"], "ConfigurationError", "--force"),
    (["audit", "checkpoint", "--out", "a-dir"], "ConfigurationError", "a-dir"),
    (["audit", "certificate", "--out", "existing.json"], "ConfigurationError", "existing.json"),
    (["audit", "export", "trail", "--out", "existing.json"], "ConfigurationError", "existing.json"),
    (["audit", "export", "trail", "--out", "no-such-dir/t.jsonl"], "ConfigurationError", "no-such-dir"),
    (["audit", "export", "evidence", "--out", "existing.json"], "ConfigurationError", "not a directory"),
    (["audit", "keygen", "existing.json"], "ConfigurationError", "--force"),
    (["audit", "keygen", "no-such-dir/key.pem"], "ConfigurationError", "no-such-dir"),
]


@pytest.mark.parametrize(
    ("argv", "error", "named"), BAD_FILES, ids=lambda x: " ".join(x) if isinstance(x, list) else ""
)
def test_a_bad_file_argument_is_one_line_exit_2_and_changes_nothing(
    argv: list[str],
    error: str,
    named: str,
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code = main(["--url", url, *argv])
    captured = capsys.readouterr()
    assert (code, captured.out) == (exits.USAGE, "")
    assert ONE_LINE.match(captured.err), captured.err
    assert captured.err.startswith(f"quality-ledger: {error}: ")
    assert named in captured.err
    assert snapshot(tmp_path) == before


def test_force_replaces_an_output_and_the_result_is_whole(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cp.json"
    out.write_text("old\n", encoding="utf-8")
    assert main(["--url", url, "audit", "checkpoint", "--out", str(out), "--force"]) == 0
    with Ledger.open(url) as ledger:
        assert json.loads(out.read_text(encoding="utf-8"))["size"] == ledger.position()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no scratch file left
    capsys.readouterr()


def test_evidence_goes_into_a_new_directory_or_an_empty_one(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", url, "audit", "export", "evidence", "--out", str(tmp_path / "new")]) == 0
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        "checkpoint.json",
        "events.jsonl",
        "links.jsonl",
        "report.json",
    ]
    assert main(["--url", url, "audit", "export", "evidence", "--out", str(tmp_path / "new")]) == exits.USAGE
    assert "not empty" in capsys.readouterr().err
    assert main(["--url", url, "audit", "export", "evidence", "--out", str(tmp_path / "new"), "--force"]) == 0


def test_keygen_never_replaces_a_key_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    key = tmp_path / "key.pem"
    # when a key is made, it is the owner's alone, and no ledger was opened for it
    assert main(["audit", "keygen", str(key)]) == 0
    first_public = capsys.readouterr().out.strip()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]
    original = key.read_bytes()
    # then making one again at the same place is refused, and the key is intact
    assert main(["audit", "keygen", str(key)]) == exits.USAGE
    assert "already exists" in capsys.readouterr().err
    assert key.read_bytes() == original
    # unless asked to replace it
    assert main(["audit", "keygen", str(key), "--force"]) == 0
    assert capsys.readouterr().out.strip() != first_public
    assert key.read_bytes() != original
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]


READ_ONLY = [
    ["status"],
    ["history", "3f2b0000-0000-0000-0000-000000000000"],
    ["audit", "trail"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["audit", "certificate"],
    ["audit", "replay"],
    ["audit", "export", "trail", "--out", "t.jsonl"],
    ["views", "verify"],
]


@pytest.mark.parametrize("argv", READ_ONLY, ids=lambda argv: " ".join(argv[:2]))
@pytest.mark.parametrize("where", ["missing file", "missing directory", "empty file"])
def test_a_read_only_command_says_no_ledger_and_creates_nothing(
    argv: list[str], where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = {"missing file": "l.db", "missing directory": "nowhere/l.db", "empty file": "empty.db"}[where]
    (tmp_path / "empty.db").touch()
    before = snapshot(tmp_path)
    code = main([*argv, "--url", f"sqlite:///{path}"])
    err = capsys.readouterr().err
    assert code == exits.USAGE
    assert ONE_LINE.match(err), err
    assert "no ledger at" in err
    assert snapshot(tmp_path) == before
