"""Live reload of the module library: the whole library is loaded and validated, then swapped
in; a broken one is refused and the old one keeps serving; the learned artefact's version
check applies (auto falls back to keyword with a warning, an explicit hybrid is refused);
the optional watcher does it when files change, from a thread started lazily."""

from __future__ import annotations

import logging
import shutil
import threading
import time

import pytest

from prompt_router import PromptRouter, RouterSettings, SettingsError, bundled_library_dir
from prompt_router.integration import ConversationRouter, LibraryWatcher

from ..conftest import DATE

ZEBRA = [{"role": "user", "content": "tell me about zebra crossings"}]


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "modules"
    shutil.copytree(bundled_library_dir(), root)
    return root


def add_trigger(root, word: str) -> None:
    path = root / "tools" / "web_search.md"
    path.write_text(path.read_text().replace("triggers:\n", f"triggers:\n  - {word}\n", 1))


def watched(root, **settings) -> ConversationRouter:
    settings.setdefault("delivery_policy", "sticky")
    return ConversationRouter.from_settings(RouterSettings(_env_file=None, modules_dir=root, library_watch_seconds=0.05,
                                                           **settings))


def test_the_watcher_reloads_a_changed_library_from_a_lazily_started_thread(library, caplog):
    caplog.set_level(logging.INFO, logger="prompt_router")
    conv = watched(library, router="keyword", fallback="core")
    names = lambda: {t.name for t in threading.enumerate()}  # noqa: E731
    assert "prompt-router-library-watch" not in names()  # nothing runs until the first request
    assert "web_search" not in conv.prepare("t", ZEBRA, context=DATE).decision.modules
    assert "prompt-router-library-watch" in names()
    old = conv.router.library.version
    add_trigger(library, "zebra")
    deadline = time.monotonic() + 10
    while conv.router.library.version == old and time.monotonic() < deadline:
        time.sleep(0.02)
    assert conv.router.library.version != old
    assert "web_search" in conv.prepare("t2", ZEBRA, context=DATE).decision.modules
    while not any("library reloaded" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.02)  # the swap comes first, the log line right after it
    assert any("library reloaded" in r.getMessage() for r in caplog.records)
    conv.close()
    deadline = time.monotonic() + 5
    while "prompt-router-library-watch" in names() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "prompt-router-library-watch" not in names()  # closing stops it: nothing leaks


def test_a_broken_library_is_refused_and_the_old_one_keeps_serving(library, caplog):
    router = PromptRouter.from_settings(RouterSettings(_env_file=None, modules_dir=library, router="keyword"))
    watcher = LibraryWatcher(router, 60)
    old = router.library.version
    (library / "tools" / "broken.md").write_text("---\ntriggers: [unclosed\n---\nbody\n")
    assert watcher.check() is False  # changed: waits one poll for the files to hold still
    caplog.set_level(logging.WARNING, logger="prompt_router")
    assert watcher.check() is False and watcher.refused == 1
    assert router.library.version == old
    assert "broken.md" in caplog.text and "library was not reloaded" in caplog.text  # validate's own messages
    assert router.system_prompt("deploy it", context=DATE).mode == "dynamic"
    assert watcher.check() is False and watcher.refused == 1  # the same broken files are not retried
    (library / "tools" / "broken.md").unlink()
    add_trigger(library, "zebra")
    watcher.check()
    assert watcher.check() is True and router.library.version != old


def test_a_stale_artefact_falls_back_to_keyword_under_auto_and_is_refused_for_explicit_hybrid(library, caplog):
    auto = PromptRouter.from_settings(RouterSettings(_env_file=None, modules_dir=library))
    explicit = PromptRouter.from_settings(RouterSettings(_env_file=None, modules_dir=library, router="hybrid"))
    assert auto.router.name == explicit.router.name == "hybrid"
    old = explicit.library.version
    add_trigger(library, "zebra")  # a new library version: the shipped artefact no longer matches
    caplog.set_level(logging.WARNING, logger="prompt_router")
    auto.reload_library()
    assert auto.router.name == "keyword" and "stale" in caplog.text
    with pytest.raises(SettingsError, match="stale"):
        explicit.reload_library()
    assert explicit.router.name == "hybrid" and explicit.library.version == old != auto.library.version
    assert explicit.system_prompt("deploy it", context=DATE).decision.router == "hybrid"  # the old engine serves on
