from conscience.models import GenerationParams, load_model
from conscience.models.anthropic_backend import to_messages_request

from .local_servers import FakeAnthropicServer, FakeFlakyOpenAIServer, serve


def test_anthropic_request_mapping_moves_system_out():
    request = to_messages_request("m", [{"role": "system", "content": "be safe"}, {"role": "user", "content": "hi"}],
                                  GenerationParams(max_new_tokens=9, stop=("END",)))
    assert request["system"] == "be safe" and request["messages"] == [{"role": "user", "content": "hi"}]
    assert request["max_tokens"] == 9 and request["stop_sequences"] == ["END"] and "top_p" not in request


def test_anthropic_backend_through_sdk_against_local_stand_in():
    with serve(FakeAnthropicServer) as server:
        model = load_model(f"anthropic:claude-test@http://127.0.0.1:{server.server_port}")
        convs = [[{"role": "system", "content": "S"}, {"role": "user", "content": f"q{i}"}] for i in range(3)]
        replies = model.generate(convs, GenerationParams(max_new_tokens=5))
    assert [r.text for r in replies] == [f"system=S|n=1|last=q{i}" for i in range(3)]
    assert replies[0].prompt_tokens == 11 and replies[0].completion_tokens == 7
    assert len(server.requests) == 3


def test_openai_backend_retries_429_and_5xx_with_backoff():
    with serve(FakeFlakyOpenAIServer) as server:
        model = load_model(f"openai:m@http://127.0.0.1:{server.server_port}/v1", concurrency=1)
        replies = model.generate([[{"role": "user", "content": "hello"}]], GenerationParams(max_new_tokens=5))
    assert replies[0].text == "ok:hello"
    assert len(server.requests) == 3  # 429, 503, then success
