"""CLINC150: crowd-sourced requests to a task-oriented assistant, 150 intents in 10 domains.

Repository: github.com/clinc/oos-eval at commit 828f8093932c8fe6ca7936c3d2e52903b1c523de.
Licence: CC-BY-3.0 (the repository's LICENSE file is the Creative Commons Attribution 3.0
Unported legal code). Paper: Larson et al., "An Evaluation Dataset for Intent Classification and
Out-of-Scope Prediction", EMNLP 2019.

Read: `data/data_full.json` (splits train, val, test, oos_train, oos_val, oos_test; each item is
`[text, intent]`). English only. The text is kept verbatim (the dataset is lower-cased).
Personal-account intents (banking, credit cards, HR, car telemetry), device/voice settings,
media playback, dialogue-control replies (yes/no/maybe/repeat/cancel) and the out-of-scope class
(`oos`, many kinds of need) are left out, and so are booking requests that name no booking
(see BOOKING).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "data/data_full.json"
# Most book_flight / book_hotel requests only describe the trip ("i need a flight from denver
# to new york on the 3rd for under 700", "show me a hotel in boise that has positive reviews"):
# finding options or booking? A booking-type request that names no booking is kept under
# `<intent>_no_booking_word` and left out.
BOOKING_INTENTS = ("book_flight", "book_hotel", "car_rental", "restaurant_reservation")
BOOKING = re.compile(r"\b(book\w*|reserv\w*|buy\w*|purchas\w*|tickets?|rent\w*|tables?|get me an?)\b", re.I)


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
    data = json.loads(tree.read_text(PATH))
    for split in sorted(data):
        for i, (text, intent) in enumerate(data[split]):
            if intent in BOOKING_INTENTS and not BOOKING.search(text):
                intent += "_no_booking_word"
            yield Raw(intent, text, "en", f"{PATH}:{split}[{i}]")


NONE: tuple[str, ...] = ()
WEB = ("web_search",)
BROWSER = ("browser",)
WORKFLOW = ("workflow",)
COMM = ("communication",)

MAPPING: dict[str, tuple[str, ...] | None] = {
    # --- banking / credit cards: the user's own accounts, no module fits ---
    **dict.fromkeys([
        "freeze_account", "routing", "pin_change", "bill_due", "pay_bill", "account_blocked",
        "interest_rate", "min_payment", "bill_balance", "transfer", "order_checks", "balance",
        "spending_history", "transactions", "report_fraud", "replacement_card_duration",
        "expiration_date", "damaged_card", "report_lost_card", "card_declined",
        "credit_limit_change", "apr", "redeem_rewards", "credit_limit", "rewards_balance",
        "application_status", "credit_score", "new_card", "international_fees",
    ], None),
    "improve_credit_score": NONE,  # general advice
    # --- kitchen & dining ---
    "ingredient_substitution": NONE,
    "calories": NONE,
    "nutrition_info": NONE,
    "cook_time": NONE,
    "food_last": NONE,
    "ingredients_list": NONE,
    "recipe": NONE,
    "meal_suggestion": NONE,
    "restaurant_reviews": WEB,
    "restaurant_suggestion": WEB,
    "how_busy": WEB,
    "accept_reservations": WEB,
    "restaurant_reservation": BROWSER,
    **{f"{intent}_no_booking_word": None for intent in BOOKING_INTENTS},
    "confirm_reservation": None,
    "cancel_reservation": None,
    # --- home ---
    "shopping_list": WORKFLOW,
    "shopping_list_update": WORKFLOW,
    "todo_list": WORKFLOW,
    "todo_list_update": WORKFLOW,
    "reminder": WORKFLOW,
    "reminder_update": WORKFLOW,
    "calendar": COMM,
    "calendar_update": COMM,
    "order": BROWSER,
    "order_status": None,
    "play_music": None,
    "update_playlist": None,
    "next_song": None,
    "what_song": None,
    "smart_home": None,
    # --- auto & commute ---
    "traffic": WEB,
    "directions": WEB,
    "distance": WEB,
    "oil_change_how": NONE,
    "jump_start": NONE,
    **dict.fromkeys([
        "gas", "gas_type", "mpg", "tire_pressure", "tire_change", "oil_change_when",
        "last_maintenance", "schedule_maintenance", "uber", "current_location",
        "share_location",
    ], None),
    # --- travel ---
    "book_flight": BROWSER,
    "book_hotel": BROWSER,
    "car_rental": BROWSER,
    "flight_status": WEB,
    "exchange_rate": WEB,
    "carry_on": WEB,
    "international_visa": WEB,
    "travel_alert": WEB,
    "vaccines": WEB,
    "plug_type": NONE,
    "timezone": NONE,
    "travel_suggestion": NONE,
    "translate": None,
    "lost_luggage": None,
    "travel_notification": None,
    # --- utility ---
    "weather": WEB,
    "alarm": WORKFLOW,
    "timer": WORKFLOW,
    "text": COMM,
    "calculator": NONE,
    "measurement_conversion": NONE,
    "spelling": NONE,
    "definition": NONE,
    "roll_dice": NONE,
    "flip_coin": NONE,
    "time": None,
    "date": None,
    "find_phone": None,
    "make_call": None,
    # --- work ---
    "schedule_meeting": COMM,
    "meeting_schedule": COMM,
    **dict.fromkeys([
        "pto_balance", "pto_request", "pto_request_status", "pto_used", "payday", "income",
        "taxes", "w2", "insurance", "insurance_change", "next_holiday", "rollover_401k",
        "direct_deposit",
    ], None),
    # --- small talk ---
    **dict.fromkeys([
        "greeting", "goodbye", "thank_you", "tell_joke", "are_you_a_bot", "do_you_have_pets",
        "how_old_are_you", "meaning_of_life", "what_are_your_hobbies", "what_can_i_ask_you",
        "what_is_your_name", "where_are_you_from", "who_do_you_work_for", "who_made_you",
        "fun_fact", "user_name", "change_user_name", "change_ai_name",
    ], NONE),
    # --- meta: dialogue control and voice/device settings ---
    **dict.fromkeys([
        "yes", "no", "maybe", "repeat", "cancel", "change_accent", "change_speed",
        "change_volume", "whisper_mode", "change_language", "sync_device", "reset_settings",
    ], None),
    "oos": None,
}

SOURCE = Source(
    name="clinc150",
    repo="clinc/oos-eval",
    commit="828f8093932c8fe6ca7936c3d2e52903b1c523de",
    licence="CC-BY-3.0",
    description="CLINC150 intent-classification set: crowd-sourced assistant requests, 150 intents (English)",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=200,
    notes=(
        "Cooking knowledge (recipe, ingredients_list, cook_time, food_last, ingredient_substitution, calories, nutrition_info, meal_suggestion) -> []: answered from general knowledge; 'recipe' includes wordings like 'find me a recipe for ...'.",
        "travel_suggestion ('things to do in chicago'), plug_type, timezone -> []: stable general knowledge, no live data.",
        "carry_on, international_visa, vaccines -> web_search: airline and entry rules change, so a correct answer checks current sources; travel_alert -> web_search (live).",
        "how_busy ('how busy is ihop at 5 pm'), accept_reservations ('does redrobin take reservations'), restaurant_suggestion ('good thai restaurants in las vegas') -> web_search: local-business information.",
        "flight_status -> web_search as the guide lists it, although many items speak of 'my flight' without a flight number.",
        "book_flight, book_hotel, car_rental, restaurant_reservation -> browser only when the request names a booking (book*, reserv*, buy*, purchas*, ticket(s), rent*, table(s), 'get me a(n)'); the rest (63% of book_flight and book_hotel: 'i need a flight from denver to new york on the 3rd for under 700', 'show me a hotel in boise that has positive reviews') -> None under <intent>_no_booking_word: finding options or booking is unclear.",
        "order ('order everything on my shopping list', 'buy a new television') -> browser: buying on a website.",
        "schedule_meeting, meeting_schedule, calendar, calendar_update -> communication (calendar events); schedule_meeting includes a few how-to questions ('how do i set up a meeting') and meeting-room availability.",
        "shopping_list(_update), todo_list(_update), reminder(_update), alarm, timer -> workflow.",
        "text ('text my boss that i will be late') -> communication; make_call -> None (phone calls are not a module).",
        "user_name, change_user_name, change_ai_name -> []: chat about names, no tool.",
        "translate -> None: one word or short phrase ('how do you say hello in french'); between [] and content_creation.",
        "time, date -> None: whether the current time needs a tool depends on the agent.",
        "yes, no, maybe, repeat, cancel -> None: replies whose needs depend on the previous turn.",
        "Personal-account intents (banking, credit cards, pto, payday, insurance, car telemetry, uber, reservations status) -> None: no module covers them.",
        "oos -> None: the out-of-scope class mixes every kind of need.",
    ),
)
