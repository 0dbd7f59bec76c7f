"""Uploaded sheets waiting to be paid: one folder per batch id under the upload folder, with
the sheet as uploaded and ``draft.json`` (provider, who uploaded it, and, until the four-eyes
library functions are wired in, who submitted and approved which digest)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SHEET_SUFFIXES = (".csv", ".xlsx")


@dataclass
class Approval:
    by: str
    at: str
    digest: str
    acked: list[str] = field(default_factory=list)
    how: str = "web"


@dataclass
class Draft:
    batch: str
    provider: str
    sheet: str  # file name inside the draft's folder
    uploaded_by: str
    uploaded_at: str
    submitted_by: str | None = None
    submitted_at: str | None = None
    digest: str | None = None
    approvals: list[Approval] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.approvals:
            return "approved"
        return "submitted" if self.submitted_by else "uploaded"


class Drafts:
    """The drafts under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, batch: str) -> Path:
        return self.root / batch  # batch ids are checked (guard.check_batch_id) first

    def sheet_path(self, draft: Draft) -> Path:
        return self.folder(draft.batch) / "sheet" / draft.sheet

    def annotated_path(self, batch: str) -> Path:
        return self.folder(batch) / "problems.checked.xlsx"

    def get(self, batch: str) -> Draft | None:
        path = self.folder(batch) / "draft.json"
        if not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        data["approvals"] = [Approval(**a) for a in data.get("approvals", [])]
        return Draft(**data)

    def all(self) -> list[Draft]:
        if not self.root.is_dir():
            return []
        found = [self.get(p.name) for p in sorted(self.root.iterdir()) if p.is_dir()]
        return [d for d in found if d is not None]

    def save(self, draft: Draft) -> None:
        folder = self.folder(draft.batch)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(draft), indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / "draft.json")

    def upload_target(self, batch: str, filename: str) -> Path:
        """Where an upload called ``filename`` is stored: its base name, with anything but
        letters, digits, ``.``, ``-``, ``_`` and spaces replaced (a client's file name never
        chooses a path), alone in the draft's ``sheet/`` folder. The name is kept because
        the plan, the ledger and the reports name the sheet."""
        name = Path(filename.replace("\\", "/")).name
        stem = re.sub(r"[^\w.\- ]", "_", Path(name).stem).strip(" .")[:100] or "sheet"
        folder = self.folder(batch) / "sheet"
        if folder.is_dir():
            shutil.rmtree(folder)  # the sheet a new upload replaces
        folder.mkdir(parents=True)
        return folder / f"{stem}{Path(name).suffix.lower()}"
