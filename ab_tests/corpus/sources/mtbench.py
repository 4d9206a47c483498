"""MT-bench and the Vicuna-80 questions: LMSYS's chat-assistant evaluation prompts, by category.

Repository: lm-sys/FastChat at commit 0e6d3e4beaab66f4d3f93db72541a4abab8af28d.
Licence: Apache-2.0 (LICENSE at the repository root; the question files are part of the
repository and carry no other licence). Paper: Zheng et al., "Judging LLM-as-a-judge with
MT-Bench and Chatbot Arena", NeurIPS 2023 Datasets and Benchmarks.

Read:
- fastchat/llm_judge/data/mt_bench/question.jsonl: 80 two-turn questions, 10 in each of the
  categories writing, roleplay, reasoning, math, coding, extraction, stem, humanities.
  Label = `mt_bench:` + the question's `category`.
- fastchat/llm_judge/data/vicuna_bench/question.jsonl: the 80 Vicuna blog questions
  (categories generic, knowledge, roleplay, common-sense, fermi, counterfactual, writing,
  coding, math). Label = `vicuna:` + `category`.
- fastchat/data/hardcoded_questions.py: the identity questions FastChat trains on ("Who are
  you?", "Who created you?", "Are you ChatGPT?"): the string lists assigned to `questions` in
  that file, read with `ast` (the file is not run). Label = `identity`.
Text = the first turn only (MT-bench's second turns refer to the first answer), verbatim.
English only. The questions were written by the benchmark authors, not collected from users.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

BENCHES = (
    ("mt_bench", "fastchat/llm_judge/data/mt_bench/question.jsonl"),
    ("vicuna", "fastchat/llm_judge/data/vicuna_bench/question.jsonl"),
)
IDENTITY = "fastchat/data/hardcoded_questions.py"


def _identity_questions(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.List)
                and any(isinstance(t, ast.Name) and t.id == "questions" for t in node.targets)):
            for element in node.value.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    yield element.value


def read(tree: GitTree) -> Iterator[Raw]:
    for prefix, path in BENCHES:
        for number, line in enumerate(tree.read_text(path).split("\n"), start=1):
            if line.strip():
                item = json.loads(line)
                yield Raw(f"{prefix}:{item['category']}", item["turns"][0], "en", f"{path}:{number}")
    for i, question in enumerate(_identity_questions(tree.read_text(IDENTITY))):
        yield Raw("identity", question, "en", f"{IDENTITY}[{i}]")


WRITE = ("content_creation",)
CODE = ("code_development",)
NONE: tuple[str, ...] = ()

MAPPING: dict[str, tuple[str, ...] | None] = {
    "mt_bench:writing": WRITE,
    "mt_bench:coding": CODE,
    "mt_bench:reasoning": NONE,
    "mt_bench:math": NONE,
    "mt_bench:stem": NONE,
    "mt_bench:humanities": NONE,
    "mt_bench:roleplay": None,
    "mt_bench:extraction": None,
    "vicuna:writing": WRITE,
    "vicuna:coding": CODE,
    "vicuna:generic": NONE,
    "vicuna:knowledge": NONE,
    "vicuna:common-sense": NONE,
    "vicuna:fermi": NONE,
    "vicuna:counterfactual": NONE,
    "vicuna:math": NONE,
    "vicuna:roleplay": None,
    "identity": NONE,
}

NOTES = (
    "writing -> content_creation: blog posts, stories, e-mails and letters drafted (not sent), a headline, "
    "an outline, proofreading a given paragraph.",
    "coding -> code_development: write/implement/debug a program or function.",
    "MT-bench reasoning, math, stem, humanities and Vicuna generic, knowledge, common-sense, fermi, "
    "counterfactual, math -> []: puzzles, short textbook maths (area of a triangle, f(2)), explanations, "
    "advice and estimates answered from memory. One humanities question asks for a lesson plan "
    "(arguably content_creation) and a few stem questions ask for a design description; kept at [].",
    "roleplay -> None: mostly persona chat answered without tools ('Pretend to be Elon Musk... why go to "
    "Mars?'), but some are writing or translation tasks (an English translator persona, a proof as a poem).",
    "MT-bench extraction -> None: pulls fields out of text pasted in the prompt and returns JSON/CSV; between "
    "no tool, content_creation and data_processing (stock-price records -> monthly highs as CSV).",
    "identity (FastChat's hard-coded 'Who are you?' / 'Who created you?' / 'Are you GPT-4?' questions) -> []: "
    "small talk about the assistant; capped at 20 (max_per_label) as the list is repetitive.",
)

SOURCE = Source(
    name="mtbench",
    repo="lm-sys/FastChat",
    commit="0e6d3e4beaab66f4d3f93db72541a4abab8af28d",
    licence="Apache-2.0",
    description="MT-bench and Vicuna-80 chat-assistant questions by category, plus FastChat's identity questions (English)",
    read=read,
    mapping=MAPPING,
    max_per_label=20,
    max_per_target=150,
    notes=NOTES,
)
