"""Arena-Hard-Auto v2.0: real Chatbot Arena (LMArena) user prompts, by category.

Repository: lmarena/arena-hard-auto at commit 196f6b826783b3da7310e361a805fa36f0be83f3.
Licence: Apache-2.0 (LICENSE at the repository root; the README states no other terms for
the question files). Paper: Li et al., "From Crowdsourced Data to High-Quality Benchmarks:
Arena-Hard and BenchBuilder Pipeline" (arXiv 2406.11939). The README: "V2.0 contains 500
fresh, challenging real-world user queries (open-ended software engineering problems, math
questions, etc) and 250 creative writing queries sourced from Chatbot Arena."

Read: data/arena-hard-v2.0/question.jsonl (750 prompts: `category` hard_prompt with
`subcategory` coding (253) or math (247), and `category` creative_writing (250)). Label = the
prompt's `subcategory`; text = the prompt, verbatim (single turn). Prompts over 2,000
characters are dropped by build.py (about a fifth of the coding prompts carry long code).

`lang`: the prompts are in many languages and the file has no language field. LANG below
gives the language of the request (the instruction, not the code or quoted text) for every
non-English prompt of 2,000 characters or less in the coding and creative_writing
subcategories, found with langdetect and then checked by reading each one; all others are
English. Cantonese (written Chinese) is tagged zh.

Every hard prompt is either `coding` or `math` in this file, so `coding` also holds the
non-maths hard prompts that are not programming at all (a cake recipe, a clean-room
validation protocol, an engine cooling design). EXCLUDED lists the coding prompts (of 2,000
characters or less) that, on reading, are not a request to write, fix, explain or run code,
or that clearly need another module as well (cloud/Kubernetes deployment, a diagram,
spreadsheet analysis); they get the label `coding:excluded` -> None. It removes items, it
never relabels them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "data/arena-hard-v2.0/question.jsonl"

# Non-English requests (reviewed); everything else is English.
LANG: dict[str, str] = {
    # coding
    "5e2a85bac39943aa": "zh", "852d9630dae84691": "fr", "b0a632d963754fb6": "ko", "c9e52cead8884178": "ja",
    "9bb42ecc6dff4ab4": "ja", "b2f3432de0184e38": "zh", "6f660574268f4633": "zh", "94968598fd4f48e2": "ko",
    "6dfd105291784461": "de", "5abfa0fb2f0c47f3": "ru", "e5e9107858bd49f6": "zh", "80a090fc23f945bd": "ru",
    "d15d693244994e87": "ko", "e9ecf61be4ca4af4": "ru", "6ed521eedc6944b3": "zh", "045a786b4e5d4ec6": "zh",
    "3a2d034dc1974396": "ru",
    # creative_writing
    "d657b1fb82b141da": "es", "87984e4e12a34adb": "zh", "4ddafb8ebf8c4ef6": "ru", "d4e34b025a264179": "ja",
    "ba03f38ff6104771": "zh", "e5e49adefcd44788": "vi", "7c5c7e98107f4a14": "el", "08ec88e5e88e4294": "zh",
    "0ff178fd6b034c0d": "ru", "4da9823cd5ed480e": "de", "56e8d9a8fb4e4cb0": "es", "c107068868114ae5": "es",
    "1402fb2f2f7649ec": "es", "934879a5b80a421b": "zh", "1b7592e9c8a346cf": "pt", "2b950dafa89f4eaa": "zh",
    "7277958bc3024c24": "th", "7b3eebbd145242e1": "ja", "fe98c7b5e7114fbd": "ru", "2251874a066b483e": "fr",
    "f86e8c99515846eb": "pl", "8fcada15601b4043": "ja", "ee759c90d0094561": "zh", "072dbe0269194687": "cs",
    "cfe6a977e8d744b7": "es", "8dd3d351c055455f": "zh", "d79dc091f8214898": "vi", "6ffb9d80859c4418": "ru",
    "489361ff917b4231": "zh", "91bced9012dd4289": "ru", "021305e5b1324f99": "es", "0951d9a616854f3a": "fr",
    "523cd13d9d364fbf": "ru", "16771bb5a47c49c3": "vi", "86e476fd58be4568": "fa", "ee2a1f9105654df7": "ko",
    "34078053e5f54a3e": "vi", "c932306ac779400c": "ru", "1e64dc4d3029422d": "it", "ecf41caf9dc74b29": "vi",
    "401c906cc3b8491e": "ru", "4990cc9783914d03": "ru", "8f10d9b6e420408b": "vi", "74f24da23e75422d": "ja",
    "216bae366c104d1b": "es", "5aa906ebd7554098": "zh", "62d4303c62af4c02": "fr", "d14e8c2502404e98": "zh",
    "fb7b37644f3d4fda": "zh", "4db7becba4cd4fe6": "zh", "c2f4c635e7594f1f": "ja", "d4d650ad27bb4847": "ja",
    "d61f684ce2b24b5b": "fr", "f272aa29771e44fb": "es", "0b45f387e528463a": "cs", "63db9fc8fd994d11": "vi",
    "435c49f5776c4ed8": "ru", "689564b93d9049ab": "ru", "a4c992a145ce4e02": "ko", "ccd3c6db5d634930": "ru",
    "10109f6f4c49405f": "pt", "f8f1280c553f4be3": "vi", "0f2f4361d6834881": "vi", "d0bb372215ef48ec": "ru",
    "8a3b968ac94b4249": "zh", "d83ec0680877455a": "ru", "72f30d4c8ac24306": "vi", "249a4c25f3354ea8": "vi",
    "921fd13846614afe": "zh", "65d4b02405424d91": "vi", "484474388f4e4061": "zh", "94357bddc26d4bd7": "zh",
    "24ff6a19ea344bf2": "de", "98529fe367fb47d9": "zh", "c3a64148fb3e40f8": "ja", "3083367b551e4f91": "ru",
    "b6afa96ec03d49db": "ru", "73ebd0a9eaef40ce": "zh", "9774b98dfabb47c2": "zh", "042351d2911d453b": "vi",
    "a7abb7a803ba4f32": "ru", "9001bbc9c1cf4470": "ru", "047bd685b30842f6": "fr", "aec01986c04d4e67": "he",
    "e413a58ea827401c": "ja", "91e91e0621e6493e": "ru", "972aff8377344e1d": "ja", "11dee97e1b4f4ea3": "zh",
    "cf18371f1a904558": "ru", "817d48d20c3e47ab": "ru", "f83b368d013a4d93": "ja", "6d0f1938277049e8": "ru",
    "74b91820cf12486c": "ru", "e6d740904f544d9c": "vi", "857915427cef455f": "sr", "b0b89ff253434f8d": "pt",
    "beee91df2a714ebd": "cs", "b7d1831c51c64c58": "zh", "ef4862e678b54f34": "es", "a5ec4809ff154cf4": "zh",
    "3054181920b84ba6": "ru", "be5bca31828c4fa5": "zh", "f52e75234c3348bb": "ja", "492a337be1a544c4": "ja",
    "c1bdfce6fc8844bb": "ru",
}

# Prompts whose subcategory does not give their need (reviewed; removed, never relabelled).
EXCLUDED: dict[str, str] = {
    # `coding`, but no code is asked for
    "22ed32babcd14390": "current-limiting circuit", "ba83143680144f8c": "storage cost estimate",
    "8d06d08f63e64e56": "invent a GAN", "f07bc8d6208141ef": "blog post", "3932b636daa347c6": "article as an HTML page",
    "17352f06b5144157": "regroup products", "b3bb3ad53ed24605": "invent a JSON dataset",
    "2b84db05365f488c": "harmonic progressions", "2da7e53308a547d6": "cake recipe",
    "b7f6a282c0474f72": "rover tyre cleaning procedure", "2565fce4228d4299": "chemistry experiment",
    "c57522c6e2ed40f9": "textbook discussion", "a0680c19d09544ce": "design an internship task",
    "b8b4c850b8774e69": "clean-room validation protocol", "908d8003ba3b4d4c": "pathogen questions",
    "16f3282e2e4d4ae9": "engine cooling design", "0275cb6eae1649c1": "colour-space maths",
    "e0a048f2163940d1": "sentiment-classification pitfalls", "ba1dc602c375417f": "literature review",
    "3929cfb4dc4745db": "OWASP guide outline", "9a02bcd7fe4049f1": "attrition-model insights",
    "c5068077dee74765": "circuit-breaker task", "2be36b723b084035": "number theory",
    "1d8f12ff297d4817": "maths puzzle", "dfc9be7c176d46bb": "rewrite an LLM prompt",
    "07d8ea70be2b4a17": "LaTeX document question",
    # spreadsheet / data analysis rather than code
    "32622f6addd443cb": "Excel sales forecast", "be9b90b3f850481f": "pasted CSV rows",
    "d4e6347e5ff74b99": "FIJI image processing", "236ecfda72434b55": "Power BI distinct count",
    # needs something else as well
    "6b4cac41845d4147": "Jira automation rule", "100ec9808f3b4185": "schema only at a URL",
    "2f1c0d2562684524": "Graphviz diagram",
    # cloud, containers, Kubernetes, servers: deployment as much as code
    "0253f09025cc40cd": "AWS architecture question", "a10d396f07574a4a": "home server services",
    "5722cc0b31c14484": "container set-up", "dc0e42632a784676": "Terraform ECS module",
    "e457fae4890745c8": "Kubernetes deployment", "fef51b7552294c5a": "Vault sidecar in Kubernetes",
    "bfdf93b4e65b4b0e": "Kubernetes namespace via Ansible", "80a090fc23f945bd": "Redis cluster administration",
    # `creative_writing`, but no instruction: a pasted passage only
    "8a3b968ac94b4249": "passage without a request",
}


def read(tree: GitTree) -> Iterator[Raw]:
    for number, line in enumerate(tree.read_text(PATH).split("\n"), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        uid = item["uid"]
        label = item["subcategory"] + (":excluded" if uid in EXCLUDED else "")
        yield Raw(label, item["prompt"], LANG.get(uid, "en"), f"{PATH}:{number}:{uid}")


MAPPING: dict[str, tuple[str, ...] | None] = {
    "coding": ("code_development",),
    "creative_writing": ("content_creation",),
    "math": None,
    "coding:excluded": None,
    "creative_writing:excluded": None,
}

SOURCE = Source(
    name="arenahard",
    repo="lmarena/arena-hard-auto",
    commit="196f6b826783b3da7310e361a805fa36f0be83f3",
    licence="Apache-2.0",
    description="Arena-Hard-Auto v2.0: real Chatbot Arena prompts, coding and creative writing (many languages)",
    read=read,
    mapping=MAPPING,
    max_per_label=200,
    max_per_target=200,
    notes=(
        "creative_writing -> content_creation: stories, poems, song lyrics, scripts, fan fiction, jokes, "
        "continuing or rewriting a given text; about half are not in English. A few are in-character "
        "role-play set-ups ('act as the character X', a tsundere system prompt) kept under the source's label.",
        "coding -> code_development: write, fix, explain, optimise or convert code, shell commands, SQL, "
        "regex. Requests for pandas/plotting code stay code_development only (the user asks for code, "
        "not for an analysis of their data).",
        "coding:excluded -> None: the file files every non-maths hard prompt under coding; 41 prompts "
        "(listed in EXCLUDED with a reason) that ask for no code, ask for spreadsheet analysis, or also "
        "need deployment (AWS, Kubernetes, Terraform, containers) were removed after reading.",
        "math -> None: mixes proofs and textbook problems (no tool) with competitive-programming tasks, "
        "numeric approximation that calls for running code, and live data ('if I had invested $100 a month "
        "in QQQ since January 2024').",
        "lang: LANG table, langdetect output checked by reading each prompt; the request's language counts, "
        "not that of code comments or quoted text (a Chinese instruction after English code is zh).",
        "The v0.1 set (500 prompts in 250 machine-named topic clusters) is not used: its cluster names are "
        "topics, not needs, and a cluster often mixes code with recipes or songs.",
    ),
)
