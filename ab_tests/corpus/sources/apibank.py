"""API-Bank: dialogues between a user and a tool-using assistant, annotated with API calls.

Repository: AlibabaResearch/DAMO-ConvAI (folder api-bank) at commit
483554eae102996f5ec1f4feab4e78ef29c2a394.
Licence: Apache-2.0 (api-bank/LICENSE; the repository root LICENSE is Apache-2.0 too).

Read: every dialogue in api-bank/lv1-lv2-samples/level-1-given-desc/*.jsonl and
api-bank/lv1-lv2-samples/level-2-toolsearcher/*.jsonl (one JSON turn a line). The text is the
dialogue's first User turn, verbatim. The label is the first API the annotated dialogue calls
(its `api_name`), skipping the helper APIs GetUserToken and ToolSearcher; a dialogue that
calls no other API is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

FOLDERS = ("api-bank/lv1-lv2-samples/level-1-given-desc", "api-bank/lv1-lv2-samples/level-2-toolsearcher")
HELPERS = {"GetUserToken", "ToolSearcher"}



def read(tree: GitTree) -> Iterator[Raw]:
    for folder in FOLDERS:
        for path in sorted(tree.ls(folder)):
            if not path.endswith(".jsonl"):
                continue
            turns = [json.loads(line) for line in tree.read_text(path).splitlines() if line.strip()]
            users = [turn.get("text") for turn in turns if turn.get("role") == "User" and turn.get("text")]
            apis = [turn["api_name"] for turn in turns if turn.get("role") == "API" and turn.get("api_name") not in HELPERS]
            if users and apis:
                yield Raw(apis[0], users[0], "en", path)


CALENDAR = ("communication",)
REMIND = ("workflow",)
MAPPING: dict[str, tuple[str, ...] | None] = {
    # the user's agenda (calendar events) and meeting reservations -> communication
    "AddAgenda": CALENDAR,
    "DeleteAgenda": CALENDAR,
    "ModifyAgenda": CALENDAR,
    "QueryAgenda": CALENDAR,
    "AddMeeting": CALENDAR,
    "DeleteMeeting": CALENDAR,
    "ModifyMeeting": CALENDAR,
    "QueryMeeting": CALENDAR,
    "SendEmail": ("communication",),
    # alarms and reminders -> workflow
    "AddAlarm": REMIND,
    "DeleteAlarm": REMIND,
    "ModifyAlarm": REMIND,
    "QueryAlarm": REMIND,
    "AddReminder": REMIND,
    "DeleteReminder": REMIND,
    "ModifyReminder": REMIND,
    "QueryReminder": REMIND,
    # live information
    "QueryStock": ("web_search",),
    "SearchEngine": ("web_search",),
    "Wiki": ("web_search",),
    # booking on a site
    "BookHotel": ("browser",),
    # text work and documents
    "Translate": ("content_creation",),
    "DocumentQA": ("file_operations",),
    # answered from memory
    "Calculator": (),
    "Dictionary": (),
    "EmergencyKnowledge": (),
    "SymptomSearch": (),
    # left out
    "AppointmentRegistration": None,
    "CancelRegistration": None,
    "ModifyRegistration": None,
    "QueryRegistration": None,
    "QueryHealthData": None,
    "RecordHealthData": None,
    "OpenBankAccount": None,
    "QueryBalance": None,
    "RegisterUser": None,
    "DeleteAccount": None,
    "ModifyPassword": None,
    "ForgotPassword": None,
    "TimedSwitch": None,
    "CancelTimedSwitch": None,
    "QueryScene": None,
    "DeleteScene": None,
    "PlayMusic": None,
    "GetToday": None,
    "QueryHistoryToday": None,
    "ImageCaption": None,
    "SpeechRecognition": None,
}

SOURCE = Source(
    name="apibank",
    repo="AlibabaResearch/DAMO-ConvAI",
    commit="483554eae102996f5ec1f4feab4e78ef29c2a394",
    licence="Apache-2.0",
    description="API-Bank: first user turns of annotated tool-use dialogues (agenda, meetings, alarms, reminders, stocks...)",
    read=read,
    mapping=MAPPING,
    max_per_label=20,
    max_per_target=150,
    notes=(
        "Label = first API called in the annotated dialogue (GetUserToken/ToolSearcher skipped); the "
        "text is the first user turn, which can be vague ('Can you help me modify a reminder?').",
        "Agenda (personal schedule entries) and meeting reservations -> communication (calendar events, "
        "as in the guide's 'schedule a call with Tom').",
        "Alarms and reminders -> workflow.",
        "EmergencyKnowledge / SymptomSearch ('information about a headache') -> no tools: general health "
        "knowledge; a reviewer may prefer web_search.",
        "DocumentQA ('answer a question about a document') -> file_operations.",
        "BookHotel -> browser (booking on a site).",
        "Doctor appointment registration, bank accounts, health records, account/password management, "
        "smart-home switches and scenes, music, today's date, history-of-today, image captioning and "
        "speech recognition -> None (custom back-ends or IoT; no clean module).",
    ),
)
