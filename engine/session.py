"""A session folder: `session.json` (models, data, results, layout) and `results/<id>/`.

Written after every change, atomically. A damaged `session.json` never loses the
results: `open_session` says what was wrong and rebuilds the list from `results/`.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.errors import BadInput
from engine.files import write_json
from engine.results import ResultRecord, load_result, read_header, save_result

SESSION_JSON = "session.json"
SESSION_SCHEMA = 1


@dataclass
class ResultEntry:
    """One row of the session's results: done (with a folder), failed or cancelled (a reason)."""

    id: str
    method: str
    kind: str = ""
    model: str = ""
    data: str = ""
    status: str = "done"
    reason: str = ""
    created: float = field(default_factory=time.time)


@dataclass
class Session:
    folder: Path
    models: list = field(default_factory=list)     # model specs the user opened
    data: list = field(default_factory=list)       # data specs the user opened
    results: list = field(default_factory=list)    # ResultEntry
    layout: dict = field(default_factory=dict)     # GUI state: open panes, their states
    warnings: list = field(default_factory=list)   # what opening it had to repair

    def result_dir(self, result_id: str) -> Path:
        return self.folder / "results" / result_id

    def entry(self, result_id: str) -> ResultEntry:
        for entry in self.results:
            if entry.id == result_id:
                return entry
        raise BadInput(f"no result {result_id!r} in session {self.folder}")

    def write_result(self, record: ResultRecord) -> ResultEntry:
        """Save a record under results/ without listing it (safe from a worker thread)."""
        entry = ResultEntry(new_id(record.method), record.method, record.kind, record.model,
                            record.data, record.status)
        save_result(record, self.result_dir(entry.id))
        return entry

    def add_result(self, record: ResultRecord) -> ResultEntry:
        entry = self.write_result(record)
        self.results.append(entry)
        self.save()
        return entry

    def add_unfinished(self, method: str, model: str, data: str, status: str, reason: str) -> ResultEntry:
        entry = ResultEntry(new_id(method), method, "", model, data, status, reason)
        self.results.append(entry)
        self.save()
        return entry

    def load(self, result_id: str) -> ResultRecord:
        return load_result(self.result_dir(result_id))

    def remember(self, models=(), data=()) -> None:
        """Add model and data specs the session has not seen yet."""
        new_models = [m for m in dict.fromkeys(models) if m and m not in self.models]
        new_data = [d for d in dict.fromkeys(data) if d and d not in self.data]
        self.models += new_models
        self.data += new_data
        if new_models or new_data:
            self.save()

    def to_json(self) -> dict:
        return {"schema_version": SESSION_SCHEMA, "models": self.models, "data": self.data,
                "results": [asdict(e) for e in self.results], "layout": self.layout}

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.folder / SESSION_JSON, self.to_json())


def new_id(method: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{method}-{uuid.uuid4().hex[:6]}"


def open_session(folder: str | os.PathLike, create: bool = True) -> Session:
    """Open (or create) a session; damage is repaired and described in `session.warnings`."""
    folder = Path(folder)
    path = folder / SESSION_JSON
    if not path.exists():
        if not create:
            raise BadInput(f"{folder} is not a session folder (no {SESSION_JSON})")
        session = Session(folder)
        session.save()
        return session
    try:
        stored = json.loads(path.read_text())
        session = _from_json(folder, stored)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        session = Session(folder, results=_scan_results(folder))
        session.warnings.append(f"{path} is damaged ({_reason(exc)}); reopened the "
                                f"{len(session.results)} results found in results/")
        session.save()
    return session


def _reason(exc: Exception) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else f"{type(exc).__name__}: {exc}"


def _from_json(folder: Path, stored: dict) -> Session:
    version = stored.get("schema_version", 0)
    if version > SESSION_SCHEMA:
        raise ValueError(f"written by a newer DeepScope (schema {version})")
    entries = [ResultEntry(**e) for e in stored.get("results", [])]
    session = Session(folder, list(stored.get("models", [])), list(stored.get("data", [])),
                      entries, dict(stored.get("layout", {})))
    missing = [e.id for e in entries if e.status == "done" and not session.result_dir(e.id).is_dir()]
    if missing:
        session.results = [e for e in entries if e.id not in missing]
        session.warnings.append(f"{len(missing)} results listed in {SESSION_JSON} are missing on disk")
    return session


def _scan_results(folder: Path) -> list[ResultEntry]:
    entries = []
    for result_dir in sorted((folder / "results").glob("*")):
        if result_dir.name.startswith(".") or not result_dir.is_dir():
            continue
        try:
            h = read_header(result_dir)
        except BadInput:
            continue
        entries.append(ResultEntry(result_dir.name, h["method"], h["kind"], h.get("model", ""),
                                   h.get("data", ""), h.get("status", "done"),
                                   created=result_dir.stat().st_mtime))
    return entries
