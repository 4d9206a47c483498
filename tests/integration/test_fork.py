"""A router created before a pre-fork server forks its workers (gunicorn --preload): the
workers report telemetry and reach Redis with connections of their own."""

from __future__ import annotations

import multiprocessing

import pytest

from prompt_router import RouterSettings
from prompt_router.integration import ConversationRouter

from ..conftest import DATE
from ..telemetry.sentry_support import Collector, dsn_for

pytestmark = pytest.mark.slow


def _child(conversation: ConversationRouter, index: int) -> None:
    for turn in range(2):
        # distinct query lengths tell the children's events apart (events never carry the text)
        query = "deploy the flask app" + "!" * (10 * index + turn + 1)
        conversation.prepare(f"child-{index}", [{"role": "user", "content": query}], context=DATE)
    conversation.close(5)  # flushes this worker's telemetry


def test_a_router_made_before_fork_reports_and_reaches_redis_from_the_workers(httpserver, redis_server, prefix):
    collector = Collector()
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_handler(collector.handler)
    settings = RouterSettings(_env_file=None, sentry_dsn=dsn_for(httpserver), state_url=redis_server.url,
                              state_key_prefix=prefix, telemetry_sample_rate=1.0)
    conversation = ConversationRouter.from_settings(settings)
    # used before the fork: the parent's telemetry thread and Redis connections exist
    conversation.prepare("parent", [{"role": "user", "content": "hi"}], context=DATE)
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_child, args=(conversation, i)) for i in (1, 2)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0]
    events = collector.wait_for(2 + 2 * 2 * 2)  # routing + prompt events: the parent's 1 request, the children's 4
    lengths = sorted(e["contexts"]["prompt_router_routing"]["query_chars"] for e in events if "prompt_router_routing" in e.get("contexts", {}))
    assert lengths == [2, 31, 32, 41, 42]
    for index in (1, 2):
        state = conversation.thread_state(f"child-{index}")
        assert state is not None and "deployment" in state.modules  # written by the child, read by the parent
    # the parent's own connections and telemetry still work after its children came and went
    conversation.prepare("parent", [{"role": "user", "content": "hi"}, {"role": "user", "content": "deploy it"}], context=DATE)
    assert "deployment" in conversation.thread_state("parent").modules
    conversation.close(5)
    assert len(collector.events()) == 12
