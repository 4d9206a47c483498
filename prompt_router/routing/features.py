"""Sparse text features for the learned router: normalised word unigrams and bigrams, and
character n-grams of each word (with boundary marks), which carry typos, inflections and
other languages. A fixed vocabulary (built at training time) maps them to columns; unseen
features are ignored."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from ..normalize import tokens
from .decision import recent_turns

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FeatureConfig:
    words: bool = True  # word unigrams
    word_bigrams: bool = True
    chars: bool = True  # character n-grams of each word
    char_min: int = 3
    char_max: int = 5
    history_turns: int = 2  # earlier user turns whose words count too (prefixed, so they stay separate)
    max_words: int = 256  # words read per text: bounds the cost of any input

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


@functools.lru_cache(maxsize=65536)
def _word_features(word: str, words: bool, chars: bool, char_min: int, char_max: int) -> tuple[str, ...]:
    grams = [f"w:{word}"] if words else []
    if chars:
        marked = f"<{word[:64]}>"  # a 30,000-character "word" must not make 150,000 n-grams
        for n in range(char_min, char_max + 1):
            grams.extend(f"c:{marked[i:i + n]}" for i in range(len(marked) - n + 1))
    return tuple(grams)


def text_features(text: str, config: FeatureConfig, prefix: str = "") -> list[str]:
    words = tokens(text)
    if len(words) > config.max_words:
        # the head and the tail: a pasted document usually comes with the request around it
        half = config.max_words // 2
        words = words[:half] + words[-half:]
    out: list[str] = []
    for word in words:
        grams = _word_features(word, config.words, config.chars, config.char_min, config.char_max)
        if prefix:
            out.extend(f"{prefix}{g}" for g in grams)
        else:
            out.extend(grams)
    if config.word_bigrams:
        out.extend(f"{prefix}b:{a} {b}" for a, b in zip(words, words[1:]))
    return out


def features(query: str, history: Sequence[str], config: FeatureConfig) -> list[str]:
    out = text_features(query, config)
    for turn in recent_turns(history, config.history_turns):
        out.extend(f for f in text_features(turn, config, prefix="h") if not f.startswith("hc:"))
    return out


class Vectorizer:
    """Features -> the sorted column indices of a binary row (L2-normalised when scored)."""

    def __init__(self, vocabulary: Sequence[str], config: FeatureConfig) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {feature: i for i, feature in enumerate(self.vocabulary)}
        self.config = config

    @classmethod
    def fit(cls, documents: Iterable[list[str]], config: FeatureConfig, min_count: int = 2) -> Vectorizer:
        counts: dict[str, int] = {}
        for document in documents:
            for feature in set(document):
                counts[feature] = counts.get(feature, 0) + 1
        return cls(sorted(f for f, c in counts.items() if c >= min_count), config)

    def row(self, feature_list: Iterable[str]) -> IntArray:
        index = self.index
        columns = sorted({index[f] for f in feature_list if f in index})
        return np.asarray(columns, dtype=np.int64)

    def transform(self, query: str, history: Sequence[str] = ()) -> IntArray:
        return self.row(features(query, history, self.config))
