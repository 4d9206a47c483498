"""Self-Instruct: the human-written seed tasks and the user-oriented evaluation instructions.

Repository: yizhongw/self-instruct at commit 0b26ccaa415992100fa32df62d41b994cf928e23.
Licence: Apache-2.0 (LICENSE at the repository root; the data files are part of the
repository). The 82K machine-generated instructions are over the snapshot's size limit and
are not used.

Read:
- data/seed_tasks.jsonl: 175 tasks written by the authors. Label = the task's `name`
  (e.g. `story_composition`, `python_code_generation`, `movie_recommendation`).
- human_eval/user_oriented_instructions.jsonl: 252 instructions written by the authors
  for real apps. Label = `app:` + the task's `motivation_app` (e.g. `app:Grammarly`).
Text = the task's `instruction`, verbatim; when its first instance has an `input`, the input
is appended after a newline (the request is meaningless without it), and tasks whose input is
longer than 600 characters are skipped (long context, not a request).

Only names/apps whose requests share one clear need are mapped; the rest are None. Text
classification and NLP-annotation seed tasks (spam, sentiment, POS tags, ...) are left out:
they are benchmark tasks rather than requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

MAX_INPUT = 600



def _text(task: dict) -> str | None:
    instances = task.get("instances") or [{}]
    extra = (instances[0].get("input") or "").strip()
    if len(extra) > MAX_INPUT:
        return None
    return task["instruction"].strip() + ("\n" + extra if extra else "")


def read(tree: GitTree) -> Iterator[Raw]:
    path = "data/seed_tasks.jsonl"
    for number, line in enumerate(tree.read_text(path).splitlines(), start=1):
        if line.strip():
            task = json.loads(line)
            if (text := _text(task)) is not None:
                yield Raw(task["name"], text, "en", f"{path}:{number}")
    path = "human_eval/user_oriented_instructions.jsonl"
    for number, line in enumerate(tree.read_text(path).splitlines(), start=1):
        if line.strip():
            task = json.loads(line)
            if (text := _text(task)) is not None:
                yield Raw("app:" + task["motivation_app"], text, "en", f"{path}:{number}")


WRITE = ("content_creation",)
CODE = ("code_development",)
NONE: tuple[str, ...] = ()

SEED_MAPPING: dict[str, tuple[str, ...] | None] = {
    # writing, rewriting, summarising, translating a given text
    "email_subject_generation": WRITE, "english_haiku_generation": WRITE, "horror_movie_opening": WRITE,
    "story_composition": WRITE, "fact_to_conversation": WRITE, "three_sentence_story": WRITE,
    "paper_summarization": WRITE, "cover_letter": WRITE, "product_description_generation": WRITE,
    "plain_to_professional": WRITE, "paraphrase_a_paragraph": WRITE, "writing_article_from_outline": WRITE,
    "recommendation_letter": WRITE, "summarize_email": WRITE, "english_to_chinese_translation": WRITE,
    "dialect_translation": WRITE, "refuse_invitation_email": WRITE, "negative_blender_review": WRITE,
    "paper_title_generation": WRITE, "datatuner_example": WRITE, "complete_paragraph": WRITE,
    "complete_the_lyrics": WRITE, "grammar_error_correction": WRITE, "correct_misspelling": WRITE,
    "learn_to_hedge": WRITE, "gender_neutral_rewriting": WRITE, "better_word_choice": WRITE,
    "summarizing_news": WRITE,
    # code
    "write_comments_in_python": CODE, "complete_python_code": CODE, "code_todo": CODE,
    "regular_expression_generation": CODE, "text_to_sql": CODE, "python_code_generation": CODE,
    "python_sorting": CODE, "code_for_bitcoin_price": CODE, "program_for_summation": CODE,
    "javascript_date_and_time": CODE, "python_leetcode": CODE, "code_syntax_error": CODE,
    # answered from memory: advice, suggestions, explanations, jokes, simple maths
    "breakfast_suggestion": NONE, "new_year's_resolutions": NONE, "idiom_meaning": NONE,
    "movie_recommendation": NONE, "game_suggestion": NONE, "grocery_list": NONE, "explain_behavior": NONE,
    "birthday_planning_checklist": NONE, "fun_math_question": NONE, "cooking_recipe": NONE,
    "school_lunches": NONE, "perfect_numbers": NONE, "snack_suggestion": NONE, "exercise_explanation": NONE,
    "suggestion_for_breaking_up": NONE, "solving_equation": NONE, "synonym_generation": NONE,
    "plan_a_trip": NONE, "math_word_problem_with_reasoning": NONE, "unethical_behavior_at_workplace": NONE,
    "metaphor_for_a_situation": NONE, "pre-run_warmup": NONE, "joke_about_phd": NONE,
    "harry_potter_spells": NONE, "measurement_conversion": NONE, "word_definition": NONE,
    "knock_knock_joke": NONE, "food_and_drink_collocations": NONE, "coach_planning": NONE,
    "recipe_by_ingredient": NONE, "part-time_job_pros_and_cons": NONE, "new_ice_cream": NONE,
    "start_conversation": NONE, "city_todo_list": NONE, "movie_ending": NONE, "question-answer_jokes": NONE,
    "meaning_to_phrase": NONE, "dad_joke_intensified": NONE, "explain_natural_phenomenon": NONE,
    "brainstorming_method_explanation": NONE, "science_cannot_explain": NONE, "explain_like_i_am_5": NONE,
    "color_explanation": NONE, "workout_motivation": NONE, "reduce_unconscious_bias": NONE,
    "cocktails": NONE, "de-stress_list": NONE, "reducing_belly_fat_exercises": NONE,
    "sports_coach_qualifications": NONE, "temperature_conversion": NONE, "solve_equation_system": NONE,
    "national_dishes": NONE, "proverbs": NONE, "question_answering_with_template": NONE,
    "analogy_completion": NONE, "antonym_relation": NONE, "interview_question_answering": NONE,
    "explain_without-background": NONE, "find_subset_of_numbers_with_target_sum": NONE,
    "food_and_cooking_survey": NONE, "question_answering": NONE, "chat_response": NONE,
    "funny_interview_question": NONE, "what_time_to_use_humor": NONE, "chess_puzzle": NONE,
    "behavioral_interview": NONE, "solving_math_problem": NONE, "word_math_with_algebra": NONE,
    "plan_syllabus": NONE, "ascending_sorting": NONE, "largest_number": NONE,
}
SEED_LEFT_OUT = (
    # NLP annotation / classification benchmark tasks, or needs that depend on live facts or data
    "one_sentence_description", "harmful_stereotype_example", "dependency_parsing",
    "question_answering_generation_from_facts", "medicine_suggestion", "entity_linking_to_wikipedia",
    "biased_question", "religion_adjectives", "extract_country_names", "add_to_the_list",
    "word_location_in_text", "explain_social_stereotypes_of_professions.", "sentence_with_specified_ending",
    "htlm_task", "fill_in_the_mask", "finding_toxic_words", "counterstereotype_fill-in-the-blank",
    "anonymizing_human_names", "numerical_question_answering", "place_extraction", "monthly_budget",
    "fact_verification", "bias_identification", "decline_a_job_offer_email", "why’s_it_not_funny",
    "ner_fill-in-the-blank", "positive_stereotype", "address", "privacy_task", "travel_budget",
    "gender_bias_identification", "population_table_generation", "ethical_dilemma", "fill_in_the_blank",
    "sentence_pos_tagging", "sue_or_not", "ask_for_law", "university_ranking", "rank_countries_by_population",
    "pos_tag_for_word", "stereotype_explanation", "paraphrasing_classification", "toxic_sentence_detection",
    "ethicality_judgement", "job_suitableness", "passive-aggressiveness_identification", "syllogism",
    "topic_classification", "sentence_sentiment", "user_intent_identification", "multipe_choice_qa",
    "most_relevant_passage", "oldest_person", "spam_classification", "promotion_identification",
    "support_classification", "news_impact_on_stock", "news_categories_multi_labels", "longest_sentence",
    "dialogue_satisfaction", "hate_speech_detection", "democrats_or_republicans", "fact_checking",
)

APP_MAPPING: dict[str, tuple[str, ...] | None] = {
    # writing apps and social-media copy
    "app:Grammarly": WRITE, "app:Blogger": WRITE, "app:you.com (YouWrite)": WRITE, "app:Instagram": WRITE,
    "app:YouTube": WRITE, "app:Facebook": WRITE, "app:sth related to real estate?": WRITE,
    # coding references
    "app:GeeksforGeeks": CODE, "app:w3schools": CODE,
    # answered from memory
    "app:merriam-webster.com": NONE, "app:Tasty": NONE, "app:Workout": NONE, "app:Wysa": NONE,
    "app:Wolfram alpha": NONE, "app:Weather": NONE, "app:Goodreads": NONE,
}
APP_LEFT_OUT = (
    "app:(Wolfram alpha)?", "app:Airbnb", "app:Amazon", "app:CNN News", "app:Coursera", "app:Doulingo",
    "app:ESPN", "app:Explainpaper", "app:Github", "app:Gmail", "app:Google Calendar", "app:Google Docs",
    "app:Google Map", "app:Google Meet", "app:Google Scholar", "app:Google Search", "app:Google Sheet",
    "app:Google Sheets", "app:IMDB", "app:Indeed", "app:Jira", "app:Leetcode", "app:LinkedIn", "app:MS Excel",
    "app:MS Powerpoint", "app:MS Word", "app:Markdown", "app:Meetup", "app:Messenger", "app:National Geographic",
    "app:Netflix", "app:Notion", "app:Overleaf", "app:Play Store", "app:Quora", "app:Reddit", "app:Redfin",
    "app:Scribd", "app:Semantic Scholar", "app:Socratic by Google", "app:Spotify", "app:StackOverflow",
    "app:Strava", "app:Sudoku", "app:Telegram", "app:Twitter", "app:Wikipedia", "app:Wordle", "app:Yelp",
    "app:https://abcnotation.com/", "app:https://cohere.ai/", "app:instructables", "app:ludwig.guru",
    "app:tripadvisor.com", "app:yelp",
)

MAPPING: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(SEED_LEFT_OUT),
    **SEED_MAPPING,
    **dict.fromkeys(APP_LEFT_OUT),
    **APP_MAPPING,
}

SOURCE = Source(
    name="selfinstruct",
    repo="yizhongw/self-instruct",
    commit="0b26ccaa415992100fa32df62d41b994cf928e23",
    licence="Apache-2.0",
    description="Self-Instruct: human-written seed tasks and app-motivated instructions (writing, code, advice)",
    read=read,
    mapping=MAPPING,
    max_per_label=20,
    max_per_target=150,
    notes=(
        "Seed tasks: label = task name, one task per label; the mapping is a per-name review "
        "(writing/rewriting/translation -> content_creation, code -> code_development, advice, "
        "explanations, jokes, recipes and simple maths -> no tools).",
        "Jokes (knock_knock_joke, dad_joke_intensified...) -> no tools, as the guide puts jokes under small talk.",
        "refuse_invitation_email / summarize_email -> content_creation (a reply is drafted, not sent); "
        "decline_a_job_offer_email ('by sending an email') -> None (draft vs send unclear).",
        "text_to_sql -> code_development (SQL written as code).",
        "plan_a_trip ('a 7-day trip to Seattle') -> no tools: a plan from memory; a reviewer may prefer web_search.",
        "User-oriented instructions: label = motivation app; only apps whose instructions share one need "
        "are mapped (Grammarly, Blogger, Instagram, YouTube... -> content_creation; GeeksforGeeks, w3schools "
        "-> code_development; merriam-webster, Tasty, Workout, Wysa, Wolfram alpha, Weather (activity tips "
        "for a given weather, not forecasts), Goodreads -> no tools).",
        "Gmail (email drafts mixed with spam classification), Amazon, Netflix, IMDB, StackOverflow, Leetcode, "
        "MS Excel and the other mixed apps -> None.",
    ),
)
