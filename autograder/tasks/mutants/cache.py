"""A JSON file of results keyed by a hash of their inputs and of a version string (the code that
made them): a rerun after an unrelated change reuses them, a change of that code discards them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


class JsonCache:
    """``get``/``put`` by the hash of ``version`` and the given text parts; ``save`` writes atomically.
    With ``enabled=False`` nothing is read (every ``get`` misses), but new entries are still written."""

    def __init__(self, path: Path, version: str, enabled: bool = True) -> None:
        self.path, self.version, self.enabled = path, version, enabled
        self.data: dict[str, Any] = {}
        if path.is_file():
            try:
                self.data = json.loads(path.read_text())
            except (json.JSONDecodeError, OSError):
                self.data = {}

    def key(self, *parts: str) -> str:
        return hashlib.sha256("\0".join((self.version, *parts)).encode()).hexdigest()

    def get(self, *parts: str) -> Any | None:
        return self.data.get(self.key(*parts)) if self.enabled else None

    def put(self, value: Any, *parts: str) -> None:
        self.data[self.key(*parts)] = value

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, sort_keys=True))
        tmp.replace(self.path)
