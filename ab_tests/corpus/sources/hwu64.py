"""HWU64 (NLU-Evaluation-Data): what people said to a home assistant robot, 64 intents.

Repository: github.com/xliuhw/NLU-Evaluation-Data at commit
f6071b496b17d71e6eb43f543af0707f4ff30557. Licence: CC-BY-4.0 (README "License: All data are
released under the Creative Commons Attribution 4.0 International License (CC BY 4.0)", and the
LICENSE file is the CC BY 4.0 legal code). Paper: Liu et al., "Benchmarking Natural Language
Understanding Services for building Conversational Agents", IWSDS 2019.

Read: the annotated test sets of the ten cross-validation folds, `CrossValidation/
autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation/KFold_<k>/testset/
annotated/<intent>/<intent>_anno_<stamp>.json` (`test_data_annotation`: `text`, `intent`); the
ten test folds together hold each annotated utterance once. (The full CSV files are over 4 MiB
and not in the snapshot.) English only; text verbatim (lower-cased, numbers spelt out by the
dataset's own normalisation). For the calendar intents the dataset mixes reminders with calendar
events, so an utterance of a calendar intent that speaks of a reminder (`remind*`, `notify me`) gets the
label `<intent>_reminder` (-> workflow) and the rest keep theirs (-> communication).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

ROOT = "CrossValidation/autoGeneFromRealAnno/autoGene_2018_03_22-13_01_25_169/CrossValidation"
REMINDER = re.compile(r"\bremind\w*|\bnotify me\b", re.I)


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
    for path in tree.ls(ROOT):
        if "/testset/annotated/" not in path or not path.endswith(".json"):
            continue
        for i, item in enumerate(json.loads(tree.read_text(path))["test_data_annotation"]):
            label, text = item["intent"], item["text"]
            if label.startswith("calendar_") and REMINDER.search(text):
                label += "_reminder"
            yield Raw(label, text, "en", f"{path}[{i}]")


NONE: tuple[str, ...] = ()
WEB = ("web_search",)
WORKFLOW = ("workflow",)
COMM = ("communication",)

MAPPING: dict[str, tuple[str, ...] | None] = {
    "alarm_query": WORKFLOW,
    "alarm_remove": WORKFLOW,
    "alarm_set": WORKFLOW,
    "lists_createoradd": WORKFLOW,
    "lists_query": WORKFLOW,
    "lists_remove": WORKFLOW,
    "calendar_query": COMM,
    "calendar_remove": COMM,
    "calendar_set": COMM,
    "calendar_query_reminder": WORKFLOW,
    "calendar_remove_reminder": WORKFLOW,
    "calendar_set_reminder": WORKFLOW,
    "email_query": COMM,
    "email_sendemail": COMM,
    "email_addcontact": COMM,
    "email_querycontact": None,
    "news_query": WEB,
    "qa_currency": WEB,
    "qa_stock": WEB,
    "recommendation_events": WEB,
    "recommendation_locations": WEB,
    "transport_query": WEB,
    "transport_traffic": WEB,
    "weather_query": WEB,
    "transport_ticket": ("browser",),
    "qa_definition": NONE,
    "qa_maths": NONE,
    "general_joke": NONE,
    "general_praise": NONE,
    "cooking_recipe": NONE,
    "qa_factoid": None,
    "recommendation_movies": None,
    "datetime_query": None,
    "datetime_convert": None,
    "takeaway_order": None,
    "takeaway_query": None,
    "transport_taxi": None,
    "social_post": None,
    "social_query": None,
    **dict.fromkeys([
        "general_affirm", "general_commandstop", "general_confirm", "general_dontcare",
        "general_explain", "general_negate", "general_quirky", "general_repeat",
    ], None),
    **dict.fromkeys([
        "audio_volume_down", "audio_volume_mute", "audio_volume_up", "iot_cleaning",
        "iot_coffee", "iot_hue_lightchange", "iot_hue_lightdim", "iot_hue_lightoff",
        "iot_hue_lighton", "iot_hue_lightup", "iot_wemo_off", "iot_wemo_on", "music_likeness",
        "music_query", "music_settings", "play_audiobook", "play_game", "play_music",
        "play_podcasts", "play_radio",
    ], None),
}

SOURCE = Source(
    name="hwu64",
    repo="xliuhw/NLU-Evaluation-Data",
    commit="f6071b496b17d71e6eb43f543af0707f4ff30557",
    licence="CC-BY-4.0",
    description="HWU64 home-assistant NLU set: crowd workers' own wordings for 64 intents (English)",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=200,
    notes=(
        "calendar_* utterances that say remind* or 'notify me' are relabelled calendar_*_reminder -> workflow ('remind me to pay the electricity bill'); the other calendar_* -> communication (calendar events).",
        "email_addcontact ('add sam@gmail dot com to my contacts') -> communication: the e-mail address book.",
        "email_querycontact -> None: mostly phone-book and call-log questions ('when was the last call i received from jordan').",
        "cooking_recipe -> []: recipes and cooking questions answered from general knowledge, though some say 'find me a recipe'.",
        "qa_factoid -> None: mixes general knowledge ('capital of nigeria') with live facts ('is adele going to go on tour', net worth).",
        "recommendation_movies -> None: mixes 'what movies are playing near me' (live) with 'recommend a romantic comedy' (no tool).",
        "transport_query -> web_search: train times, routes, directions; a few ask to buy tickets.",
        "recommendation_locations ('nearby chinese restaurants'), recommendation_events ('events happening in milan') -> web_search: local businesses and events.",
        "transport_ticket ('book a train ticket to newcastle') -> browser.",
        "takeaway_order -> None: mixes ordering food with finding takeaways and calling restaurants; transport_taxi -> None as the guide says.",
        "social_post (tweets), social_query (reading a feed) -> None: between communication and browser.",
        "general_* dialogue replies (affirm, negate, confirm, repeat, explain, dontcare, commandstop) and general_quirky -> None: their needs depend on the previous turn; general_praise and general_joke -> [].",
        "datetime_query, datetime_convert -> None: current time or time-zone arithmetic; whether a tool is needed depends on the agent.",
    ),
)
