"""The catalogue of problem codes (schemas/problems.toml) against the code that emits them.

Statically: every code-like string in the package is a catalogued code (or named below as not
one), every code made from a column name (f"{column}.missing") is catalogued for each column
that makes it, and every entry is emitted somewhere. At run time, tests/catalogue_check.py
holds every Problem made during the test session to its entry (code, severity, message form).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from batchpay import catalogue as cat
from batchpay.catalogue import BEGIN, END, catalogue, markdown, template_pattern, with_section
from batchpay.ingest import read_sheet
from batchpay.problems import Problem, Severity
from batchpay.resources import load_schema_file
from batchpay.validate import SheetOptions, validate_sheet
from batchpay.validate.rules import rules_for
from batchpay.validate.tables import load_tables
from tests.catalogue_check import matches
from tests.conftest import ETH, ROOT, TRON

PACKAGE = ROOT / "batchpay"
CODE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
SUFFIX = re.compile(r"\.[a-z][a-z_]*")
FILE_SUFFIXES = {"toml", "csv", "html", "xlsx", "xml", "json", "py", "sqlite", "txt", "md"}
NOT_CODES = {
    "amount.grammar": "the amount rule's name; its explainer emits the amount.* codes",
    "review.amount_change": "a batchpay.toml setting ([review] amount_change)",
    "balance.check": "a batchpay.toml setting ([balance] check)",
}


def _python_files() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _scan() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(code-like string literals, suffixes of codes made as f"{column}.suffix"), each with
    the places it is written."""
    literals: dict[str, list[str]] = {}
    templates: dict[str, list[str]] = {}
    for name, tree in _python_files():
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.JoinedStr):
                parts = node.values
                if (
                    len(parts) == 2
                    and isinstance(parts[0], ast.FormattedValue)
                    and isinstance(parts[1], ast.Constant)
                    and SUFFIX.fullmatch(str(parts[1].value))
                ):
                    templates.setdefault(str(parts[1].value), []).append(where)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CODE.fullmatch(node.value)
                and not _not_a_code(node.value)
            ):
                literals.setdefault(node.value, []).append(where)
    return literals, templates


def _not_a_code(text: str) -> bool:
    """A file name ("scales.toml"), a module ("batchpay.api", "importlib.util") or a string
    named in NOT_CODES."""
    first, last = text.split(".")
    return (
        last in FILE_SUFFIXES
        or text in NOT_CODES
        or first in sys.stdlib_module_names
        or importlib.util.find_spec(first) is not None
    )


LITERALS, TEMPLATES = _scan()


def _columns() -> set[str]:
    spec = load_schema_file("columns.toml")
    kinds = spec["kind"].values()
    return {
        *spec["common"]["required"],
        *spec["common"]["optional"],
        *(c for k in kinds for c in (*k["required"], *k["optional"])),
    }


def _rule_codes() -> set[str]:
    """The codes the row rules are named by, for both kinds of sheet (a rule's name is its
    default code: ``reference.missing``, ``name.too_long`` ...)."""
    tables = load_tables()
    names = {r.name for kind in ("crypto", "fiat") for r in rules_for(kind, tables)}
    return names - set(NOT_CODES)


# -- every code emitted is catalogued -------------------------------------------------------


def test_the_scan_finds_codes_in_every_stage() -> None:
    """The scanner is not silently blind: it sees codes written the ways the package writes
    them (Problem(...), a CODE constant, a Finding, an AmountError, a Verdict, a Rule)."""
    assert {
        "sheet.encoding",  # ingest: Problem(...)
        "provider.cannot_pay",  # validate/payable.py: CODE = ...
        "text.invisible",  # identity.py: Finding(...)
        "amount.exponent",  # money.py: AmountError(...)
        "address.testnet",  # addresses.py: Verdict(...)
        "memo.not_supported",  # rules.py: Rule(...) and its explainer
        "plan.changed_after_send",  # plan/
        "sandbox.simulated_outcome",  # providers/sandbox.py
    } <= set(LITERALS)
    assert all(
        map(_not_a_code, ("batchpay.api", "importlib.util", "scales.toml", "amount.grammar"))
    )
    assert not any(_not_a_code(code) for code in catalogue())
    assert {".missing", ".too_long", ".unknown", ".conflict"} <= set(TEMPLATES)


def test_every_code_written_in_the_package_is_catalogued() -> None:
    missing = {code: where for code, where in LITERALS.items() if code not in catalogue()}
    assert not missing, (
        f"codes emitted but not in schemas/problems.toml: {missing} (add an entry; if a string "
        "is not a problem code, name it in NOT_CODES)"
    )


