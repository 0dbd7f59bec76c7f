"""Where the engine reports progress: a module of its own, so the command line can draw it
without loading the engine (and the providers behind it) at start-up."""

from __future__ import annotations


class Progress:
    """Where the engine reports progress; the CLI draws it, the library default is silent."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...
