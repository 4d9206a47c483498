"""The provider's own `usage` objects, from the real SDKs' types, fed back through
ConversationRouter.record_provider_request."""

from __future__ import annotations

import anthropic.types as anthropic_types
import litellm
import openai.types as openai_types
import pytest
from openai.types.completion_usage import PromptTokensDetails
from openai.types.responses import ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from prompt_router import ConversationRouter, Observer, PromptRouter, RouterSettings
from prompt_router.integration import TokenPrices, TokenUsage, parse_usage


class Recorder(Observer):
    def __init__(self) -> None:
        self.requests: list = []

    def on_provider_request(self, request) -> None:
        self.requests.append(request)


@pytest.fixture
def conversation(bundled):
    recorder = Recorder()
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None), observers=[recorder])
    return ConversationRouter(router), recorder


def test_anthropic_usage_adds_cache_reads_and_writes_to_the_uncached_input():
    usage = anthropic_types.Usage(input_tokens=50, output_tokens=20, cache_read_input_tokens=3000,
                                  cache_creation_input_tokens=400)
    assert parse_usage(usage) == TokenUsage(prompt_tokens=3450, cache_read_tokens=3000, cache_write_tokens=400, output_tokens=20)
    # no caching at all: the fields are None in the SDK object
    assert parse_usage(anthropic_types.Usage(input_tokens=50, output_tokens=2)) == TokenUsage(50, 0, 0, 2)


def test_openai_chat_and_responses_usage_count_cached_tokens_inside_the_input():
    chat = openai_types.CompletionUsage(prompt_tokens=2048, completion_tokens=10, total_tokens=2058,
                                        prompt_tokens_details=PromptTokensDetails(cached_tokens=1920))
    assert parse_usage(chat) == TokenUsage(2048, 1920, 0, 10)
    responses = ResponseUsage(input_tokens=1500, input_tokens_details=InputTokensDetails(cached_tokens=1024, cache_write_tokens=300),
                              output_tokens=7, output_tokens_details=OutputTokensDetails(reasoning_tokens=0), total_tokens=1507)
    assert parse_usage(responses) == TokenUsage(1500, 1024, 300, 7)


def test_litellm_usage_from_an_anthropic_response_keeps_both_cache_figures():
    # What LiteLLM builds from an Anthropic response: prompt_tokens already includes the cache parts.
    usage = litellm.Usage(prompt_tokens=3450, completion_tokens=20, total_tokens=3470,
                          cache_read_input_tokens=3000, cache_creation_input_tokens=400)
    assert parse_usage(usage) == TokenUsage(3450, 3000, 400, 20)
    # and a logged JSON response reads the same as the object
    assert parse_usage(usage.model_dump()) == TokenUsage(3450, 3000, 400, 20)


def test_unknown_objects_are_a_clear_error_and_missing_fields_count_zero():
    with pytest.raises(TypeError, match="cannot read token usage from a str"):
        parse_usage("1234")
    assert parse_usage({"prompt_tokens": 10, "prompt_tokens_details": None, "completion_tokens": None}) == TokenUsage(10)
    assert parse_usage({"prompt_token_count": 900, "cached_content_token_count": 512, "candidates_token_count": 3}) == \
        TokenUsage(900, 512, 0, 3)


def test_record_provider_request_takes_the_sdk_usage_and_prices_it(conversation):
    conv, recorder = conversation
    usage = anthropic_types.Usage(input_tokens=100, output_tokens=50, cache_read_input_tokens=900,
                                  cache_creation_input_tokens=0)
    prices = TokenPrices(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    request = conv.record_provider_request("claude-sonnet-5", usage=usage, tools=2, prices=prices, labels={"arm": "dynamic"})
    assert recorder.requests == [request]
    assert (request.prompt_tokens, request.cache_read_tokens, request.uncached_tokens, request.tools) == (1000, 900, 100, 2)
    assert request.cache_hit_rate == pytest.approx(0.9)
    assert request.cost == pytest.approx((100 * 3.0 + 900 * 0.3 + 50 * 15.0) / 1e6)
    # the proxy's own figure wins over a price table
    billed = conv.record_provider_request("claude-sonnet-5", usage=usage, cost=0.5, prices=prices)
    assert billed.cost == 0.5


def test_record_provider_request_keeps_the_keyword_form_and_rejects_a_mix(conversation):
    conv, recorder = conversation
    request = conv.record_provider_request("gpt-4o", 2000, 1, cache_read_tokens=1024, output_tokens=5)
    assert (request.prompt_tokens, request.cache_read_tokens, request.cost, request.labels) == (2000, 1024, None, {})
    with pytest.raises(TypeError, match="not both"):
        conv.record_provider_request("gpt-4o", 2000, usage={"prompt_tokens": 5})
    with pytest.raises(TypeError, match="needs the provider's usage object"):
        conv.record_provider_request("gpt-4o")
    assert len(recorder.requests) == 1
