"""SNIPS NLU benchmark (2017-06 custom intent engines): crowd-sourced voice-assistant queries.

Repository: github.com/sonos/nlu-benchmark at commit b86ac7f1577868c42158d0dec77db50956046696.
Licence: CC0-1.0 (the repository's LICENSE file is the CC0 1.0 Universal text). Paper: Coucke
et al., "Snips Voice Platform", 2018.

Read: `2017-06-custom-intent-engines/<Intent>/train_<Intent>_full.json` and
`validate_<Intent>.json` for the seven intents (`{<Intent>: [{"data": [{"text": ...}, ...]}]}`;
the query is the concatenation of its `text` chunks, exactly as the dataset splits it for slot
annotation). English only; text verbatim. Only three intents map to a module: GetWeather,
SearchScreeningEvent (movie showtimes) and BookRestaurant; music, book rating and creative-work
search are left out, and so are BookRestaurant queries that name no booking (see BOOKING).
(The 2016-12 built-in-intents file is over 4 MiB and not in the snapshot: not read.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

ROOT = "2017-06-custom-intent-engines"
# A BookRestaurant query that names no booking ("I'd like to eat at the best restaurant in
# Coalton") could as well be a search: it is kept under its own label and left out.
BOOKING = re.compile(r"\b(book\w*|reserv\w*|tables?|seats?|seating|spots?)\b", re.I)
INTENTS = ("AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook",
           "SearchCreativeWork", "SearchScreeningEvent")


def _at_repo(tree: GitTree) -> GitTree:
    # `fetch` puts the git directory in <mirrors>/owner+name/repo (or repo/.git), while build.py
    # hands over <mirrors>/owner+name itself; look one level down when that is where it is.
    if (tree.git_dir / "objects").is_dir():
        return tree
    for inner in (tree.git_dir / "repo" / ".git", tree.git_dir / "repo"):
        if (inner / "objects").is_dir():
            return GitTree(inner, tree.commit)
    return tree


def read(tree: GitTree) -> Iterator[Raw]:
    tree = _at_repo(tree)
    for intent in INTENTS:
        for path in (f"{ROOT}/{intent}/train_{intent}_full.json", f"{ROOT}/{intent}/validate_{intent}.json"):
            # train_PlayMusic_full.json spells one emoji as UTF-8-encoded surrogates (CESU-8);
            # surrogatepass reads it (PlayMusic is left out, so it is never written).
            data = json.loads(tree.read_bytes(path).decode("utf-8", errors="surrogatepass"))
            for i, query in enumerate(data[intent]):
                text = "".join(chunk["text"] for chunk in query["data"])
                label = intent
                if intent == "BookRestaurant" and not BOOKING.search(text):
                    label = "BookRestaurant_no_booking_word"
                yield Raw(label, text, "en", f"{path}[{i}]")


SOURCE = Source(
    name="snips",
    repo="sonos/nlu-benchmark",
    commit="b86ac7f1577868c42158d0dec77db50956046696",
    licence="CC0-1.0",
    description="SNIPS 2017 NLU benchmark: crowd-sourced voice-assistant queries (weather, showtimes, restaurant booking; English)",
    read=read,
    mapping={
        "GetWeather": ("web_search",),
        "SearchScreeningEvent": ("web_search",),
        "BookRestaurant": ("browser",),
        "BookRestaurant_no_booking_word": None,
        "AddToPlaylist": None,
        "PlayMusic": None,
        "RateBook": None,
        "SearchCreativeWork": None,
    },
    max_per_label=100,
    max_per_target=150,
    notes=(
        "SearchScreeningEvent ('what movies are playing at the nearest movie theatre') -> web_search: showtimes are live local information.",
        "BookRestaurant ('book a spot for 6 at a gateau restaurant') -> browser: reserving a table; the queries name no booking site.",
        "BookRestaurant queries without a booking word (book, reserv*, table, seat(s), seating, spot(s)) -> None under the label BookRestaurant_no_booking_word (13%: 'I want to eat at a scandinavian restaurant that is highly rated in Bonita Texas' could be a search).",
        "SearchCreativeWork ('find the TV series The Parent Trap') -> None: finding a work to open or play in a media app, not a web search.",
        "RateBook -> None: rating a book in an app; AddToPlaylist, PlayMusic -> None: music.",
        "Slot values were filled in by the dataset's creators from entity lists, so place and restaurant names are often odd ('Ward Springs', 'trottole'); the sentences are the crowd workers'.",
    ),
)
