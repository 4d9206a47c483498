"""The package's shape: the public API, one-way layers, and what the runtime loads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import prompt_router

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    # entry points
    "PromptRouter", "ConversationRouter", "RouterSettings",
    # values that cross the API
    "PromptResult", "RoutingDecision", "ModuleReason", "BuiltPrompt", "PreparedPrompt", "HostSection", "SystemBlock",
    "ProviderRequest",
    # extension points: routers and observers
    "Router", "KeywordRouter", "LearnedRouter", "Observer", "RouterObserver",
    # the library and building blocks usable alone
    "ModuleLibrary", "PromptModule", "load_library", "bundled_library_dir", "PromptBuilder", "TokenCounter",
    # the error hierarchy
    "PromptRouterError", "LibraryError", "RenderError", "ContextError", "EncodingUnavailableError", "ModelError",
    "SettingsError", "StateStoreError", "CaseFileError", "UsageError", "Problem",
}


def test_exported_members():
    assert set(prompt_router.__all__) == PUBLIC
    for name in prompt_router.__all__:
        assert getattr(prompt_router, name) is not None
    errors = [getattr(prompt_router, n) for n in PUBLIC if n.endswith("Error") and n != "PromptRouterError"]
    assert all(issubclass(e, prompt_router.PromptRouterError) for e in errors)
    assert all(e.__module__ == "prompt_router.errors" for e in errors)  # one hierarchy, one module


RUNTIME_ONLY = """
import sys
from prompt_router import PromptRouter, ConversationRouter, RouterSettings
router = PromptRouter.from_settings(RouterSettings(_env_file=None))
router.system_prompt("plot sales.csv by month and email it", history=["load q3.xlsx"])
ConversationRouter(router).prepare("t", [{"role": "user", "content": "deploy the site"}])
loaded = sorted(m for m in sys.modules
                if m.startswith(("prompt_router.evaluation", "prompt_router.training", "prompt_router.cli",
                                 "prompt_router.authoring", "prompt_router.telemetry.metrics", "opentelemetry",
                                 "litellm", "rich", "matplotlib", "sklearn", "pytest")))
print(router.router.name, loaded)
"""


def test_the_runtime_loads_no_evaluation_training_or_cli_module():
    proc = subprocess.run([sys.executable, "-c", RUNTIME_ONLY], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    router, loaded = proc.stdout.split(" ", 1)
    assert router == "hybrid"  # the default router, learned artefact and all
    assert loaded.strip() == "[]"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    linter = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(linter), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120)


def test_the_import_contract_holds_and_fails_on_a_back_edge(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "prompt_router", tree / "prompt_router", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    assert _lint(tree).returncode == 0
    # the runtime reaching up into the CLI, even from inside a function, breaks the contract
    decision = tree / "prompt_router" / "routing" / "decision.py"
    decision.write_text(decision.read_text() + "\n\ndef _debug() -> None:\n    from ..cli import main  # noqa\n")
    broken = _lint(tree)
    assert broken.returncode != 0 and "prompt_router.routing.decision -> prompt_router.cli" in broken.stdout