def test_every_code_made_from_a_column_name_is_catalogued() -> None:
    rule_codes = _rule_codes()
    assert {"reference.missing", "name.too_long", "currency.unknown"} <= rule_codes
    assert rule_codes <= set(catalogue()), sorted(rule_codes - set(catalogue()))
    for suffix in TEMPLATES:
        assert any(code.endswith(suffix) for code in catalogue()), suffix


def test_the_amount_header_conflicts_are_catalogued(tmp_path: Path) -> None:
    """f"{column}.conflict" is made for the currency and the network an amount header names."""
    path = tmp_path / "s.csv"
    path.write_text(
        "reference,Amount (USDT-TRC20),currency,network,address\n"
        f"A,10,BTC,TRON,{TRON[0]}\nB,10,USDT,ETHEREUM,{TRON[1]}\n",
        encoding="utf-8",
    )
    problems = validate_sheet(read_sheet(path), "sandbox").problems
    codes = {(p.row, p.code) for p in problems if p.code.endswith(".conflict")}
    assert codes == {(2, "currency.conflict"), (3, "network.conflict")}
    assert {"currency.conflict", "network.conflict"} <= set(catalogue())


# -- and every entry is emitted somewhere ---------------------------------------------------


def test_every_entry_is_emitted_somewhere() -> None:
    columns = _columns()

    def emitted(code: str) -> bool:
        column, suffix = code.split(".", 1)
        return code in LITERALS or (f".{suffix}" in TEMPLATES and column in columns)

    dead = [code for code in catalogue() if not emitted(code)]
    assert not dead, f"catalogue entries no code emits: {dead}"


# -- the entries themselves -----------------------------------------------------------------


def test_entries_are_complete() -> None:
    entries = catalogue()
    assert len(entries) >= 60
    for e in entries.values():
        assert e.title and e.fix and e.messages, e.code
        assert e.title[0].isupper() and not e.title.endswith("."), e.code
        assert e.fix.endswith("."), e.code
        assert (e.severity == "either") == (e.relaxed_by is not None), e.code
    either = {c for c, e in entries.items() if e.severity == "either"}
    assert either == {"payment.repeated", "payment.paid_recently"}
    assert entries["payment.repeated"].relaxed_by == "--allow-duplicates"
    assert entries["address.no_checksum"].severity == "warning"
    assert entries["amount.below_fee"].severity == "error"


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"stage": "nowhere"}, "stage must be one of"),
        ({"severity": "fatal"}, "severity must be"),
        ({"severity": "either"}, "relaxed_by"),
        ({"relaxed_by": "--force"}, "relaxed_by"),
        ({"colour": "red"}, "unknown fields ['colour']"),
        ({"message": "a [broken form"}, "unbalanced '['"),
        ({"message": "a broken] form"}, "unbalanced ']'"),
    ],
)
def test_a_malformed_entry_is_refused_on_load(spec: dict[str, str], complaint: str) -> None:
    good = {"stage": "validate", "title": "T", "severity": "error", "message": "m", "fix": "F."}
    with pytest.raises(ValueError, match=re.escape(complaint)):
        cat._entry("some.code", {**good, **spec})
    with pytest.raises(ValueError, match="two lower-case words"):
        cat._entry("Some-Code", good)


def test_message_forms() -> None:
    form = template_pattern("reference {reference!r} is empty[ (also on row{s} {rows})]; fix (it)")
    assert form.fullmatch("reference 'A-1' is empty; fix (it)")
    assert form.fullmatch("reference 'A-1' is empty (also on rows 3, 4); fix (it)")
    assert not form.fullmatch("reference 'A-1' is empty; fix it")
    assert not form.fullmatch("reference 'A-1' is empty (also on rows 3, 4)")


def test_real_messages_have_their_entrys_form() -> None:
    """Wording the tests assert elsewhere, held to the catalogue's forms."""
    e = catalogue()
    assert matches(e["sheet.no_rows"], "the sheet has a header but no rows")
    assert matches(
        e["payment.repeated"],
        "the same payment (10 USDT to the same recipient) appears under reference 'A' and "
        "also under 'B' (row 3); if intended, pass --allow-duplicates",
    )
    assert matches(
        e["payment.paid_recently"],
        "reference 'A' (10 USDT) was paid in batch '2026-10' within 45 days"
        " (also in '2026-09'); if intended, pass --allow-duplicates",
    )
    assert matches(
        e["provider.cannot_pay"], "oxapay cannot pay USDT on SOLANA; on SOLANA it pays SOL"
    )
    assert not matches(e["provider.cannot_pay"], "oxapay is down")


