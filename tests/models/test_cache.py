from conscience.models import Completion, GenerationParams
from conscience.models.cache import CachedChatModel, ResponseCache


class FakeChatModel:
    """Stands in for a real backend so the cache logic can be tested by counting calls."""

    spec = "fake:echo"

    def __init__(self):
        self.calls = 0

    def generate(self, conversations, params):
        self.calls += len(conversations)
        return [Completion(text=c[-1]["content"].upper(), completion_tokens=3) for c in conversations]


def test_cache_serves_repeats_and_keys_on_params(tmp_path):
    inner = FakeChatModel()
    model = CachedChatModel(inner, ResponseCache(tmp_path / "cache.sqlite"))
    convs = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    first = model.generate(convs, GenerationParams())
    again = CachedChatModel(inner, ResponseCache(tmp_path / "cache.sqlite")).generate(convs + [[{"role": "user", "content": "c"}]], GenerationParams())
    assert [c.text for c in first] == ["A", "B"] and not any(c.cached for c in first)
    assert [c.text for c in again] == ["A", "B", "C"] and [c.cached for c in again] == [True, True, False]
    assert inner.calls == 3
    model.generate(convs, GenerationParams(temperature=0.7))  # different params: a different key
    assert inner.calls == 5 and model.stats() == {"hits": 0, "misses": 4}
