"""Identity text is read as a person sees it, before any key or comparison is made of it.

A reference, address, memo or code that *looks* the same must *be* the same, or be refused:
otherwise ``E-a001`` with a trailing zero-width space is a new reference, a new key, and a
second payment. Every cell of an identity column goes through :func:`clean` once per distinct
text:

- invisible characters (zero-width spaces and joiners, the BOM, the soft hyphen, other format
  characters and default-ignorable code points) are removed, with a warning naming each one
  and its position;
- bidirectional controls (which reorder what is shown) and control characters are refused;
- the rest is brought to Unicode NFKC, so full-width ``Ｅ－ａ００１`` reads ``E-a001`` (with a
  warning), but a character whose normal form means something else (a superscript, a fraction,
  a circled digit) is refused rather than silently read as another number.

References get one more look: a reference mixing Latin with Cyrillic or Greek letters, or one
written wholly in look-alike letters, gets a warning (see :func:`look_alikes`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from batchpay.problems import Severity

BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) beyond the Cf category:
# fillers and variation selectors that render as nothing.
_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Compatibility forms whose normal form changes what the text means, not just how it is
# drawn: "10²" is not "102", "½" is not "1/2" typed by a person.
_MEANING_TAGS = frozenset({"<super>", "<sub>", "<fraction>", "<circle>", "<square>"})
# Compatibility forms that change nothing a reader sees: no warning when normalised.
_SILENT_TAGS = frozenset({"<noBreak>"})


def char_name(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: how a message names a character nobody can see."""
    fallback = "CONTROL CHARACTER" if unicodedata.category(ch) == "Cc" else "UNNAMED CHARACTER"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


