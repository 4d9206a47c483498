"""The loader reads regular files inside the library only, within size limits, and lists every
problem at once (findings 4 and 9, and the lower-severity library items of issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prompt_router import LibraryError, PromptRouter, RouterSettings, load_library
from prompt_router.library import LibraryLimits

from ..conftest import DATE, SMALL, write_library
from .support import no_hang


def _problems(root: Path, limits: LibraryLimits | None = None) -> list[str]:
    with no_hang(), pytest.raises(LibraryError) as info:
        load_library(root, limits)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_library(tmp_path / "lib", SMALL)


def test_a_symlink_out_of_the_library_is_refused_and_never_read(root):
    """Finding 4: tools/passwd.md -> /etc/passwd loaded and went into the prompt."""
    (root / "tools" / "passwd.md").symlink_to("/etc/passwd")
    problems = _problems(root)
    assert any("passwd.md: is a symbolic link to /etc/passwd, outside the library" in p for p in problems), problems


def test_a_symlinked_group_folder_out_of_the_library_is_refused(root, tmp_path):
    outside = write_library(tmp_path / "elsewhere", {"tools/secret.md": "Secret text.\n"})
    (root / "tools").rename(root / "_tools")
    (root / "tools").symlink_to(outside / "tools")
    problems = _problems(root)
    assert any(p.endswith("tools: is a symbolic link to " + str((outside / "tools").resolve())
                          + ", outside the library: only files inside it are read") for p in problems), problems


def test_a_symlink_inside_the_library_is_fine(root):
    (root / "tools" / "_shared.txt").write_text("---\ntriggers: [kanban]\n---\nBoards.\n")
    (root / "tools" / "boards.md").symlink_to(root / "tools" / "_shared.txt")
    assert "boards" in load_library(root).tool_ids


def test_devices_and_fifos_are_refused_without_reading_or_blocking(root):
    """Finding 4: a link to /dev/zero got the loader killed, a FIFO hung it."""
    os.mkfifo(root / "tools" / "pipe.md")
    (root / "core" / "zero.md").symlink_to("/dev/zero")
    problems = _problems(root)
    assert any("pipe.md: is not a regular file" in p for p in problems), problems
    assert any("zero.md: is a symbolic link to /dev/zero, outside the library" in p for p in problems), problems


def test_a_device_inside_the_library_root_is_refused(tmp_path):
    # The library root itself may be where a device node was created (or linked by a path
    # that resolves inside it); the type check, not the location, refuses it.
    root = write_library(tmp_path / "lib", SMALL)
    null = root / "tools" / "null.md"
    try:
        os.mknod(null, 0o600 | 0o020000, os.makedev(1, 3))  # a character device, like /dev/null
    except PermissionError:
        pytest.skip("creating a device node needs root")
    assert any("null.md: is not a regular file" in p for p in _problems(root))


def test_size_limits_per_module_and_per_library_are_configurable(root):
    (root / "tools" / "big.md").write_text("---\ntriggers: [big]\n---\n" + "x" * 5_000 + "\n")
    problems = _problems(root, LibraryLimits(max_module_bytes=4_096))
    assert any("big.md: is larger than 4,096 bytes, the limit for one file (setting library_max_module_bytes)" in p
               for p in problems), problems
    problems = _problems(root, LibraryLimits(max_library_bytes=2_000))
    assert any("library is larger than 2,000 bytes in all" in p and "library_max_bytes" in p for p in problems), problems
    assert "big" in load_library(root).tool_ids  # the defaults (1 MiB, 16 MiB) let it through
    settings = RouterSettings(_env_file=None, modules_dir=root, library_max_module_bytes=4_096)
    with pytest.raises(LibraryError, match="larger than 4,096 bytes"):
        PromptRouter.from_settings(settings)


@pytest.mark.parametrize("encode", [
    lambda text: b"\xef\xbb\xbf" + text.encode(),  # UTF-8 byte order mark
    lambda text: text.replace("\n", "\r").encode(),  # classic Mac line endings
    lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),  # Windows
], ids=["bom", "cr", "bom-crlf"])
def test_bom_and_cr_line_endings_keep_the_front_matter(root, encode):
    """Finding 9: the YAML was sent inside the prompt, the triggers ignored, validate said ✓."""
    (root / "tools" / "m.md").write_bytes(encode("---\ntriggers: [zebra]\n---\nZebra guidance.\n"))
    library = load_library(root)
    module = library["m"]
    assert module.text == "Zebra guidance." and [t.text for t in module.triggers] == ["zebra"]
    router = PromptRouter(library, settings=RouterSettings(_env_file=None, router="keyword"))
    result = router.system_prompt("tell me about the zebra", context=DATE)
    assert "m" in result.decision.tool_modules and "triggers:" not in result.text


def test_duplicate_front_matter_keys_are_an_error_naming_the_line(root):
    (root / "tools" / "dup.md").write_text("---\ntriggers: [alpha]\norder: 3\ntriggers: [beta]\n---\nText.\n")
    assert any("dup.md:4: triggers: duplicate key (first at line 2)" in p for p in _problems(root))
    (root / "tools" / "dup.md").unlink()
    (root / "library.yaml").write_text("name: a\nname: b\n")
    assert any("library.yaml:2: name: duplicate key (first at line 1)" in p for p in _problems(root))


def test_a_huge_template_constant_is_a_clear_error_not_a_hang(root):
    (root / "tools" / "boom.md").write_text("---\ntriggers: [boom]\n---\nLine one.\n{{ \"ab\" * 300000000 }}\n")
    problems = _problems(root)
    assert any("boom.md:5: template fails to render" in p and "600,000,000 characters" in p
               and "template_max_output_chars" in p for p in problems), problems
    (root / "tools" / "boom.md").write_text("Pow: {{ 7 ** 99999999 }}\n")
    assert any("boom.md:1: template fails to render" in p for p in _problems(root))
    (root / "tools" / "boom.md").write_text("{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}\n")
    assert any("renders to more than 1,048,576 characters" in p for p in _problems(root))
    (root / "tools" / "boom.md").write_text("Rule: {{ '-' * 40 }}\n")  # ordinary use still works
    assert load_library(root)["boom"].text == "Rule: " + "-" * 40


def test_validate_lists_problems_of_every_stage_at_once(root):
    """A type error no longer hides an unknown `requires`, a bad regex or a template error."""
    (root / "tools" / "bad.md").write_text(
        "---\norder: soon\nrequires: [ghost]\ntriggers: ['re:(a', 're:\\w', ok]\n---\nHello {{ nobody }}\n")
    problems = _problems(root)
    expected = ["bad.md:2: order: must be an integer", "bad.md:3: requires: requires unknown module 'ghost'",
                "bad.md:4: triggers: invalid regular expression '(a'", "bad.md:4: triggers: regular expression '\\\\w' matches almost any text",
                "bad.md:6: template variable 'nobody' is not declared"]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
