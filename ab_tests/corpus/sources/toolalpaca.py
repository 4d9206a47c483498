"""ToolAlpaca: user instructions for real public web APIs (evaluation sets).

Repository: tangqiaoyu/ToolAlpaca at commit 189069998d64a7baf1b4a1c3c4b2e75eb9d05532.
Licence: Apache-2.0 (LICENSE at the repository root; the data files are part of the repository).

Read: data/eval_real.json and data/eval_simulated.json (data/train_data.json is over the
snapshot's size limit). Each entry is one public API with its `Name`, `Category` and a list of
`Instructions` (user requests written for that API). The text is one instruction, verbatim. The
label is the API's Name (more precise than its Category: e.g. WolframAlpha sits under "Machine
Learning").
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

FILES = ("data/eval_real.json", "data/eval_simulated.json")



def read(tree: GitTree) -> Iterator[Raw]:
    for path in FILES:
        for api in json.loads(tree.read_text(path)):
            for number, text in enumerate(api["Instructions"]):
                text = text.strip().strip('"').strip()
                if text:
                    yield Raw(api["Name"], text, "en", f"{path}#{api['Name']}/{number}")


SEARCH = ("web_search",)
MAPPING: dict[str, tuple[str, ...] | None] = {
    # live or look-up information
    "Nager.Date": SEARCH,  # public holidays by country and year
    "Abstract Public Holidays": SEARCH,
    "airportsapi": SEARCH,  # airport names, codes, websites
    "AviationAPI": SEARCH,  # airport information, charts, airport weather
    "apilayer weatherstack": SEARCH,  # current weather
    "CurrencyBeacon": SEARCH,  # exchange rates
    # answered from memory
    "chucknorris.io": (),  # jokes
    "Random Useless Facts": (),  # trivia
    "Free Dictionary": (),  # definitions, synonyms, etymology
    # left out
    "WolframAlpha": None,  # mixes weather, arithmetic, unit conversion, demographics
    "1Forge": None,  # exchange rates mixed with setting price alerts
    "Fruityvice": None,  # "fetch all fruits in the API": the requests are about the API itself
    "Cataas": None,  # fetching cat pictures from a service: neither search nor generation
    "Axolotl": None,  # pictures and facts mixed
    "AniAPI": None,  # anime look-ups mixed with recommendations
    "AbuseIPDB": None,  # reporting IP addresses to a database
    "Améthyste": None,  # Discord avatar generation mixed with Discord user look-ups
    "Auth0": None,  # authentication back-end
    "A Bíblia Digital": None,  # Bible verse retrieval through one API
    "Apache Superset": None,  # BI back-end administration
    "Lob.com": None,  # address verification back-end
}

SOURCE = Source(
    name="toolalpaca",
    repo="tangqiaoyu/ToolAlpaca",
    commit="189069998d64a7baf1b4a1c3c4b2e75eb9d05532",
    licence="Apache-2.0",
    description="ToolAlpaca: user requests written for public web APIs (holidays, weather, airports, currency, jokes, dictionary)",
    read=read,
    mapping=MAPPING,
    max_per_label=20,
    max_per_target=150,
    notes=(
        "Label = API name. Holidays, airports, aviation info, weather and exchange-rate APIs -> web_search.",
        "Public-holiday questions ('Is today a public holiday in China?') -> web_search (dated, "
        "country-specific look-ups), although some are answerable from memory.",
        "Jokes, random trivia and dictionary look-ups -> no tools (small talk / definitions).",
        "Many requests name the API ('using the currency API'); they are kept verbatim.",
        "APIs whose requests mix needs or concern a custom back-end -> None (listed in the mapping).",
    ),
)
