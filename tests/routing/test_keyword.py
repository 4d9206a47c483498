"""The keyword router: matching rules, requires, fallback, history, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_router import KeywordRouter, load_library
from prompt_router.normalize import clip, normalize
from prompt_router.triggers import inflections

from ..conftest import SMALL, write_library


def tools(library, query, **kwargs):
    return KeywordRouter(library, **kwargs).route(query).tool_modules


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Make a CHART of this", {"charts", "toolkit"}),
        ("charting revenue", {"charts", "toolkit"}),
        ("I charted it yesterday", {"charts", "toolkit"}),
        ("plotting the points", {"charts", "toolkit"}),
        ("a bar graph please", {"charts", "toolkit"}),
        ("deployed to prod", {"deploy", "toolkit"}),
        ("chart,deploy;", {"charts", "deploy", "toolkit"}),
        ("ｃｈａｒｔ (full width)", {"charts", "toolkit"}),
        ("📊chart📊", {"charts", "toolkit"}),
        ("I love ART", {"art"}),
        ("a cafe by the sea", {"art"}),
        ("un CAFÉ au lait", {"art"}),
        ("written in C++", {"deploy", "toolkit"}),
        ("analytics and analysis", {"deploy", "toolkit"}),
        ("let's go", {"deploy", "toolkit"}),
        ("upgrade to v2 now", {"deploy", "toolkit"}),
    ],
)
def test_trigger_matching(small_library, query, expected):
    assert set(tools(small_library, query)) == expected


@pytest.mark.parametrize(
    "query",
    ["let's start", "the smart party", "charter school", "c is fine", "going home", "v2x", "redeployment plans"],
)
def test_whole_words_only(small_library, query):
    # no `art` in start/smart/party, no `chart` in charter, `=go` is exact, regex needs a word.
    assert tools(small_library, query, fallback="core") == ()


def test_reasons_name_the_trigger_and_requirement(small_library):
    decision = KeywordRouter(small_library).route("please plot it")
    assert str(decision.reasons["charts"]) == "trigger 'plot'"
    assert str(decision.reasons["toolkit"]) == "required by charts"
    assert str(decision.reasons["identity"]) == "always sent"
    assert decision.matched_triggers == ("plot",)
    assert not decision.fallback


def test_requires_is_transitive(tmp_path):
    files = {**SMALL, "tools/a.md": "---\nrequires: [b]\ntriggers: [alpha]\n---\nA\n",
             "tools/b.md": "---\nrequires: [charts]\n---\nB\n"}
    library = load_library(write_library(tmp_path / "lib", files))
    decision = KeywordRouter(library).route("alpha")
    assert set(decision.tool_modules) == {"a", "b", "charts", "toolkit"}
    assert decision.reasons["charts"].kind == "required"


def test_canonical_order_not_match_order(small_library):
    decision = KeywordRouter(small_library).route("deploy then chart then art")
    assert decision.modules == ("identity", "rules", "toolkit", "art", "charts", "deploy", "format")


def test_fallback_modes(small_library):
    everything = KeywordRouter(small_library, fallback="all").route("hello there")
    assert everything.fallback and everything.modules == small_library.ids
    assert str(everything.reasons["charts"]).startswith("fallback")
    core = KeywordRouter(small_library, fallback="core").route("hello there")
    assert core.fallback and core.modules == ("identity", "rules", "format")


def test_history_keeps_modules_for_follow_ups(small_library):
    router = KeywordRouter(small_library, fallback="core")
    decision = router.route("ok, now do it for March", history=["load the data", "make a bar graph of revenue"])
    assert "charts" in decision.modules
    assert decision.reasons["charts"].kind == "history"
    # only the configured number of recent turns counts
    limited = KeywordRouter(small_library, fallback="core", history_turns=1)
    assert "charts" not in limited.route("ok", history=["plot it", "thanks"]).modules


@pytest.mark.parametrize(
    "query",
    ["", "   \n\t ", "\x00\x01\x1b[31mchart\x07", "\ud800chart\udfff", "(((chart[", ".*", "{{ chart }}", "{% raw %}"],
)
def test_hostile_input_never_raises(small_library, query):
    decision = KeywordRouter(small_library).route(query)
    assert decision.modules[0] == "identity"


def test_user_text_is_not_a_regex_or_template(small_library):
    # "re:" in user text is plain text; the query is never compiled
    assert tools(small_library, "re:.* {{ x }}", fallback="core") == ()


def test_every_trigger_at_once(bundled):
    words = " ".join(t.text for t in bundled.matcher.triggers if not t.text.startswith("re:"))
    decision = KeywordRouter(bundled).route(words)
    assert decision.modules == bundled.ids and not decision.fallback


def test_huge_query_is_clipped_head_and_tail(small_library):
    router = KeywordRouter(small_library, fallback="core", max_scan_chars=1000)
    middle = "chart " + "x" * 1_000_000
    assert "charts" in router.route(middle).modules  # head is scanned
    assert "charts" in router.route("x " * 500_000 + " chart").modules  # tail is scanned
    buried = "x " * 300_000 + " chart " + "x " * 300_000
    decision = router.route(buried)
    assert "charts" not in decision.modules
    assert "charts" in KeywordRouter(small_library, max_scan_chars=0).route(buried).modules


def test_clip_keeps_head_and_tail():
    assert clip("abcdefghij", 4) == "ab\nij"
    assert clip("short", 100) == "short"


def test_normalize_rules():
    assert normalize("Hello, WORLD!") == " hello world "
    assert normalize("read_csv() in C++ & C#") == " read csv in c++ c# "
    assert normalize("Ｆｕｌｌ　ｗｉｄｔｈ") == " full width "
    assert normalize("Crème brûlée") == " creme brulee "
    assert normalize("") == " "


def test_form_classes_match_one_way_and_deterministically():
    from prompt_router.triggers import form_classes

    table, classes = form_classes(["chart", "book", "booking", "new", "news"])
    assert table[b"charting"] == table[b"charts"] == table[b"chart"] == b"chart"
    assert classes["chart"] == (b"chart",)
    # `booking` is a form of `book` and a trigger word itself: a joint class both match
    assert table[b"booking"] == b"book|booking" and b"book|booking" in classes["book"]
    assert table[b"book"] not in classes["booking"]  # ... but `book` is not a form of `booking`
    assert table[b"new"] not in classes["news"] and table[b"news"] in classes["new"]
    assert form_classes(["news", "new", "booking", "book", "chart"]) == (table, classes)


@pytest.mark.parametrize("query, trigger, fires", [
    ("I love my new car", "news", False), ("any news today?", "news", True),
    ("I want to book a table", "booking", False), ("my booking is wrong", "booking", True),
    ("my team is great", "teams", False), ("post it in Teams", "teams", True),
    ("the trend is up", "trending", False), ("what's trending", "trending", True),
    ("book a flight", "book", True), ("she booked it", "book", True),
])
def test_inflections_match_one_way(tmp_path, query, trigger, fires):
    files = {**SMALL, "tools/probe.md": f"---\ntriggers: [{trigger}]\n---\nProbe.\n"}
    library = load_library(write_library(tmp_path / "lib", files))
    assert ("probe" in KeywordRouter(library, fallback="core").route(query).modules) is fires


def test_inflections():
    assert set(inflections("chart")) >= {"charts", "charted", "charting"}
    assert set(inflections("copy")) >= {"copies", "copied", "copying"}
    assert set(inflections("plot")) >= {"plotted", "plotting"}
    assert set(inflections("analyze")) >= {"analyzes", "analyzed", "analyzing"}
    assert inflections("go") == ("go",)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_routing_is_deterministic_and_total(query):
    library = _PROPERTY_LIBRARY
    a = KeywordRouter(library).route(query)
    b = KeywordRouter(library).route(query)
    assert a == b
    assert a.modules == library.canonical(a.modules)
    assert set(library.always_ids) <= set(a.modules)


_PROPERTY_LIBRARY = load_library(__import__("prompt_router").bundled_library_dir())


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_fast_path_equals_unicode_path(text):
    from prompt_router.normalize import _TOKEN, _fold_unicode, normalized_tokens

    assert _TOKEN.findall(_fold_unicode(text)) == normalize(text).split()
    assert normalized_tokens(text) == [t.encode() for t in normalize(text).split()]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_bytes_normalisation_matches_text_normalisation(text):
    from prompt_router.normalize import normalized_tokens

    assert normalized_tokens(text) == [t.encode("utf-8") for t in normalize(text).split()]


def _reference_match(library, text: str) -> list[int]:
    """Brute force: slide every trigger over the query's tokens, position by position; a
    query word matches an inflecting trigger word when it is one of that word's forms."""
    from prompt_router.normalize import normalized_tokens
    from prompt_router.triggers import compile_trigger

    raw = normalized_tokens(text)

    def is_form(token: bytes, word: bytes) -> bool:
        return token.decode() in inflections(word.decode())

    found = []
    for index, trigger in enumerate(library.matcher.triggers):
        spec = compile_trigger(trigger.text)
        words = [w.encode() for w in spec.words]
        n = len(words)
        if spec.kind == "regex":
            hit = spec.regex.search(normalize(text)) is not None
        elif spec.kind == "inflect":
            hit = any(len(raw[i : i + n]) == n and all(is_form(t, w) for t, w in zip(raw[i : i + n], words))
                      for i in range(len(raw)))
        elif spec.kind == "exact":
            hit = any(raw[i : i + n] == words for i in range(len(raw)))
        else:
            hit = any(
                len(raw[i : i + n]) == n and raw[i : i + n - 1] == words[:-1] and raw[i + n - 1].startswith(words[-1])
                for i in range(len(raw))
            )
        if hit:
            found.append(index)
    return found


