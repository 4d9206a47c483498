"""Agent loops: does using the loop's tool calls as routing evidence help?

    python benchmarks/agent_loops.py

Plays scripted agent loops (a user request, then the tool calls a model would make) through
a ConversationRouter with and without `route_tool_calls`, and prints per variant:

- uncovered calls: tool calls made while no module governing that tool was in the system
  prompt (the model used a tool without its module's instructions);
- prompt changes: steps whose system prompt differs from the step before (each one rewrites
  the provider's cached conversation behind it);
- mean system tokens per step.

Deterministic: same library, same loops, same figures.
"""

from __future__ import annotations

from prompt_router import PromptRouter, RouterSettings
from prompt_router.integration import ConversationRouter
from prompt_router.integration.tools import governed_tools

DATE = {"current_date": "2026-11-22"}
LOOPS: list[tuple[str, list[str]]] = [
    ("Find the latest ECB interest rate decisions and chart the last five rate changes",
     ["web_search", "fetch_url", "run_python", "run_python", "write_file"]),
    ("Fix the failing unit test in src/parser.py and run the test suite",
     ["read_file", "read_file", "run_shell", "read_file", "edit_file", "run_shell"]),
    ("Look up today's weather in Lisbon and email it to the team", ["web_search", "fetch_url", "send_email"]),
    ("Deploy my portfolio site", ["list_directory", "run_shell", "deploy_static_site", "browser_navigate",
                                  "browser_screenshot"]),
    ("Summarise the attached PDF", ["read_file", "write_file"]),
    ("Make me a logo for my bakery and put it on the website",
     ["generate_image", "edit_image", "edit_file", "deploy_static_site"]),
    ("Schedule a weekly report of our sales numbers every Monday at 9",
     ["run_python", "schedule_task", "list_scheduled_tasks"]),
    ("ok go ahead", ["read_file", "run_python", "write_file"]),
    ("Compare the prices of the three laptops on these shop pages",
     ["browser_navigate", "browser_extract", "browser_navigate", "browser_extract", "run_python"]),
    ("Translate my cover letter into German", ["read_file", "write_file"]),
    ("Why does the checkout page return a 500 error?", ["read_file", "run_shell", "read_file", "read_file", "edit_file"]),
]


def play(conversation: ConversationRouter, thread_id: str, text: str, calls: list[str]) -> list[tuple[tuple[str, ...], int, str]]:
    """(modules, system tokens, the call the model made) per step."""
    messages: list[dict] = [{"role": "user", "content": text}]
    steps = []
    for n, name in enumerate([*calls, ""]):
        prepared = conversation.prepare(thread_id, messages, context=DATE)
        steps.append((prepared.decision.modules, prepared.tokens, name))
        if not name:
            break
        messages.append({"role": "assistant", "content": [{"type": "tool_use", "id": f"t{n}", "name": name, "input": {}}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": "ok " * 200}]})
    return steps


def main() -> None:
    print("| router | route_tool_calls | uncovered calls | prompt changes in loops | mean system tokens | loops fully covered |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for router_name in ("hybrid", "keyword"):
        settings = RouterSettings(_env_file=None, router=router_name)
        router = PromptRouter.from_settings(settings)
        owners = governed_tools(router.library)
        for use_tools in (False, True):
            conversation = ConversationRouter(router, route_tool_calls=use_tools)
            uncovered = changes = tokens = steps_count = covered_loops = 0
            total_calls = 0
            for i, (text, calls) in enumerate(LOOPS):
                steps = play(conversation, f"{router_name}-{use_tools}-{i}", text, calls)
                loop_uncovered = 0
                for n, (modules, size, call) in enumerate(steps):
                    tokens += size
                    steps_count += 1
                    if n and modules != steps[n - 1][0]:
                        changes += 1
                    if call:
                        total_calls += 1
                        if owners.get(call) and not owners[call] & set(modules):
                            loop_uncovered += 1
                uncovered += loop_uncovered
                covered_loops += loop_uncovered == 0
            print(f"| {router_name} | {use_tools} | {uncovered} of {total_calls} | {changes} | {tokens / steps_count:,.0f} | "
                  f"{covered_loops} of {len(LOOPS)} |")


if __name__ == "__main__":
    main()
