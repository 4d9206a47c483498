"""Several worker processes sharing one Redis serve a thread exactly as one process does;
the kill switch and rollout changes reach all of them; a rollout change moves no thread."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from prompt_router import PromptRouter, RouterSettings
from prompt_router.integration import ConversationRouter, arm_for

from . import workers

pytestmark = pytest.mark.slow
SALT = "prompt-router"
TURNS = ["load q3_sales.xlsx and total revenue per region", "great, now chart it as bars", "thanks!",
         "email the chart to the team", "perfect", "do the same for Q2 please"]


class Fleet:
    def __init__(self, count: int, settings: dict) -> None:
        context = multiprocessing.get_context("spawn")  # what uvicorn --workers does
        self.pipes, self.processes = [], []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=workers.serve, args=(child, settings), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.pids = [pipe.recv() for pipe in self.pipes]

    def turn(self, worker: int, thread_id: str, texts: list[str]) -> tuple:
        messages = []
        for text in texts:
            messages += [{"role": "user", "content": text}, {"role": "assistant", "content": "Done."}]
        self.pipes[worker].send(("turn", (thread_id, messages[:-1])))
        return self.pipes[worker].recv()

    def switches(self, worker: int, **values) -> None:
        self.pipes[worker].send(("switches", values))
        assert self.pipes[worker].recv() == "ok"

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()


@pytest.fixture
def fleet(redis_server, prefix):
    fleet = Fleet(3, {"state_url": redis_server.url, "state_key_prefix": prefix, "switch_refresh_seconds": 0.5})
    yield fleet
    fleet.close()


def test_workers_sharing_redis_serve_a_thread_as_one_process_does(fleet):
    assert len(set(fleet.pids)) == 3
    one = ConversationRouter(PromptRouter.from_settings(RouterSettings(_env_file=None)), policy="sticky")
    for n in range(1, len(TURNS) + 1):
        expected = one.prepare("thread-1", [m for t in TURNS[:n] for m in ({"role": "user", "content": t},
                                                                              {"role": "assistant", "content": "Done."})][:-1],
                               context=workers.DATE)
        served = fleet.turn(n % 3, "thread-1", TURNS[:n])  # each turn on another worker
        assert served == (expected.arm, expected.decision.modules, expected.tokens, expected.result.mode), n

    # rollout 20%: threads get arms by their hash, on whichever worker they land
    fleet.switches(0, rollout_percent=20.0)
    time.sleep(0.6)  # new threads follow a new percentage once every worker's copy is renewed (0.5 s)
    ids = [f"r{i}" for i in range(60)]
    first = {t: fleet.turn(i % 3, t, ["chart it"])[0] for i, t in enumerate(ids)}
    assert first == {t: arm_for(t, 20.0, SALT) for t in ids}
    # 20% -> 50%: no existing thread moves, on any worker; new threads follow the new percentage
    fleet.switches(1, rollout_percent=50.0)
    time.sleep(0.6)  # the refresh interval: every worker's copy of the switches is renewed
    assert {t: fleet.turn((i + 1) % 3, t, ["chart it", "more"])[0] for i, t in enumerate(ids)} == first
    fresh = [f"n{i}" for i in range(60)]
    assert {t: fleet.turn(i % 3, t, ["chart it"])[0] for i, t in enumerate(fresh)} == {t: arm_for(t, 50.0, SALT) for t in fresh}
    assert sum(first[t] != arm_for(t, 50.0, SALT) for t in ids) > 0  # some would have moved without the store

    # the kill switch, set on one worker, reaches all of them; measured
    fleet.switches(0, rollout_percent=100.0)
    time.sleep(0.6)
    fleet.switches(2, dynamic=False)
    written = time.monotonic()
    seen = {}
    while len(seen) < 3 and time.monotonic() - written < 5:
        for w in range(3):
            if w not in seen and fleet.turn(w, "thread-1", TURNS)[3] == "static":
                seen[w] = time.monotonic() - written
    assert len(seen) == 3, seen
    fleet.switches(2, dynamic=True)
    back_on = time.monotonic()
    restored = {}
    while len(restored) < 3 and time.monotonic() - back_on < 5:
        for w in range(3):
            if w not in restored and fleet.turn(w, "thread-1", TURNS)[3] == "dynamic":
                restored[w] = time.monotonic() - back_on
    assert len(restored) == 3, restored
    print(f"\nkill switch reached every worker in {max(seen.values()) * 1000:.1f} ms (per worker: "
          f"{[round(v * 1000, 1) for v in seen.values()]}); back on in {max(restored.values()) * 1000:.1f} ms "
          f"(switch_refresh_seconds=0.5)")
