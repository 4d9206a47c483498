"""Sparse text features for the learned router: normalised word unigrams and bigrams, and
character n-grams of each word (with boundary marks), which carry typos, inflections and
other languages. A fixed vocabulary (built at training time) maps them to columns; unseen
features are ignored."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..cache import memoize, text_bytes
from ..normalize import tokens
from .decision import recent_turns

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeatureConfig:
    words: bool = True  # word unigrams
    word_bigrams: bool = True
    chars: bool = True  # character n-grams of each word
    char_min: int = 3
    char_max: int = 5
    history_turns: int = 2  # earlier user turns whose words count too (prefixed, so they stay separate)
    max_words: int = 64  # words read per text (head and tail): bounds the cost of any input

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def _word_features_uncached(word: str, words: bool, chars: bool, char_min: int, char_max: int) -> tuple[str, ...]:
    grams = [f"w:{word}"] if words else []
    if chars:
        marked = f"<{word[:64]}>"  # a 30,000-character "word" must not make 150,000 n-grams
        for n in range(char_min, char_max + 1):
            grams.extend(f"c:{marked[i:i + n]}" for i in range(len(marked) - n + 1))
    return tuple(grams)


def _grams_bytes(args: tuple[Any, ...], grams: tuple[str, ...]) -> int:
    return text_bytes(args[:1]) + text_bytes(grams) + sys.getsizeof(grams)


# Words recur across requests: their n-grams are computed once, within a byte budget (a flood
# of distinct long tokens must not pin memory).
_word_features = memoize(_word_features_uncached, max_entries=65536, max_bytes=32 * 1024 * 1024, size=_grams_bytes)


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


@dataclass(frozen=True)
class Row:
    """One request as the scorer sees it: present columns and their values (L2-normalised)."""

    columns: IntArray
    values: FloatArray


class Vectorizer:
    """Features -> a sparse row: sublinear term frequency (1 + log count) times the feature's
    inverse document frequency, L2-normalised; features outside the vocabulary are ignored.
    With no idf table every present feature weighs the same (binary features)."""

    def __init__(self, vocabulary: Sequence[str], config: FeatureConfig, idf: FloatArray | None = None) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {feature: i for i, feature in enumerate(self.vocabulary)}
        self.config = config
        self.idf = idf

    @classmethod
    def fit(cls, documents: Sequence[list[str]], config: FeatureConfig, min_count: int = 2,
            idf: bool = True) -> Vectorizer:
        counts: dict[str, int] = {}
        for document in documents:
            for feature in set(document):
                counts[feature] = counts.get(feature, 0) + 1
        vocabulary = sorted(f for f, c in counts.items() if c >= min_count)
        if not idf:
            return cls(vocabulary, config)
        n = len(documents)
        # smoothed idf, as scikit-learn computes it: log((1 + n) / (1 + df)) + 1
        raw = np.array([np.log((1 + n) / (1 + counts[f])) + 1.0 for f in vocabulary], dtype=np.float32)
        # float32, as the artefact stores it: the model in memory scores like the one loaded
        table: FloatArray = raw.astype(np.float64)
        return cls(vocabulary, config, table)

    def row(self, feature_list: Iterable[str]) -> Row:
        index = self.index
        tf: dict[int, int] = {}
        for feature in feature_list:
            column = index.get(feature)
            if column is not None:
                tf[column] = tf.get(column, 0) + 1
        if not tf:
            return Row(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
        columns = np.fromiter(sorted(tf), dtype=np.int64, count=len(tf))
        if self.idf is None:
            values = np.ones(len(columns), dtype=np.float64)
        else:
            counts = np.fromiter((tf[c] for c in columns.tolist()), dtype=np.float64, count=len(columns))
            values = (1.0 + np.log(counts)) * self.idf[columns]
        return Row(columns, values / np.sqrt(values @ values))

    def transform(self, query: str, history: Sequence[str] = ()) -> Row:
        return self.row(features(query, history, self.config))