def shown(text: str) -> str:
    """``text`` with every invisible, control or bidi character written as ``<U+XXXX>``, so a
    message shows what is there (and a bidi control cannot reorder the message itself)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"<U+{ord(c):04X}>" if _invisible(c) or not c.isprintable() else c for c in text)


def _invisible(ch: str) -> bool:
    code = ord(ch)
    if unicodedata.category(ch) == "Cf":
        return True
    return any(low <= code <= high for low, high in _IGNORABLE)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    detail: str  # completes "<column> ..."


@dataclass(frozen=True)
class Cleaned:
    text: str  # what the cell is read as; meaningless if any finding is an error
    findings: tuple[Finding, ...] = ()

    @property
    def refused(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


@lru_cache(maxsize=65536)
def clean(text: str) -> Cleaned:
    """The text a person sees in ``text`` (already trimmed), and what was done to get it."""
    if text.isascii() and text.isprintable():
        return Cleaned(text)
    found: dict[str, list[str]] = {}  # kind -> "U+200B ZERO WIDTH SPACE at position 7", ...
    visible = "".join(_visible(text, found))
    normal = unicodedata.normalize("NFKC", visible).strip()
    findings = _removal_findings(found, normal)
    loud = [c for c in visible if _tag(c) and _tag(c) not in _SILENT_TAGS]
    changed = normal != unicodedata.normalize("NFC", visible).strip()
    if changed and loud and "ambiguous" not in found:
        names = ", ".join(map(char_name, dict.fromkeys(loud[:3])))
        findings.append(
            Finding(
                "text.compatibility",
                Severity.WARNING,
                f"is written with compatibility characters ({names}); "
                f"it is read in Unicode normal form as {normal!r}",
            )
        )
    return Cleaned(normal, tuple(findings))


def _removal_findings(found: dict[str, list[str]], normal: str) -> list[Finding]:
    """What the characters found by kind (bidi, control, ambiguous, invisible) say."""
    findings: list[Finding] = []
    if "bidi" in found:
        findings.append(
            Finding(
                "text.bidi_control",
                Severity.ERROR,
                f"has {_listed('a bidirectional control', found['bidi'])}, which can reorder "
                f"how the text is shown; delete {_it(found['bidi'])}",
            )
        )
    if "control" in found:
        findings.append(
            Finding(
                "text.control",
                Severity.ERROR,
                f"has {_listed('a control or unassigned character', found['control'])}; delete it",
            )
        )
    if "ambiguous" in found:
        findings.append(
            Finding(
                "text.ambiguous",
                Severity.ERROR,
                f"has {', '.join(found['ambiguous'])}; write it as plain text",
            )
        )
    if "invisible" in found:
        findings.append(
            Finding(
                "text.invisible",
                Severity.WARNING,
                f"has {_listed('an invisible character', found['invisible'])}; removed, "
                f"it is read as {shown(normal)!r}",
            )
        )
    return findings


def _it(items: list[str]) -> str:
    return "it" if len(items) == 1 else "them"


def _listed(one: str, items: list[str]) -> str:
    if len(items) == 1:
        return f"{one} {items[0]}"
    plural = one.split(" ", 1)[1].replace("character", "characters").replace("control", "controls")
    return f"{plural} {', '.join(items[:5])}" + (
        f" and {len(items) - 5} more" if len(items) > 5 else ""
    )


def _visible(text: str, found: dict[str, list[str]]) -> list[str]:
    """The characters of ``text`` a person sees; each one they do not, by kind, in ``found``."""
    kept: list[str] = []
    for position, ch in enumerate(text, start=1):
        where = f"{char_name(ch)} at position {position}"
        if ord(ch) in BIDI_CONTROLS:
            found.setdefault("bidi", []).append(where)
        elif _invisible(ch):
            found.setdefault("invisible", []).append(where)
        elif unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            found.setdefault("control", []).append(where)
        else:
            kept.append(ch)
            if _tag(ch) in _MEANING_TAGS:
                plain = unicodedata.normalize("NFKC", ch)
                found.setdefault("ambiguous", []).append(
                    f"{where}, which would be read as {plain!r}"
                )
    return kept


def _tag(ch: str) -> str:
    decomposition = unicodedata.decomposition(ch)
    return decomposition.split(" ", 1)[0] if decomposition.startswith("<") else ""


# -- look-alike letters in references -----------------------------------------------------

# Cyrillic and Greek letters drawn like Latin ones (Unicode confusables.txt, the common subset).
_LOOK_ALIKE = str.maketrans(
    {
        **dict(zip("АВЕКМНОРСТХУІЈЅԚԜҮҺӀ", "ABEKMHOPCTXYIJSQWYHI", strict=True)),
        **dict(zip("аеорсухіјѕԁԛԝһӏ", "aeopcyxijsdqwhl", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("οναικρυχγϲϳ", "ovaikpuxycj", strict=True)),
    }
)
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def skeleton(text: str) -> str:
    """What ``text`` looks like: look-alike Cyrillic and Greek letters as their Latin twins.
    Two references with one skeleton cannot be told apart on screen."""
    return text if text.isascii() else text.translate(_LOOK_ALIKE)


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    script = unicodedata.name(ch, "").split(" ", 1)[0]
    return script if script in _CONFUSABLE_SCRIPTS else "OTHER"


@lru_cache(maxsize=65536)
def look_alikes(reference: str) -> Finding | None:
    """A warning for a reference that mixes Latin with Cyrillic or Greek letters, or is written
    wholly in Cyrillic or Greek letters that look Latin; None for every other reference."""
    if reference.isascii():
        return None
    scripts = {s for s in map(_script, reference) if s}
    foreign = [c for c in reference if _script(c) in ("CYRILLIC", "GREEK")]
    if not foreign:
        return None
    looks = skeleton(reference)
    names = ", ".join(f"{c!r} ({char_name(c)})" for c in dict.fromkeys(foreign))
    if "LATIN" in scripts:
        return Finding(
            "reference.mixed_script",
            Severity.WARNING,
            f"mixes Latin letters with {names}; it may look like another reference "
            f"({looks!r}) but is not the same; retype it in one alphabet",
        )
    if looks.isascii():
        return Finding(
            "reference.mixed_script",
            Severity.WARNING,
            f"is written with {names}, which look like Latin letters; it reads as "
            f"{looks!r} on screen but is a different reference",
        )
    return None
