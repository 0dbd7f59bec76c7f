"""Every option of every command says what it does, and every command's help shows an
example that the command line accepts as written (issue 12, item 8)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from batchpay.cli import main


def commands(
    command: click.Command = main, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


ALL = list(commands())
IDS = [" ".join(("batchpay", *path)) for path, _ in ALL]


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="batchpay")
    assert result.exit_code == 0, result.output
    return result.output


def examples(text: str) -> list[list[str]]:
    """The example command lines shown under "Examples:", as argument lists."""
    head = re.search(r"^ *Examples:$", text, flags=re.MULTILINE)
    tail = text[head.end() :] if head else ""
    return [shlex.split(m) for m in re.findall(r"^ +(batchpay .*)$", tail, flags=re.MULTILINE)]


def accepted(words: list[str]) -> click.Command:
    """Parse an example as the command line would, without running it: unknown options,
    missing required ones and bad choices raise click's UsageError."""
    assert words[0] == "batchpay"
    command: click.Command = main
    rest = words[1:]
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    assert not isinstance(command, click.Group), f"{words}: names no command"
    command.make_context(command.name or "", rest)
    return command


def test_the_walk_finds_every_command() -> None:
    assert set(IDS) >= {
        "batchpay",
        "batchpay validate",
        "batchpay run",
        "batchpay status",
        "batchpay retry",
        "batchpay report",
        "batchpay sandbox",
        "batchpay webhooks",
        "batchpay webhooks serve",
    }


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_every_option_has_help(path: tuple[str, ...], command: click.Command) -> None:
    bare = [
        "/".join(p.opts)
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert bare == [], f"{' '.join(path) or 'batchpay'}: options without help: {bare}"
    shown = help_text(path)
    for param in command.params:  # and the help is what --help prints
        if isinstance(param, click.Option) and not param.hidden:
            assert param.opts[-1] in shown


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_every_command_shows_an_example_it_accepts(
    path: tuple[str, ...], command: click.Command
) -> None:
    found = examples(help_text(path))
    assert found, f"{' '.join(('batchpay', *path))} --help shows no example"
    for words in found:
        assert words[1 : 1 + len(path)] == list(path), f"{words} is not an example of {path}"
        accepted(words)


def test_a_wrong_example_would_be_caught() -> None:
    """The check above is not vacuous: an example with a flag the command lacks fails."""
    with pytest.raises(click.UsageError):
        accepted(["batchpay", "status", "--batch", "b", "--no-such-flag"])
    with pytest.raises(click.UsageError):
        accepted(["batchpay", "run", "payroll.csv", "--batch", "b"])  # --provider is required
    assert examples("Usage: x\n\n  text\n") == []
