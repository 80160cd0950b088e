"""User text: `text:FILE` — one sentence a line, optionally `label<TAB>sentence`.

UTF-8 (a byte-order mark is dropped). Blank lines are skipped silently; a label with no
sentence after it is skipped and named in the notes. Labels are class names; when every
label is a whole number they are class indices instead ("0", "1", ... as names).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.types import TextDataset
from engine.errors import BadInput


def load_text_file(path: str, spec: str) -> TextDataset:
    lines = _read_lines(Path(path))
    texts, raw_labels, names, notes = [], [], [], []
    for number, line in enumerate(lines, start=1):
        label, tab, sentence = line.partition("\t")
        if not tab:
            label, sentence = "", label
        label, sentence = label.strip(), sentence.strip()
        if not sentence:
            if label:
                notes.append(f"skipped line {number}: a label without a sentence")
            continue
        texts.append(sentence)
        raw_labels.append(label)
        names.append(f"{Path(path).stem}-{number}")
    if not texts:
        raise BadInput(f"text file {path} holds no sentence (one a line, optionally label<TAB>sentence)")
    labels, class_names = _labels(raw_labels)
    return TextDataset(texts, labels, class_names, spec=spec, names=names, notes=notes)


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise BadInput(f"text file {path} does not exist")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text (undecodable byte at offset {exc.start})") from None
    if "\x00" in text:
        raise BadInput(f"{path} is not a text file (it holds NUL bytes)")
    return text.splitlines()


def _labels(raw: list[str]) -> tuple[np.ndarray, list[str]]:
    """Label indices (-1 where absent) and class names, from the labels as written."""
    given = [label for label in raw if label]
    if given and all(label.isdigit() for label in given):
        top = max(int(label) for label in given)
        class_names = [str(i) for i in range(top + 1)]
        return np.asarray([int(l) if l else -1 for l in raw], np.int64), class_names
    class_names = sorted(set(given))
    index = {name: i for i, name in enumerate(class_names)}
    return np.asarray([index.get(l, -1) for l in raw], np.int64), class_names