_REF_FILES = {**SMALL, "tools/ml.md": "---\ntriggers: ['machine learn*', look up, sales report, 'net*', clean the data, 'the sales rep*', '=bar graph', '=clean data now', new, news, book, booking, team news]\n---\nML\n"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    ["chart", "charts", "plotting", "bar", "graphs", "graph", "deploy", "c++", "c", "analytics", "go", "going",
     "v2", "art", "café", "machine", "learning", "looking", "up", "sales", "reports", "net", "network", "the",
     "news", "new", "book", "booking", "bookings", "team", "teams",
     "ｃｈａｒｔ", ",", "!", "\n", "📊", "clean", "cleaning", "data", "rep", "report"]), max_size=14))
def test_matcher_agrees_with_brute_force_reference(tmp_path_factory, words):
    library = _ref_library(tmp_path_factory)
    text = " ".join(words)
    assert library.matcher.match(text) == _reference_match(library, text)


_REF_CACHE: dict = {}


def _ref_library(tmp_path_factory):
    if "lib" not in _REF_CACHE:
        _REF_CACHE["lib"] = load_library(write_library(tmp_path_factory.mktemp("ref"), _REF_FILES))
    return _REF_CACHE["lib"]


def test_phrase_and_prefix_phrase_matching(tmp_path):
    library = load_library(write_library(tmp_path / "lib", _REF_FILES))
    assert "ml" in KeywordRouter(library).route("I was looking up machine learning courses").modules
    assert "ml" in KeywordRouter(library).route("the SALES-REPORTS are due").modules
    assert "ml" not in KeywordRouter(library, fallback="core").route("learning machine up look").modules


