"""Berkeley Function-Calling Leaderboard (BFCL v4): user requests with gold function calls.

Repository: ShishirPatil/gorilla at commit 6ea57973c7a6097fd7c5915698c54c17c5b1b6c8.
Licence: Apache-2.0 (LICENSE at the repository root; berkeley-function-call-leaderboard/
bfcl_eval/data/README.md also declares `license: apache-2.0`).

Read (all under berkeley-function-call-leaderboard/bfcl_eval/data/):
- BFCL_v4_live_simple.json, BFCL_v4_live_multiple.json, BFCL_v4_live_parallel.json,
  BFCL_v4_live_parallel_multiple.json: the "live" requests, contributed by users of the
  leaderboard's public demo. Text = the last user message of the request, verbatim. Label =
  the sorted set of function names in the gold answer (possible_answer/<same file>), joined
  by "+". Requests whose gold functions all follow the Schema-Guided Dialogue naming
  (`Movies_3_FindMovies`, `Weather_1_GetWeather`, ...) come from SGD, which another source
  covers; they are pooled under the label `sgd_schema` and left out.
- BFCL_v4_multi_turn_base.json and _long_context: multi-turn sessions with simulated back-ends
  (the _miss_param/_miss_func variants are not read: their extra turns only supply a missing
  parameter, e.g. "The other file is 'Draft.txt'."). Each user turn is one text. Label = the
  sorted set of back-end classes (GorillaFileSystem, MessageAPI, TwitterAPI, ...) whose
  functions the gold answer
  (possible_answer/<same file>) calls in that turn, found through multi_turn_func_doc/*.json
  (each function name belongs to exactly one class there); turns with no gold call are skipped.
- BFCL_v4_web_search.json: multi-hop questions that need live web search (label `WebSearchAPI`,
  the session's involved class).

Language: decided by script (Hangul, kana, CJK, Thai, Devanagari...) and, for the few
Latin-script requests that are not English, by an explicit list of ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

DATA = "berkeley-function-call-leaderboard/bfcl_eval/data"
LIVE = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
MULTI_TURN = ("multi_turn_base", "multi_turn_long_context")
CLASS_FILES = {
    "gorilla_file_system": "GorillaFileSystem", "math_api": "MathAPI", "message_api": "MessageAPI",
    "posting_api": "TwitterAPI", "ticket_api": "TicketAPI", "trading_bot": "TradingBot",
    "travel_booking": "TravelAPI", "vehicle_control": "VehicleControlAPI", "web_search": "WebSearchAPI",
    "memory_kv": "MemoryAPI_kv",
}
SGD_NAME = re.compile(r"^[A-Z][A-Za-z]+_\d+_")
CALL_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\(")

# Items whose gold call does not match the request (a labelling slip in the source), or that
# are a prompt template rather than a request.
SKIP_IDS = {
    "live_simple_122-78-0",  # an image question answered with `process_data`
    "live_multiple_262-125-1",  # "turn it by 20 degree and freeze it to 40 degree celsius"
    "live_multiple_125-47-1",  # "QUERY: ... Functions to use: [...]": a prompt template, not a request
}
# Latin-script requests that are not English (non-Latin scripts are detected by script).
LATIN_LANG = {
    "live_simple_5-3-1": "pt",
    "live_parallel_3-0-3": "es",
}



def _lang(item_id: str, text: str) -> str:
    if item_id in LATIN_LANG:
        return LATIN_LANG[item_id]
    for pattern, lang in ((r"[\uac00-\ud7af]", "ko"), (r"[\u3040-\u30ff]", "ja"), (r"[\u4e00-\u9fff]", "zh"),
                          (r"[\u0e00-\u0e7f]", "th"), (r"[\u0900-\u097f]", "hi"), (r"[\u0400-\u04ff]", "ru"),
                          (r"[\u0600-\u06ff]", "ar")):
        if re.search(pattern, text):
            return lang
    return "en"


def _jsonl(tree: GitTree, path: str) -> list[dict]:
    return [json.loads(line) for line in tree.read_text(path).splitlines() if line.strip()]


def read(tree: GitTree) -> Iterator[Raw]:
    for category in LIVE:
        path = f"{DATA}/BFCL_v4_{category}.json"
        answers = {row["id"]: row for row in _jsonl(tree, f"{DATA}/possible_answer/BFCL_v4_{category}.json")}
        for row in _jsonl(tree, path):
            if row["id"] in SKIP_IDS or row["id"] not in answers:
                continue
            users = [turn["content"] for turn in row["question"][0] if turn["role"] == "user"]
            if not users:
                continue
            names = sorted({next(iter(call)) for call in answers[row["id"]]["ground_truth"]})
            label = "sgd_schema" if all(SGD_NAME.match(name) for name in names) else "+".join(names)
            yield Raw(label, users[-1], _lang(row["id"], users[-1]), f"{path}#{row['id']}")

    owner: dict[str, str] = {}
    for stem, cls in CLASS_FILES.items():
        for doc in _jsonl(tree, f"{DATA}/multi_turn_func_doc/{stem}.json"):
            owner[doc["name"]] = cls
    for category in MULTI_TURN:
        path = f"{DATA}/BFCL_v4_{category}.json"
        answers = {row["id"]: row for row in _jsonl(tree, f"{DATA}/possible_answer/BFCL_v4_{category}.json")}
        for row in _jsonl(tree, path):
            gold = answers.get(row["id"], {}).get("ground_truth", [])
            for number, (turn, calls) in enumerate(zip(row["question"], gold)):
                users = [message["content"] for message in turn if message["role"] == "user"]
                classes = sorted({owner[match.group(1)] for call in calls
                                  if (match := CALL_NAME.match(call)) and match.group(1) in owner})
                if users and classes:
                    yield Raw("+".join(classes), users[-1], _lang(row["id"], users[-1]), f"{path}#{row['id']}/turn{number}")

    path = f"{DATA}/BFCL_v4_web_search.json"
    for row in _jsonl(tree, path):
        users = [turn["content"] for turn in row["question"][0] if turn["role"] == "user"]
        if users:
            yield Raw("+".join(sorted(row["involved_classes"])), users[-1], _lang(row["id"], users[-1]), f"{path}#{row['id']}")


SEARCH = ("web_search",)
CODE = ("code_development",)
WORKFLOW = ("workflow",)
MAIL = ("communication",)
NONE: tuple[str, ...] = ()

LIVE_MAPPING: dict[str, tuple[str, ...]] = {
    # weather, news, prices, quotes, current facts, local look-ups -> web_search
    "get_current_weather": SEARCH, "fetch_weather_data": SEARCH, "open_meteo_api.fetch_weather_data": SEARCH,
    "weather.get": SEARCH, "temperature": SEARCH, "get_temperature": SEARCH, "get_weather_by_coordinates": SEARCH,
    "weather.forecast": SEARCH, "api.weather": SEARCH, "OpenWeatherMap.get_current_weather": SEARCH,
    "weather.get_weather": SEARCH, "weather.get_weather_data": SEARCH, "weather_forecast.get": SEARCH,
    "get_snow_report": SEARCH, "get_news_report": SEARCH, "HNA_NEWS.search": SEARCH,
    "get_current_weather+get_news_report": SEARCH, "duck_duck_go.search": SEARCH, "search_web_tool": SEARCH,
    "web_search": SEARCH, "stock_price.get": SEARCH, "get_latest_carbon_intensity": SEARCH,
    "GetPrimeMinisters": SEARCH, "get_movies": SEARCH, "flight.status.check": SEARCH,
    "get_tesco_locations": SEARCH, "get_shopping": SEARCH, "get_aws_pricing": SEARCH,
    "get_aws_pricing+get_gcp_pricing": SEARCH, "youtube.check_videos": SEARCH, "quarterly_earnings": SEARCH,
    "holdings.get_13F_HR": SEARCH, "fmp.income_statement": SEARCH,
    # shell commands and code
    "cmd_controller.execute": CODE,
    "get_relevant_classes+get_signature": CODE,
    "get_class_info+get_signature": CODE,
    "analyse_repo_contents+clone_repo+create_a_docker_file+create_kubernetes_yaml_file+push_git_changes_to_github":
        ("code_development", "deployment"),
    # Kubernetes
    "get_pods": ("deployment",),
    "get_services": ("deployment",),
    # files
    "list_files": ("file_operations",),
    "list_directory_contents": ("file_operations",),
    # to-do lists, alarms, reminders, countdowns
    "todo": WORKFLOW, "todo_add": WORKFLOW, "todo_delete": WORKFLOW, "todo_manager.handle_action": WORKFLOW,
    "todoIdx": WORKFLOW, "set_alarm": WORKFLOW, "set_countdown": WORKFLOW,
    # e-mail, messages, calendar events
    "send_email": MAIL, "calendar_event_create": MAIL, "reschedule": MAIL, "reschedule_event": MAIL,
    "EventQuery": MAIL, "greet_partner": MAIL, "recall_memory_search+send_message": MAIL,
    # writing and translation
    "language_translator.translate": ("content_creation",),
    "english_llm": ("content_creation",),
    # images
    "generate_human_image": ("image_generation",),
    "rotateImageAction": ("image_generation",),
    "flipImageAction+rotateImageAction": ("image_generation",),
    "generate_image+search_engine.query": ("image_generation", "web_search"),
    # data
    "process_data": ("data_processing",),
    "generate_chart": ("data_processing",),
    # booking on a site
    "book_flight": ("browser",),
    "hotel_booking_book": ("browser",),
    "find_flights": ("browser",),
    # answered from memory: arithmetic, recipes, advice, suggestions
    "multiply": NONE, "add": NONE, "sub": NONE, "sum": NONE, "calculate_sum": NONE, "sum_numbers": NONE,
    "CalcProduct": NONE, "math_gcd": NONE, "estimate_derivative+math_gcd": NONE,
    "cookbook.search_recipe": NONE, "search_advice": NONE, "get_activity_by_participants": NONE,
}

# Every other gold function (set) seen in the live files: custom back-ends (enterprise APIs,
# food/ride ordering apps, IoT, music, sensors, HR records, ...) or requests that mix needs.
LEFT_OUT_FUNCTIONS = (
    "AclApi.add_mapping", "ApplicationAnalyzeApi.get_trace_download",
    "BadgeApi.get_project_policy_violations_badge1", "BankStatementOverView", "ChaDri.change_drink",
    "ChaDri.change_drink+ChaFod", "ChaFod", "ControlAppliance.execute",
    "ControlAppliance.execute+HNA_WQA.search+OpenWeatherMap.get_current_weather",
    "CustomDashboardsApi.get_custom_dashboards", "CustomDashboardsApi.get_shareable_api_tokens",
    "EventSettingsApi.get_event_specification_infos_by_ids",
    "EventSettingsApi.restore_mobile_app_alert_config", "GET_PARCEL_STATE", "HNA_WQA.search",
    "InfrastructureResourcesApi.software_versions",
    "MaintenanceConfigurationApi.get_maintenance_config", "Subdomain",
    "SyntheticSettingsApi.get_synthetic_locations", "ThinQ_Connect",
    "acl_api.AclApi.retrieve_projects", "acl_api.add_mapping", "add_mtnards_server",
    "add_postgres_server", "add_service_config", "adriel_contact",
    "adriel_experiences_and_education", "adriel_list_projects", "adriel_tech_stack",
    "analysis_api.AnalysisApi.retrieve_analysis", "analyze_image_with_question.pipeline",
    "answer.string", "answer_question", "api_name.get_weather_forecast",
    "api_token_api.APITokenApi.get_api_tokens", "askForSSID",
    "audit_log_api.AuditLogApi.get_access_logs", "aws.lexv2_models.list_exports",
    "badge_api.BadgeApi.get_project_policy_violations_badge",
    "badge_api.BadgeApi.get_project_vulnerabilities_badge", "calculate_dynamic_pricing",
    "calculate_tax", "change_food", "chat_with_friend", "classify", "close_project",
    "concat_strings", "connectBluetooth", "connect_to_server", "contact",
    "create_global_application_alert_config", "create_workspace", "dartfx_help",
    "delete_apdex_configuration", "detail_adriel_project", "detail_experience_and_education",
    "detail_project", "detect_beats_and_filter", "duck_duck_go", "events_api.EventsApi.get_event",
    "events_api.EventsApi.kubernetes_info_events", "experiences_and_education",
    "extract_parameters_v1", "extractor.extract_information", "fetchPerson", "find_beer",
    "find_infra_alert_config_versions", "finish", "game_rewards.get", "getCurrentTime",
    "getCurrentTime+sum", "getDataForProfessional", "get_adriel_detail_experience_and_education",
    "get_adriel_list_projects", "get_adriel_profile", "get_adriel_projects",
    "get_adriel_tech_stack", "get_apdex_report", "get_area_of_square+get_current_weather",
    "get_contact_information", "get_coordinates_from_city", "get_copyright_info", "get_current_loc",
    "get_custom_dashboard", "get_detail_adriel_project", "get_detail_adriel_projects",
    "get_headway", "get_hosts_per_month", "get_identity_provider_patch", "get_interviewer_list",
    "get_items", "get_monitoring_state", "get_product_details", "get_sensor_alerts",
    "get_sensor_readings_history", "get_sensor_readings_history_by_interval",
    "get_sensor_readings_latest", "get_service_id", "get_service_providers",
    "get_synthetic_credential_names", "get_synthetic_locations", "get_tech_stack", "get_tickets",
    "get_time_to_collision", "get_trip", "get_user_info", "get_website_geo_mapping_rules",
    "get_websites", "github_star", "handover_to_agent", "handover_to_human_agent",
    "health_api.HealthApi.get_version", "host_agent_api.HostAgentApi.get_agent_snapshot",
    "host_agent_api.get_agent_snapshot", "interior_design_analysis.generate_report",
    "interviewer_review.get", "inventory.restock_check", "inventory_management", "list_projects",
    "list_servers", "log_food", "multilingual_llm", "my_core_function",
    "obtener_cotizacion_de_creditos", "open_project", "order_processing.handle_order",
    "order_status_check", "oven_preheat", "parseAnswer", "partner.mandates", "partner.sips",
    "pipeline", "play_artist", "play_song", "play_spotify_song", "product_search",
    "project_api.ProjectApi.get_children_projects_by_tag",
    "project_api.ProjectApi.get_project_by_name_and_version", "raptor.mpn.specs",
    "recall_memory_search", "record", "releases_api.ReleasesApi.delete_release",
    "reminders_complete", "render_ui_date_picker_widget", "requests.get",
    "restore_mobile_app_alert_config", "reverse_input", "review_of_interviewer",
    "search_engine.query", "search_hotels", "search_products", "segment", "sendHttpRequest",
    "set_float", "set_integer", "set_point", "set_volume", "sitefinity_create_contentitem",
    "software_versions", "sort_array", "sort_list", "telemetry.flowrules.interfaceInfo.get",
    "text_to_speech.convert", "transfer_to_human_agent", "tts_tool", "uber.eat.order", "uber.ride",
    "update_user_profile", "usage_api.UsageApi.get_hosts_per_day", "user.mandates",
    "version_api.VersionApi.get_version", "vex_api.VexApi.export_project_as_cyclone_dx1",
    "view_service_provider_profile",
    "website_configuration_api.WebsiteConfigurationApi.rename_website",
    "website_configuration_api.get_websites",
)

MULTI_TURN_MAPPING: dict[str, tuple[str, ...] | None] = {
    "GorillaFileSystem": ("file_operations",),
    "MessageAPI": ("communication",),
    "GorillaFileSystem+MessageAPI": ("communication", "file_operations"),
    "GorillaFileSystem+MathAPI": ("data_processing", "file_operations"),
    "WebSearchAPI": ("web_search",),
}
# Every other class set: social posting (TwitterAPI), support tickets, trading, travel booking
# back-end, car control, and the math back-end (arithmetic vs data analysis is unclear).
LEFT_OUT_CLASSES = (
    "MathAPI", "TicketAPI", "TradingBot", "TravelAPI", "TwitterAPI", "VehicleControlAPI",
    "GorillaFileSystem+TicketAPI", "GorillaFileSystem+TwitterAPI",
    "GorillaFileSystem+TravelAPI", "GorillaFileSystem+TradingBot", "GorillaFileSystem+VehicleControlAPI",
    "MathAPI+MessageAPI", "MathAPI+TicketAPI", "MathAPI+TradingBot", "MathAPI+TravelAPI", "MathAPI+TwitterAPI",
    "MathAPI+VehicleControlAPI", "MessageAPI+TicketAPI", "MessageAPI+TradingBot", "MessageAPI+TravelAPI",
    "MessageAPI+TwitterAPI", "MessageAPI+VehicleControlAPI", "TicketAPI+TradingBot", "TicketAPI+TravelAPI",
    "TicketAPI+TwitterAPI", "TicketAPI+VehicleControlAPI", "TradingBot+TravelAPI", "TradingBot+TwitterAPI",
    "TradingBot+VehicleControlAPI", "TravelAPI+TwitterAPI", "TravelAPI+VehicleControlAPI",
    "TwitterAPI+VehicleControlAPI",
)

MAPPING: dict[str, tuple[str, ...] | None] = {
    "sgd_schema": None,
    **dict.fromkeys(LEFT_OUT_FUNCTIONS),
    **LIVE_MAPPING,
    **dict.fromkeys(LEFT_OUT_CLASSES),
    **MULTI_TURN_MAPPING,
}

SOURCE = Source(
    name="bfcl",
    repo="ShishirPatil/gorilla",
    commit="6ea57973c7a6097fd7c5915698c54c17c5b1b6c8",
    licence="Apache-2.0",
    description="Berkeley Function-Calling Leaderboard v4: live user requests, multi-turn file/message sessions, web-search questions",
    read=read,
    mapping=MAPPING,
    max_per_label=80,
    max_per_target=150,
    notes=(
        "Live requests: label = gold function name(s); ~75 clearly-purposed functions are mapped, the "
        "other ~175 (custom enterprise APIs, food/ride ordering, IoT, music, sensors) -> None.",
        "SGD-style functions (Movies_3_FindMovies...) -> None: SGD is another source's; avoids overlap.",
        "cmd_controller.execute (Windows shell commands: 'list c drive', 'kill vs code using taskkill') -> "
        "code_development (shell commands).",
        "get_pods / get_services (Kubernetes namespace listings) -> deployment.",
        "flight.status.check, get_movies (showtimes), get_tesco_locations, get_shopping (current price), "
        "AWS/GCP pricing, SEC filings/income statements -> web_search (live facts).",
        "book_flight, hotel_booking_book, find_flights ('find flights and assist with booking') -> browser.",
        "reschedule / reschedule_event / EventQuery ('When is my gym session?') -> communication (calendar).",
        "set_alarm / set_countdown / todo* -> workflow.",
        "rotate/flip image -> image_generation (photo edits).",
        "cookbook.search_recipe, search_advice, get_activity_by_participants -> no tools (advice, recipes).",
        "Multi-turn: label = back-end classes the gold answer calls in that turn; GorillaFileSystem -> "
        "file_operations (cd/ls/mv/grep/sort/diff on workspace files), MessageAPI -> communication, both -> "
        "both. Turns may refer to earlier turns ('Finally, show the last 20 lines the file.').",
        "Multi-turn GorillaFileSystem+MathAPI ('Look at the student_record.txt and tell me the average score') -> "
        "file_operations + data_processing; MathAPI alone (means/logs of numbers given in the chat) -> None.",
        "Multi-turn TwitterAPI (posting), TicketAPI, TradingBot, TravelAPI, VehicleControlAPI -> None.",
        "Two live items whose gold call does not match the request are skipped (SKIP_IDS).",
    ),
)
