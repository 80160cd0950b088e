"""Words → token ids for our text models: one token a whitespace-separated word.

One token a word keeps the analyses readable: a per-token result is a per-word result,
and `words[i][j]` is what token j of sentence i stands for. Lookup ignores case and
surrounding punctuation ("Superb!" is "superb"); a word not in the vocabulary is UNK.
The vocabulary is built from the training texts and saved in model.json ("vocab").
"""
from __future__ import annotations

import string
from collections import Counter

import torch

PAD, UNK = 0, 1
SPECIALS = ("<pad>", "<unk>")
MAX_TOKENS = 128


def word_key(word: str) -> str:
    """The form a word is looked up by."""
    return word.lower().strip(string.punctuation)


class WordTokenizer:
    """`encode(texts) -> (tokens, mask, words)`; vocab[0] is PAD, vocab[1] is UNK."""

    def __init__(self, vocab: list[str], max_tokens: int = MAX_TOKENS) -> None:
        self.vocab = list(vocab)
        self.max_tokens = max_tokens
        self.index = {word: i for i, word in enumerate(self.vocab)}

    @classmethod
    def from_texts(cls, texts: list[str], max_tokens: int = MAX_TOKENS) -> "WordTokenizer":
        """Every word seen, most frequent first (ties alphabetical, so the order is stable)."""
        counts = Counter(word_key(w) for text in texts for w in text.split())
        counts.pop("", None)
        words = sorted(counts, key=lambda w: (-counts[w], w))
        return cls([*SPECIALS, *(w for w in words if w not in SPECIALS)], max_tokens)

    @classmethod
    def from_description(cls, description: dict) -> "WordTokenizer":
        return cls(description["vocab"], int(description.get("max_tokens", MAX_TOKENS)))

    def describe(self) -> dict:
        """What model.json keeps to rebuild this tokenizer."""
        return {"vocab": self.vocab, "max_tokens": self.max_tokens}

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, list[list[str]]]:
        """tokens (N, T) int64 padded with PAD, mask (N, T) bool, and each sentence's words.

        Token j of sentence i is `words[i][j]`; sentences longer than `max_tokens` words are
        cut (their `words` too). T is the longest sentence, at least 1.
        """
        words = [text.split()[:self.max_tokens] for text in texts]
        width = max([len(w) for w in words] + [1])
        tokens = torch.full((len(texts), width), PAD, dtype=torch.long)
        for i, sentence in enumerate(words):
            ids = [self.index.get(word_key(w), UNK) for w in sentence]
            tokens[i, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask = torch.arange(width)[None, :] < torch.tensor([len(w) for w in words])[:, None]
        return tokens, mask, words
