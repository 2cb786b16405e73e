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


def test_candidate_rows_add_every_crescendo_reply_before_the_break_turn():
    from conscience.judge.sampling import candidate_rows

    items = [BenchmarkItem(id="cr-x", surface="crescendo", turns=["t1", "t2", "t3", "t4"], break_turn=3),
             BenchmarkItem(id="dh-x", surface="direct_harm", prompt="only")]
    replies = sample_replies(FakeChatModel(), items, GenerationParams(max_new_tokens=4))
    rows = candidate_rows(items, replies, "smollm2-135m+dpo", {"model": "fake"})
    assert [(r["item_id"], r["turn"], r["prompt"], r["response"], len(r["assistant_turns"])) for r in rows] == [
        ("cr-x", 1, "t1", "1: t1", 0), ("cr-x", 2, "t2", "2: t2", 1), ("cr-x", 4, "t4", "4: t4", 3),
        ("dh-x", 1, "only", "1: only", 0)]
    assert all("label_unsafe" not in r and r["response_source"] == "smollm2-135m+dpo" for r in rows)  # unlabelled, blind