GREETINGS = ["hello", "hi!", "hey there", "hi there", "good morning", "good evening!", "thanks", "thank you so much 🙏",
             "thanks, that's perfect", "ok", "okay cool", "cheers mate", "bye for now", "see you later", "lol",
             "great, thanks!", "who made you?", "what can you do?", "Hola, buenos días", "gracias", "Bonjour !",
             "merci beaucoup", "Danke schön", "grazie mille", "obrigado", "привет", "спасибо", "ありがとう", "你好", "谢谢"]


@pytest.mark.parametrize("router_kind", ["keyword", "hybrid"])
def test_greetings_and_thanks_never_fall_back(bundled, router_kind):
    from prompt_router import PromptRouter, RouterSettings

    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None, router=router_kind))
    for text in GREETINGS:
        decision = router.route(text)
        assert decision.no_tools and decision.small_talk and not decision.fallback, text
        assert decision.modules == bundled.always_ids, text


def test_small_talk_needs_every_word_to_be_small_talk_and_yields_to_the_thread(bundled):
    assert not bundled.is_small_talk("hi, what's the weather in Lisbon")
    assert not bundled.is_small_talk("thanks, now email it to the team")
    assert not bundled.is_small_talk("")
    assert not bundled.is_small_talk("thanks " * 20)  # long messages are not small talk
    router = KeywordRouter(bundled)
    assert router.route("thanks!", sticky={"data_processing"}).modules != bundled.always_ids  # the thread's module stays
    decision = router.route("thanks!", ["plot sales.csv by month"])  # a trigger in an earlier turn wins too
    assert "data_processing" in decision.modules and not decision.no_tools


def test_a_library_without_small_talk_words_has_none(small_library):
    assert not small_library.small_talk and not small_library.is_small_talk("hello")
    assert KeywordRouter(small_library).route("hello").fallback
