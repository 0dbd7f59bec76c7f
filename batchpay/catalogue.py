"""The catalogue of row problem codes: what each stable code means, how bad it is, the form of
its message and how to fix it.

The entries are data, in ``schemas/problems.toml``, read on first use (importing this module
reads nothing). Tests hold every code the package emits to an entry and every entry to a code
the package emits, and every message to its entry's form. The README's list of codes is
generated from it::

    python -m batchpay.catalogue --markdown        # rewrite the list in README.md
    python -m batchpay.catalogue --check           # exit 1 if README.md's list is stale
    python -m batchpay.catalogue [CODE ...]        # show entries
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from batchpay.resources import load_schema_file

Level = Literal["error", "warning", "either"]
STAGES = {
    "ingest": "Reading the file",
    "validate": "Checking the sheet",
    "plan": "Before anything is sent",
    "send": "Sending",
}
_FIELDS = {"stage", "title", "severity", "message", "fix", "relaxed_by"}
_CODE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = (
    "<!-- problem codes: generated from schemas/problems.toml by "
    "`python -m batchpay.catalogue --markdown`; do not edit by hand -->"
)
END = "<!-- end of problem codes -->"


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    stage: str  # a key of STAGES
    title: str
    severity: Level  # "either": an error that the flag ``relaxed_by`` makes a warning
    messages: tuple[str, ...]  # the forms: {name} is a value, [...] is there only sometimes
    fix: str
    relaxed_by: str | None = None

    def allows(self, severity: str) -> bool:
        return self.severity == "either" or self.severity == severity


@cache
def catalogue() -> dict[str, Entry]:
    """Every entry by code, in the order of the file."""
    return {code: _entry(code, spec) for code, spec in load_schema_file("problems.toml").items()}


def entry(code: str) -> Entry | None:
    return catalogue().get(code)


def fix_for(code: str) -> str | None:
    found = catalogue().get(code)
    return found.fix if found is not None else None


def _entry(code: str, spec: dict[str, Any]) -> Entry:
    where = f"schemas/problems.toml [{code!r}]"
    if not _CODE.fullmatch(code):
        raise ValueError(f"{where}: a code is two lower-case words joined by a dot")
    unknown = set(spec) - _FIELDS
    missing = (_FIELDS - {"relaxed_by"}) - set(spec)
    if unknown or missing:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
    if spec["stage"] not in STAGES:
        raise ValueError(f"{where}: stage must be one of {', '.join(STAGES)}")
    if spec["severity"] not in ("error", "warning", "either"):
        raise ValueError(f"{where}: severity must be error, warning or either")
    if (spec["severity"] == "either") != ("relaxed_by" in spec):
        raise ValueError(f"{where}: severity 'either' goes with relaxed_by, and only it")
    message = spec["message"]
    messages = (message,) if isinstance(message, str) else tuple(message)
    for template in messages:
        template_pattern(template)  # a malformed form fails here, not in a test run later
    return Entry(
        code,
        spec["stage"],
        spec["title"],
        cast(Level, spec["severity"]),
        messages,
        spec["fix"],
        spec.get("relaxed_by"),
    )


@cache
def template_pattern(template: str) -> re.Pattern[str]:
    """``template`` as a regular expression: ``{...}`` any text, ``[...]`` optional."""
    parts: list[str] = []
    depth = 0
    for token in re.split(r"(\{[^{}]*\}|\[|\])", template):
        if token.startswith("{") and token.endswith("}"):
            parts.append(".*?")
        elif token == "[":
            parts.append("(?:")
            depth += 1
        elif token == "]":
            if depth == 0:
                raise ValueError(f"unbalanced ']' in message form {template!r}")
            parts.append(")?")
            depth -= 1
        else:
            parts.append(re.escape(token))
    if depth:
        raise ValueError(f"unbalanced '[' in message form {template!r}")
    return re.compile("".join(parts), re.DOTALL)


# -- the README's list ------------------------------------------------------------------------


def markdown() -> str:
    """The README's list of problem codes, one table per stage."""
    lines = [
        "Every row problem has a stable code; `--json` shows it with the row, column, severity,",
        "message and `fix`. A code never changes meaning, and a new check gets a new code. An",
        "*error* blocks sending; a *warning* is shown and does not block. `python -m",
        "batchpay.catalogue CODE` shows the forms of a code's message.",
    ]
    for stage, heading in STAGES.items():
        entries = [e for e in catalogue().values() if e.stage == stage]
        if not entries:
            continue
        lines += ["", f"#### {heading}", "", "| code | severity | problem | how to fix |"]
        lines.append("|---|---|---|---|")
        lines += [
            f"| `{e.code}` | {_severity(e)} | {_cell(e.title)} | {_cell(e.fix)} |" for e in entries
        ]
    return "\n".join(lines) + "\n"


def _severity(e: Entry) -> str:
    return f"error (warning with `{e.relaxed_by}`)" if e.severity == "either" else e.severity


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def with_section(text: str, section: str) -> str:
    """``text`` (the README) with the part between the markers replaced by ``section``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {BEGIN!r} ... {END!r} markers")
    return text[: start + len(BEGIN)] + "\n" + section + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batchpay.catalogue", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--markdown", action="store_true", help="rewrite the README's list")
    action.add_argument("--check", action="store_true", help="exit 1 if the list is stale")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("codes", nargs="*", help="show these entries (default: all)")
    args = parser.parse_args(argv)
    if args.markdown or args.check:
        text = args.readme.read_text(encoding="utf-8")
        fresh = with_section(text, markdown())
        if args.check:
            if fresh != text:
                print(
                    f"{args.readme}: the list of problem codes is stale; run "
                    "python -m batchpay.catalogue --markdown",
                    file=sys.stderr,
                )
            return int(fresh != text)
        if fresh != text:
            args.readme.write_text(fresh, encoding="utf-8")
        return 0
    for code in args.codes or list(catalogue()):
        found = entry(code)
        if found is None:
            print(f"{code}: not in the catalogue", file=sys.stderr)
            return 1
        print(f"{found.code} ({_severity(found)}, {found.stage}): {found.title}")
        for template in found.messages:
            print(f"    {template}")
        print(f"    fix: {found.fix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
