"""Loading: the bundled library's shape, and every way a library can be broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prompt_router import LibraryError, PromptBuilder, TokenCounter, bundled_library_dir, load_library

from ..conftest import DATE, SMALL, write_library

REQUIRED_IDS = {
    "core": {"identity", "workspace", "critical_rules"},
    "tools": {
        "toolkit", "web_search", "browser", "file_operations", "code_development", "data_processing",
        "content_creation", "workflow", "image_generation", "deployment", "communication",
    },
    "response": {"format"},
}


def test_bundled_library_has_the_required_modules(bundled):
    for group, ids in REQUIRED_IDS.items():
        assert {m.id for m in bundled.group(group)} == ids


def test_bundled_library_meets_its_size_rules(bundled):
    builder = PromptBuilder(bundled, TokenCounter())
    full = builder.full(DATE)
    always = sum(builder.module_tokens(m, DATE) for m in bundled.always_ids)
    tool_sizes = [builder.module_tokens(m, DATE) for m in bundled.tool_ids]
    assert full.tokens >= 8000
    assert always <= 0.30 * full.tokens
    assert len(set(tool_sizes)) == len(tool_sizes)  # differing sizes
    assert max(tool_sizes) >= 2 * min(tool_sizes)
    # every tool except the shared toolkit requires toolkit and has triggers
    for module in bundled.group("tools"):
        if module.id != "toolkit":
            assert "toolkit" in module.requires and module.triggers, module.id


def test_modules_are_in_canonical_order(small_library):
    assert small_library.ids == ("identity", "rules", "toolkit", "art", "charts", "deploy", "format")


def test_version_is_a_content_hash(tmp_path):
    a = load_library(write_library(tmp_path / "a", SMALL))
    b = load_library(write_library(tmp_path / "b", SMALL))
    assert a.version == b.version
    (tmp_path / "b" / "tools" / "art.md").write_text("---\ntriggers: [art]\n---\nArt guidance, edited.\n")
    assert load_library(tmp_path / "b").version != a.version


def _problems(root: Path) -> list[str]:
    with pytest.raises(LibraryError) as info:
        load_library(root)
    return [str(p) for p in info.value.problems]


def _broken(tmp_path: Path, changes: dict[str, str]) -> Path:
    files = dict(SMALL)
    for rel, text in changes.items():
        rel = rel.replace("__", "/")
        if text is None:
            files.pop(rel, None)
        else:
            files[rel] = text
    return write_library(tmp_path / "lib", files)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"tools__empty.md": "---\ntriggers: [x1]\n---\n   \n"}, "empty.md:4: module is empty"),
        ({"tools__bad.md": "---\ntriggers: [a, b\n---\nText\n"}, "bad.md:2: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence started at line 2)"),
        ({"tools__bad.md": "---\ntrigers: [a]\n---\nText\n"}, "bad.md:2: trigers: unknown key"),
        ({"tools__bad.md": "---\ntriggers: [a]\nunclosed\nText\n"}, "bad.md:1: front matter starts with '---' but is never closed"),
        ({"tools__bad.md": "---\n- a\n- b\n---\nText\n"}, "bad.md:2: must be a mapping"),
        ({"tools__bad.md": "---\norder: first\n---\nText\n"}, "bad.md:2: order: must be an integer"),
        ({"tools__bad.md": "---\ntriggers: [ok, {a: 1}]\n---\nText\n"}, "bad.md:2: triggers: must be a list of strings"),
        ({"tools__bad.md": "---\nrequires: [nope]\n---\nText\n"}, "bad.md:2: requires: requires unknown module 'nope'"),
        ({"tools__bad.md": "---\nrequires: [identity]\n---\nText\n"}, "requires 'identity', a core module"),
        ({"tools__bad.md": "---\ntriggers:\n  - fine\n  - ''\n---\nText\n"}, "bad.md:4: triggers: empty trigger"),
        ({"tools__bad.md": "---\ntriggers:\n  - 're:(unclosed'\n---\nText\n"}, "bad.md:3: triggers: invalid regular expression"),
        ({"tools__bad.md": "---\ntriggers: ['re:x*']\n---\nText\n"}, "matches empty text"),
        ({"tools__bad.md": "---\ntriggers: ['!!!']\n---\nText\n"}, "has no letters or digits"),
        ({"tools__bad.md": "---\ntriggers: [a*]\n---\nText\n"}, "shorter than 3 characters"),
        ({"tools__bad.md": "---\ntriggers: [x]\n---\nLine one\n{% if %}\n"}, "bad.md:5: template syntax error"),
        ({"tools__bad.md": "---\ntriggers: [x]\n---\nHi\nToday is {{ today }}.\n"}, "bad.md:5: template variable 'today' is not declared"),
        ({"tools__bad.md": "---\ntriggers: [x]\n---\n{{ 1 / 0 }}\n"}, "template fails to render"),
        ({"core__bad.md": "---\ntriggers: [x]\n---\nText\n"}, "only tool modules can have triggers"),
        ({"tools__Bad-Name.md": "Text\n"}, "module id 'Bad-Name' must be lower-case"),
        ({"tools__notes.txt": "Text\n"}, "notes.txt: unexpected entry: modules are .md files"),
        ({"response__identity.md": "Dup\n"}, "duplicate module id 'identity'"),
    ],
)
def test_broken_library_names_file_line_and_field(tmp_path, change, expected):
    problems = _problems(_broken(tmp_path, change))
    assert any(expected in p for p in problems), problems


def test_requires_cycle_is_reported_with_its_path(tmp_path):
    root = _broken(tmp_path, {
        "tools/a.md": "---\nrequires: [b]\n---\nA\n",
        "tools/b.md": "---\nrequires: [c]\n---\nB\n",
        "tools/c.md": "---\nrequires: [a]\n---\nC\n",
    })
    problems = _problems(root)
    assert any("cycle: a -> b -> c -> a" in p for p in problems), problems


def test_missing_group_folder(tmp_path):
    root = write_library(tmp_path / "lib", SMALL)
    shutil.rmtree(root / "response")
    assert any("missing group folder 'response/'" in p for p in _problems(root))


def test_unknown_folder_and_bad_library_yaml(tmp_path):
    root = write_library(tmp_path / "lib", SMALL, library_yaml="fallback: sometimes\ncolour: blue\n")
    (root / "tool").mkdir()
    problems = _problems(root)
    assert any("library.yaml:1: fallback: must be 'all'" in p for p in problems)
    assert any("library.yaml:2: colour: unknown key" in p for p in problems)
    assert any("tool: unexpected folder" in p for p in problems)


def test_invalid_utf8_and_nonexistent_dir(tmp_path):
    root = write_library(tmp_path / "lib", SMALL)
    (root / "tools" / "latin.md").write_bytes(b"caf\xe9\n")
    assert any("latin.md:1: not valid UTF-8 (byte 3)" in p for p in _problems(root))
    assert any("does not exist" in p for p in _problems(tmp_path / "missing"))


def test_all_problems_reported_together_and_nothing_half_loads(tmp_path):
    root = _broken(tmp_path, {
        "tools/one.md": "---\ntrigers: [a]\n---\nText\n",
        "tools/two.md": "---\nrequires: [ghost]\n---\nText\n",
    })
    with pytest.raises(LibraryError) as info:
        load_library(root)
    text = str(info.value)
    assert "one.md" in text and "2 problems" in text


def test_ignored_files_and_crlf(tmp_path):
    root = write_library(tmp_path / "lib", SMALL)
    (root / "tools" / "_draft.md").write_text("not loaded")
    (root / "tools" / ".DS_Store").write_bytes(b"\0\1")
    (root / "tools" / "win.md").write_bytes(b"---\r\ntriggers: [windows]\r\n---\r\nLine\r\n")
    library = load_library(root)
    assert "_draft" not in library and "win" in library
    assert library["win"].text == "Line"


def test_declared_variables_render_and_defaults_apply(tmp_path):
    root = write_library(
        tmp_path / "lib",
        {**SMALL, "core/workspace.md": "---\norder: 3\n---\nRoot {{ root }}, date {{ current_date }}.\n"},
        library_yaml="variables:\n  root: {default: /ws}\n  current_date: {description: today}\n",
    )
    library = load_library(root)
    assert library["workspace"].variables == {"root", "current_date"}
    assert not library["workspace"].is_static
    assert [v.name for v in library.variables if v.required] == ["current_date"]


def test_bundled_dir_is_the_checkout_modules_folder():
    assert (bundled_library_dir() / "tools" / "toolkit.md").is_file()