# -- Problem's JSON -------------------------------------------------------------------------


def test_a_problems_json_keeps_the_contract_fields_and_adds_the_fix() -> None:
    message = (
        "the fee of 1 USDT is at least the amount 0.5 USDT: the recipient would get -0.5. "
        "Raise the amount, or pass --fee-option add where the provider supports it"
    )
    p = Problem("amount.below_fee", message, row=4, column="amount", value="0.5")
    data = p.to_json()
    assert {"row", "column", "code", "severity", "message"} <= set(data)
    assert (data["row"], data["column"], data["code"], data["severity"]) == (
        4,
        "amount",
        "amount.below_fee",
        "error",
    )
    assert data["fix"] == catalogue()["amount.below_fee"].fix
    assert data["fix"].startswith("Raise the amount")
    json.dumps(data)
    hidden = "sheet 'Q4' is hidden in Excel; its rows will be paid. Unhide it to check it"
    warning = Problem("sheet.hidden", hidden, severity=Severity.WARNING).to_json()
    assert warning["severity"] == "warning" and warning["fix"].startswith("Unhide")


# -- the README's list ----------------------------------------------------------------------


def test_the_readme_list_is_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert with_section(readme, markdown()) == readme, (
        "README.md's list of problem codes is stale: run python -m batchpay.catalogue --markdown"
    )
    section = readme[readme.index(BEGIN) : readme.index(END)]
    for code, e in catalogue().items():
        assert f"| `{code}` |" in section
        assert e.fix.replace("|", "\\|") in section


def test_the_generator_rewrites_a_stale_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\nold list\n{END}\n\n## after\n", encoding="utf-8")
    assert cat.main(["--check", "--readme", str(readme)]) == 1
    assert cat.main(["--markdown", "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old list" not in text and "| `payment.repeated` |" in text
    assert text.startswith("# x\n\n") and text.endswith(f"{END}\n\n## after\n")
    assert cat.main(["--check", "--readme", str(readme)]) == 0
    readme.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        cat.main(["--check", "--readme", str(readme)])


def test_the_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert cat.main(["payment.repeated"]) == 0
    out = capsys.readouterr().out
    assert "payment.repeated (error (warning with `--allow-duplicates`), validate)" in out
    assert "fix: Remove the copy" in out
    assert cat.main(["no.such_code"]) == 1


# -- codes no other test emits: emitted here, so the run-time check holds their forms too ----

_ROW = "reference,name,amount,currency,network,address\n"


@pytest.mark.parametrize(
    ("text", "preset", "expected"),
    [
        (_ROW + f"{'R' * 65},N,10,USDT,TRON,{TRON[0]}\n", None, (2, "reference.too_long")),
        (_ROW + f"R1,{'N' * 201},10,USDT,TRON,{TRON[0]}\n", None, (2, "name.too_long")),
        (_ROW + f"R1,N,10,USDT,,{TRON[0]}\n", None, (2, "network.missing")),
        (_ROW + f"R1,N,\u0661\u0660,USDT,TRON,{TRON[0]}\n", None, (2, "amount.non_ascii_digits")),
        (_ROW + f"R\x07 1,N,10,USDT,TRON,{TRON[0]}\n", None, (2, "text.control")),
        (
            "token_type,token_address,receiver,amount\n"
            f"erc20,0x57f1887a8bf19b14fc0df6fd9b2acc9af147ea85,{ETH},1\n",
            "safe",
            (2, "preset.unknown_token"),
        ),
    ],
)
def test_rarely_seen_codes(
    tmp_path: Path, text: str, preset: str | None, expected: tuple[int, str]
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    result = validate_sheet(read_sheet(path), "sandbox", options=SheetOptions(preset=preset))
    found = [p for p in result.problems if (p.row, p.code) == expected]
    assert len(found) == 1, result.problems
    assert matches(catalogue()[expected[1]], found[0].message)


def test_a_currency_without_decimal_places(tmp_path: Path) -> None:
    """currency.no_scale: a currency one provider's table knows, paid through another."""
    tables = replace(load_tables(), provider_scale={"oxapay": {"ZZZ": 2}})
    path = tmp_path / "s.csv"
    path.write_text(_ROW + f"R1,N,10,ZZZ,TRON,{TRON[0]}\n", encoding="utf-8")
    problems = validate_sheet(read_sheet(path), "sandbox", tables=tables).problems
    assert [(p.row, p.code, p.message) for p in problems] == [
        (2, "currency.no_scale", "no decimal places are known for ZZZ on TRON")
    ]
