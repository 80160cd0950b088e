"""KeywordText: sentences whose label is decided by known keywords, nothing else.

The ground truth of the text analyses: which words a model ought to use is known exactly.

* Two classes (CLASS_NAMES): "negative" and "positive"; sentence i has class i % 2, so
  every prefix is balanced.
* A sentence is `min_len`..`max_len` lowercase words separated by single spaces. It holds
  1 or 2 keywords of its own class (KEYWORDS) at random positions and no keyword of the
  other class; every other word is a filler (FILLERS).
* Fillers carry no label information: each is drawn uniformly, whatever the class. With
  probability 1/2, one filler slot takes a distractor instead (DISTRACTORS: emphatic
  words a reader might take for sentiment); they too appear equally in both classes.
* The keyword mask marks exactly the keyword positions (one bool per word), so
  `label == rule(text)` where the rule looks the words up in KEYWORDS (`label_of`).

Determinism: sentence i draws everything from its own generator, the child of
SeedSequence(seed, spawn_key=(i,)), so the same options give identical texts and sentence
i does not depend on n.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.types import TextDataset
from engine.errors import BadInput
from engine.specs import check_option_keys

CLASS_NAMES: list[str] = ["negative", "positive"]
KEYWORDS: dict[str, tuple[str, ...]] = {
    "negative": ("terrible", "awful", "dreadful", "horrible", "boring", "dismal", "mediocre",
                 "tedious", "disappointing", "clumsy", "unpleasant", "lousy"),
    "positive": ("excellent", "wonderful", "delightful", "superb", "brilliant", "charming",
                 "splendid", "marvelous", "fantastic", "lovely", "terrific", "enjoyable"),
}
DISTRACTORS: tuple[str, ...] = ("honestly", "frankly", "truly", "really", "surely", "quite")
FILLERS: tuple[str, ...] = tuple("""
the a an this that these those some every each other another its their our my your his her
one two three four five many few several all both most more less
film movie story plot scene actor actress director camera music score script screen ending
opening character dialogue budget studio theater ticket audience critic review chapter book
author page cover novel poem song album band concert stage show series episode season
city town village street road bridge river lake mountain forest garden park house room
kitchen window door table chair lamp clock wall floor roof car train bus boat plane bicycle
station airport market shop office school library museum hospital church hotel restaurant
coffee tea bread cheese apple orange water dinner lunch breakfast morning evening night
day week month year hour minute summer winter spring autumn weather rain snow wind sun moon
friend family brother sister mother father child teacher student doctor driver farmer
neighbor stranger visitor crowd team player coach game match ball field goal
was is were are be been has had have did does went came made took gave saw seemed looked
felt kept left stayed walked talked moved turned opened closed started finished watched
read wrote played sang carried followed reached
and or but so then after before while during about around through over under near with
without into onto from at in on of for by
red blue green yellow white black long short tall small large old new early late
""".split())
_OPTION_KEYS = ("n", "seed", "min_len", "max_len")
_KEYWORD_CLASS = {word: label for label, name in enumerate(CLASS_NAMES) for word in KEYWORDS[name]}


@dataclass(frozen=True)
class KeywordTextOptions:
    """What to generate; `parse_options` builds one from a data spec's query."""

    n: int = 200        # number of sentences
    seed: int = 0
    min_len: int = 6    # words a sentence, at least
    max_len: int = 16   # words a sentence, at most


def parse_options(query: dict[str, str]) -> KeywordTextOptions:
    """Options from a spec query, e.g. {"n": "200", "seed": "1"}; all are integers."""
    check_option_keys(query, _OPTION_KEYS, "KeywordText")
    fields = {}
    for key, text in query.items():
        try:
            fields[key] = int(str(text).strip())
        except ValueError:
            raise BadInput(f"KeywordText option {key}={text!r} is not an integer") from None
    options = KeywordTextOptions(**fields)
    _check(options)
    return options


def _check(options: KeywordTextOptions) -> None:
    """Raise BadInput, in one line, for options KeywordText cannot honour."""
    bounds = {"n": (1, 1_000_000), "seed": (0, 2**63 - 1), "min_len": (3, 100), "max_len": (3, 100)}
    for key, (low, high) in bounds.items():
        value = getattr(options, key)
        if not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise BadInput(f"KeywordText option {key}={value!r} must be an integer in [{low}, {high}]")
    if options.min_len > options.max_len:
        raise BadInput(f"KeywordText option min_len={options.min_len} exceeds max_len={options.max_len}")


def label_of(text: str) -> int:
    """The rule that decides a sentence's class: the class of the keywords it holds (-1: none)."""
    found = {_KEYWORD_CLASS[w] for w in text.split() if w in _KEYWORD_CLASS}
    return found.pop() if len(found) == 1 else -1


def _sentence(rng: np.random.Generator, label: int, options: KeywordTextOptions):
    """One sentence of class `label`: (words, keyword mask)."""
    length = int(rng.integers(options.min_len, options.max_len + 1))
    words = list(rng.choice(FILLERS, length))
    slots = rng.permutation(length)
    n_keywords = int(rng.integers(1, 3))
    for slot in slots[:n_keywords]:
        words[slot] = str(rng.choice(KEYWORDS[CLASS_NAMES[label]]))
    if rng.random() < 0.5:  # a distractor, in a slot no keyword took
        words[slots[n_keywords]] = str(rng.choice(DISTRACTORS))
    mask = np.zeros(length, bool)
    mask[slots[:n_keywords]] = True
    return [str(w) for w in words], mask


def generate(options: KeywordTextOptions, progress=None) -> TextDataset:
    """`options.n` KeywordText sentences with their keyword masks (see module docstring)."""
    _check(options)
    texts, masks = [], []
    for i in range(options.n):
        if progress is not None and i % 500 == 0:
            progress.step(i, options.n, "writing sentences")
        rng = np.random.default_rng(np.random.SeedSequence(options.seed, spawn_key=(i,)))
        words, mask = _sentence(rng, i % len(CLASS_NAMES), options)
        texts.append(" ".join(words))
        masks.append(mask)
    labels = np.arange(options.n, dtype=np.int64) % len(CLASS_NAMES)
    return TextDataset(texts, labels, list(CLASS_NAMES), keyword_masks=masks,
                       names=[f"keywordtext-s{options.seed}-{i}" for i in range(options.n)])
