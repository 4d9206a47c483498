from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library

DATE = {"current_date": "2026-11-22"}
# `import litellm` fetches its model cost map from the network unless told to use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")


class Clock:
    """A clock a test moves by hand (`clock.now = ...`), for code that takes `clock=`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_library(root: Path, files: dict[str, str], library_yaml: str | None = None) -> Path:
    """Write a module library: `files` maps 'group/name.md' to (dedented) file text.
    The three group folders always exist unless a test removes one."""
    for group in ("core", "tools", "response"):
        (root / group).mkdir(parents=True, exist_ok=True)
    if library_yaml is not None:
        (root / "library.yaml").write_text(textwrap.dedent(library_yaml), encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


SMALL = {
    "core/identity.md": "---\norder: 1\n---\nYou are a helpful agent.\n",
    "core/rules.md": "---\norder: 2\n---\nNever leak secrets.\n",
    "tools/toolkit.md": "---\norder: 1\n---\nUse tools carefully.\n",
    "tools/charts.md": "---\norder: 3\nrequires: [toolkit]\ntriggers: [chart, plot, bar graph]\n---\nCharts guidance.\n",
    "tools/deploy.md": "---\norder: 4\nrequires: [toolkit]\ntriggers: [deploy, 'c++', 'analy*', '=go', 're:\\bv\\d+\\b']\n---\nDeploy guidance.\n",
    "tools/art.md": "---\norder: 2\ntriggers: [art, café]\n---\nArt guidance.\n",
    "response/format.md": "Answer briefly.\n",
}


@pytest.fixture
def small_library(tmp_path: Path):
    return load_library(write_library(tmp_path / "lib", SMALL))


@pytest.fixture(scope="session")
def bundled():
    return load_library(bundled_library_dir())


@pytest.fixture(scope="session")
def bundled_router(bundled):
    return PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword"))


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # Loopback only, on a free port.
    return ("127.0.0.1", 0)
