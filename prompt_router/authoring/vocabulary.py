"""Each section's distinctive words: tf-idf against the other sections, deterministic.

A word scores by how often its section uses it, times how rare it is among the other
sections; words of the section's own title get a bonus. Stop words, words of the
prompt's own jargon that every section uses, numbers and short words are left out. Ties
break alphabetically, so the same prompt always gives the same triggers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")  # "tool's" -> "tool"; "you've" -> "you" (a stop word)
_TITLE_BONUS = 0.15  # as if the title word made up 15% of the section
# English function words, and the vocabulary of instructions themselves: words any section of
# a system prompt uses, which say nothing about when it is needed.
_STOP_WORDS = """
a about above after again against all also always an and any are as at be because been before being below
between both but by can cannot could did do does doing done don't down during each either else even every for
from further get gets given go had has have having here how however i if in into is it its it's itself just
let like make makes may me might more most must my need needs never no nor not now of off on once one only or
other our out over own per please rather same should since so some such than that the their them then there
these they this those through thus to too under until up upon us use used uses using very via want was we were
what when where whether which while who whom why will with within without would yes yet you your yours
yourself etc e.g i.e instead ensure example examples following include including important note always usually
specific specified provide provided user users user's assistant instructions instruction respond response
responses answer section sections tool tools task tasks information parameter parameters required optional
description usage value values result results first second new way well able already another based case cases
certain clear directly especially less many much necessary possible several something sure time times whatever
whenever able wherever
true false null none name names text keep level type types string strings array input inputs item items option options
previous recent applicable attention provides create created creating across requesting top-level
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-case words of 3+ characters; `read_file` gives `read` and `file`."""
    return [w for w in _WORD.findall(text.lower().replace("_", " ")) if len(w) >= 3 and not w.isdigit()]


def distinctive_terms(texts: Sequence[str], titles: Sequence[str], *, limit: int = 6, min_count: int = 2,
                      max_share: float = 0.34) -> list[list[str]]:
    """For each text, up to `limit` words that set it apart from the others, best first.

    A word must occur `min_count` times in its text (once is enough in the title) and in at
    most `max_share` of the texts."""
    counts = [Counter(w for w in words(text) if w not in STOP_WORDS) for text in texts]
    title_words = [{w for w in words(title) if w not in STOP_WORDS} for title in titles]
    frequency: Counter[str] = Counter()
    for count, title in zip(counts, title_words):
        frequency.update(set(count) | title)
    total = len(texts)
    out = []
    for count, title in zip(counts, title_words):
        length = sum(count.values()) or 1
        scored = []
        for word in set(count) | title:
            if word not in title and count[word] < min_count:
                continue
            if total > 2 and frequency[word] / total > max_share:
                continue
            tf = count[word] / length + (_TITLE_BONUS if word in title else 0.0)
            idf = math.log((1 + total) / (1 + frequency[word])) + 1
            scored.append((-tf * idf, word))
        out.append([word for _, word in sorted(scored)[:limit]])
    return out
