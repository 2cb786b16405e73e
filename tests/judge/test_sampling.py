"""How the gold set's real-model replies were sampled: multi-turn items played turn by turn, batched per turn."""

from conscience.data import BenchmarkItem
from conscience.judge.sampling import sample_replies
from conscience.models import GenerationParams
from tests.evaluate.asclepius.fakes import FakeChatModel


def test_sample_replies_feeds_replies_back_and_keeps_earlier_turns():
    items = [BenchmarkItem(id="a", turns=["one", "two"]), BenchmarkItem(id="b", prompt="only")]
    model = FakeChatModel()
    replies = sample_replies(model, items, GenerationParams(max_new_tokens=4))
    assert [len(call) for call in model.calls] == [2, 1]  # both items at turn 1, then the multi-turn one alone
    assert model.calls[1][0][1] == {"role": "assistant", "content": "1: one"}
    assert [(r.item_id, r.response, r.assistant_turns) for r in replies] == [("a", "2: two", ["1: one"]), ("b", "1: only", [])]
