"""xSID 0.7: human translations of assistant requests (SNIPS + Facebook's task-oriented set) into
many languages; the NON-ENGLISH part of the corpus.

Repository: github.com/mainlp/xsid at commit 761d926c3f2e9f6bea13192d2f39cec1d04d9777.
Licence: CC-BY-SA-4.0 (the repository's LICENSE file is the CC BY-SA 4.0 legal code; the English
sources are SNIPS, CC0-1.0, and Schuster et al. 2019's multilingual task-oriented data, CC BY-SA).
Paper: van der Goot et al., "From Masked Language Modeling to Translation: Non-English Auxiliary
Tasks Improve Zero-shot Spoken Language Understanding", NAACL 2021.

Read: `data/xSID-0.7/<lang>.test.conll` and `<lang>.valid.conll` (CoNLL blocks with
`# text = ...`, `# text-en = ...`, `# intent = ...`) for eleven standard languages: ar, da, de,
id, it, kk, lt, nl, sr (Latin script), tr, zh. The sentence is the `# text` line verbatim. Left
out: English (the SNIPS part duplicates the snips source), Japanese (every sentence is
whitespace-tokenised, not as written), the dialect sets (de-st, de-ba, de-muc, gsw, nap, no:
no ISO 639-1 code, and the Norwegian set mixes dialects), and the machine-translated training
files. In zh about half the sentences are whitespace-tokenised ("今天 的 最高 气温"); those get the
label `zh.tokenised` and are left out.

Labels are `<lang>.<intent>` with `/` turned into `_` (e.g. `de.reminder_set_reminder`), so the
per-label cap balances languages as well as intents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

ROOT = "data/xSID-0.7"
LANGS = ("ar", "da", "de", "id", "it", "kk", "lt", "nl", "sr", "tr", "zh")
CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
TOKENISED = re.compile(rf"{CJK}\s|\s{CJK}")
# A SNIPS BookRestaurant request that names no booking ("I'd like to eat at the best restaurant
# in Coalton") could as well be a search; judged on the English original (`# text-en`), as in
# the snips source.
BOOKING = re.compile(r"\b(book\w*|reserv\w*|tables?|seats?|seating|spots?)\b", re.I)

BY_INTENT: dict[str, tuple[str, ...] | None] = {
    "weather_find": ("web_search",),
    "SearchScreeningEvent": ("web_search",),
    "BookRestaurant": ("browser",),
    "BookRestaurant_no_booking_word": None,
    "alarm_set_alarm": ("workflow",),
    "alarm_cancel_alarm": ("workflow",),
    "alarm_show_alarms": ("workflow",),
    "alarm_snooze_alarm": ("workflow",),
    "alarm_time_left_on_alarm": ("workflow",),
    "alarm_modify_alarm": ("workflow",),
    "reminder_set_reminder": ("workflow",),
    "reminder_cancel_reminder": ("workflow",),
    "reminder_show_reminders": ("workflow",),
    "AddToPlaylist": None,
    "PlayMusic": None,
    "RateBook": None,
    "SearchCreativeWork": None,
}
MAPPING: dict[str, tuple[str, ...] | None] = {
    **{f"{lang}.{intent}": needs for lang in LANGS for intent, needs in BY_INTENT.items()},
    "zh.tokenised": None,
}


def _at_repo(tree: GitTree) -> GitTree:
    # `fetch` puts the git directory in <mirrors>/owner+name/repo (or repo/.git), while build.py
    # hands over <mirrors>/owner+name itself; look one level down when that is where it is.
    if (tree.git_dir / "objects").is_dir():
        return tree
    for inner in (tree.git_dir / "repo" / ".git", tree.git_dir / "repo"):
        if (inner / "objects").is_dir():
            return GitTree(inner, tree.commit)
    return tree


def _blocks(conll: str) -> Iterator[dict[str, str]]:
    for block in re.split(r"\n\s*\n", conll):
        meta = {}
        for line in block.splitlines():
            m = re.match(r"# ([\w-]+) = (.*)$", line)
            if m:
                meta[m.group(1)] = m.group(2)
        if "text" in meta and "intent" in meta:
            yield meta


def read(tree: GitTree) -> Iterator[Raw]:
    tree = _at_repo(tree)
    for lang in LANGS:
        for split in ("test", "valid"):
            path = f"{ROOT}/{lang}.{split}.conll"
            for i, meta in enumerate(_blocks(tree.read_text(path))):
                text, intent = meta["text"].strip(), meta["intent"].replace("/", "_")
                if intent == "BookRestaurant" and not BOOKING.search(meta.get("text-en", "")):
                    intent = "BookRestaurant_no_booking_word"
                label = f"{lang}.{intent}"
                if lang == "zh" and TOKENISED.search(text):
                    label = "zh.tokenised"
                yield Raw(label, text, lang, f"{path}#{meta.get('id', i)}")


SOURCE = Source(
    name="xsid",
    repo="mainlp/xsid",
    commit="761d926c3f2e9f6bea13192d2f39cec1d04d9777",
    licence="CC-BY-SA-4.0",
    description="xSID 0.7: assistant requests (weather, alarms, reminders, showtimes, restaurant booking) translated into 11 languages",
    read=read,
    mapping=MAPPING,
    max_per_label=12,
    max_per_target=250,
    notes=(
        "Every case is a human translation of an English request (SNIPS or Schuster et al. 2019), not a native request; the same English sentence can appear in several languages.",
        "weather/find -> web_search; includes indirect forms ('Do I need a sweater?').",
        "SearchScreeningEvent (movie showtimes) -> web_search; BookRestaurant -> browser, except requests whose English original names no booking (BookRestaurant_no_booking_word -> None), as in the snips source.",
        "alarm/* and reminder/* (set, cancel, show, snooze, time left) -> workflow.",
        "AddToPlaylist, PlayMusic, RateBook, SearchCreativeWork -> None, as in the snips source.",
        "zh sentences with whitespace between CJK characters (tokenised by the dataset, not as written) -> label zh.tokenised, None.",
        "Labels carry the language (e.g. de.weather_find) so that the per-label cap of 12 spreads cases over the 11 languages.",
    ),
)
