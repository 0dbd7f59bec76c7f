"""Signing keys (OpenSSH Ed25519, through cryptography) and the approvers file."""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from batchpay import fouryes_api
from batchpay.approvals.keys import (
    KEY_VAR,
    PASSPHRASE_VAR,
    fingerprint,
    load_signing_key,
    parse_public_key,
    verify,
)
from batchpay.approvals.roster import load_roster
from batchpay.errors import ConfigError, UsageError
from tests.approvals.helpers import approvers_toml, new_key

SSH_KEYGEN = shutil.which("ssh-keygen")


def test_keygen_writes_a_private_key_0600_and_its_pub_and_never_overwrites(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alice"
    key = fouryes_api.keygen(path, comment="alice@example")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    line = (tmp_path / "alice.pub").read_text().strip()
    assert line.startswith("ssh-ed25519 AAAA") and line.endswith(" alice@example")
    assert fingerprint(parse_public_key(line)) == key.fingerprint
    loaded = load_signing_key({KEY_VAR: str(path)})
    assert loaded.fingerprint == key.fingerprint
    assert verify(parse_public_key(line), b"statement", loaded.sign(b"statement"))
    assert not verify(parse_public_key(line), b"another", loaded.sign(b"statement"))
    before = path.read_bytes()
    with pytest.raises(UsageError, match="never overwrites"):
        fouryes_api.keygen(path)
    assert path.read_bytes() == before


def test_keygen_makes_a_missing_folder_private(tmp_path: Path) -> None:
    # README: `batchpay keygen keys/alice` in a folder with no keys/ yet
    path = tmp_path / "keys" / "alice"
    key = fouryes_api.keygen(path)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key({KEY_VAR: str(path)}).fingerprint == key.fingerprint


def test_a_passphrase_comes_from_the_environment_or_a_prompt_and_is_never_shown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bob"
    fouryes_api.keygen(path, passphrase="correct horse")
    env = {KEY_VAR: str(path)}
    with pytest.raises(ConfigError, match=f"set {PASSPHRASE_VAR}"):
        load_signing_key(env, interactive=False)
    with pytest.raises(ConfigError, match="wrong passphrase") as wrong:
        load_signing_key({**env, PASSPHRASE_VAR: "battery staple"})
    assert "battery" not in str(wrong.value)
    key = load_signing_key({**env, PASSPHRASE_VAR: "correct horse"})
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "correct horse"

    prompted = load_signing_key(env, interactive=True, prompt=prompt)
    assert prompted.fingerprint == key.fingerprint and asked == [f"Passphrase for {path}: "]
    assert repr(key) == f"SigningKey({key.fingerprint})" == str(key)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


@pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")
def test_an_ssh_keygen_key_works_and_fingerprints_agree_with_openssh(tmp_path: Path) -> None:
    assert SSH_KEYGEN is not None
    path = tmp_path / "id_ed25519"
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "secret", "-C", "carol@example", "-f", str(path)],
        check=True,
    )
    key = load_signing_key({KEY_VAR: str(path), PASSPHRASE_VAR: "secret"})
    shown = subprocess.run(
        [SSH_KEYGEN, "-l", "-f", str(path) + ".pub"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    assert key.fingerprint == shown
    ours = tmp_path / "ours"
    made = fouryes_api.keygen(ours)
    theirs = subprocess.run(
        [SSH_KEYGEN, "-l", "-f", str(ours)], check=True, capture_output=True, text=True
    ).stdout.split()[1]  # OpenSSH reads the key batchpay wrote
    assert made.fingerprint == theirs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "is not valid TOML"),
        ("[policy]\napprovals = 1\n", r"list each person as an \[\[approver\]\] table"),
        ('[[approver]]\nname = "A"\nrole = "boss"\nkey = "x"\n', "role = 'boss'"),
        ('[[approver]]\nname = "A"\nrole = "approver"\nkey = "ssh-rsa AAAA a"\n', "ssh-ed25519"),
        ('[[approver]]\nname = "A"\nrole = "approver"\nkey = "ssh-ed25519 !!!"\n', "readable"),
        ("[[approver]]\nname = 'A'\nrole = 'approver'\nkey = 'k'\nemail = 'a@b'\n", "email"),
    ],
)
def test_a_malformed_approvers_file_is_a_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "approvers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as bad:
        load_roster(path)
    assert bad.value.exit_code == 2 and str(path) in str(bad.value)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("[policy]\napprovals = -1\n", "use 0 to 20"),
        ("[policy]\napprovals = 1\n[[policy.above]]\ncurrency = 'USDT'\ntotal = 5\n", "takes"),
        (
            "[policy]\n[[policy.above]]\ncurrency = 'USDT'\ntotal = 'lots'\napprovals = 2\n",
            "total 'lots'",
        ),
    ],
)
def test_a_malformed_policy_is_a_clear_error(tmp_path: Path, policy: str, message: str) -> None:
    people = approvers_toml([("Al", "approver", new_key())]).split("[policy]")[0]
    path = tmp_path / "approvers.toml"
    path.write_text(people + policy, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_roster(path)


def test_the_same_key_twice_is_refused(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "approvers.toml"
    path.write_text(approvers_toml([("A", "approver", key), ("B", "approver", key)]))
    with pytest.raises(ConfigError, match="the same key is listed twice"):
        load_roster(path)


def test_one_person_may_list_several_keys_with_one_role(tmp_path: Path) -> None:
    cli, web = new_key(), new_key()
    path = tmp_path / "approvers.toml"
    path.write_text(approvers_toml([("Bob B", "approver", cli), ("Bob B", "approver", web)]))
    roster = load_roster(path)
    assert [(a.name, a.fingerprint) for a in roster.approvers] == [
        ("Bob B", cli.fingerprint),
        ("Bob B", web.fingerprint),
    ]
    assert roster.by_fingerprint(web.fingerprint) == roster.approvers[1]
    path.write_text(approvers_toml([("Bob B", "approver", cli), ("Bob B", "preparer", web)]))
    with pytest.raises(ConfigError, match="Bob B is listed as both approver and preparer"):
        load_roster(path)


def test_required_approvals_are_the_largest_rule_that_applies(tmp_path: Path) -> None:
    from decimal import Decimal

    path = tmp_path / "approvers.toml"
    above = [("USDT", "50000", 2), ("BTC", "1", 3)]
    path.write_text(approvers_toml([("A", "approver", new_key())], 1, above))
    policy = load_roster(path).policy
    assert policy.required({"USDT": Decimal("50000")}) == 1  # "above": not at
    assert policy.required({"USDT": Decimal("50000.01")}) == 2
    assert policy.required({"USDT": Decimal("60000"), "BTC": Decimal("1.5")}) == 3
    assert policy.required({"EUR": Decimal("99999999")}) == 1


def test_the_approvers_path_is_relative_to_batchpay_toml(tmp_path: Path) -> None:
    from batchpay.config import load_settings

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "batchpay.toml").write_text('approvers = "team/approvers.toml"\n')
    settings = load_settings(
        environ={"BATCHPAY_CONFIG": str(tmp_path / "conf" / "batchpay.toml")}, cwd=tmp_path
    )
    assert settings.approvers == tmp_path / "conf" / "team" / "approvers.toml"
    assert load_settings(environ={}, cwd=tmp_path).approvers is None


def test_keygen_makes_a_missing_folder_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "alice"  # the README's `batchpay keygen keys/alice`
    fouryes_api.keygen(path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.with_name("alice.pub").read_text(encoding="utf-8").startswith("ssh-ed25519 ")


def test_a_signing_key_others_can_read_is_warned_about_on_stderr(
    workdir: Path, write_sheet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from batchpay.cli import main

    alice = fouryes_api.keygen(workdir / "alice")
    (workdir / "approvers.toml").write_text(
        approvers_toml([("Alice Finance", "preparer", alice)]), encoding="utf-8"
    )
    (workdir / "batchpay.toml").write_text('approvers = "approvers.toml"\n', encoding="utf-8")
    monkeypatch.setenv("BATCHPAY_SIGNING_KEY", str(workdir / "alice"))
    sheet = str(write_sheet([("E-1", "10")]))
    (workdir / "alice").chmod(0o644)
    args = ["submit", sheet, "--provider", "sandbox", "--batch", "b"]
    loose = CliRunner().invoke(main, args, catch_exceptions=False)
    assert loose.exit_code == 0, loose.stderr
    assert "can be read by others (mode 0644)" in loose.stderr
    assert "can be read" not in loose.stdout
    (workdir / "alice").chmod(0o600)
    tight = CliRunner().invoke(main, args, catch_exceptions=False)
    assert tight.exit_code == 0 and "can be read by others" not in tight.stderr
