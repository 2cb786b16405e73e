"""The shared prompt builder (lm-eval medqa_4options text), lm-eval's pair encoding, and letter extraction."""

import pytest

from conscience.evaluate.utility import MCQuestion, prompts
from conscience.evaluate.utility.scoring import LmEvalEncoder

Q = MCQuestion("p", "A 30-year-old has a cough. Diagnosis?", {"A": "Asthma", "B": "Bronchitis", "C": "Croup", "D": "Dust"}, "B")


def test_mc_context_is_lm_eval_medqa_doc_to_text():
    # lm_eval 0.4.13 tasks/medqa/preprocess_medqa.py: f"Question: {sent1}\n" + "".join(f"{k}. {v}\n") + "Answer:"
    expected = "Question: A 30-year-old has a cough. Diagnosis?\nA. Asthma\nB. Bronchitis\nC. Croup\nD. Dust\nAnswer:"
    assert prompts.mc_context(Q) == expected
    assert prompts.letter_continuations(Q) == [" A", " B", " C", " D"]
    assert prompts.cloze_continuations(Q) == [" Asthma", " Bronchitis", " Croup", " Dust"]


def test_mc_context_equals_installed_lm_eval():
    preprocess = pytest.importorskip("lm_eval.tasks.medqa.preprocess_medqa")
    doc = {"sent1": Q.question, **{f"ending{i}": t for i, t in enumerate(Q.options.values())}, "label": 1}
    assert prompts.mc_context(Q) == preprocess.doc_to_text(doc)


class FakeCharTokenizer:
    """Fake: one token per character (ord), BOS id 1 = '<s>' added unless told not to; enough to pin the
    lm-eval pairing rules without loading a real tokenizer."""

    bos_token_id = 1
    eos_token_id = 2

    def decode(self, token_id):
        return "<s>"

    def encode(self, text, add_special_tokens=True):
        body = text[3:] if text.startswith("<s>") else text
        prefix = [1] if (add_special_tokens or text.startswith("<s>")) else []
        return prefix + [ord(c) for c in body]


class FakeConfig:
    max_position_embeddings = 8


def test_encoder_moves_trailing_space_to_the_continuation_like_lm_eval():
    enc = LmEvalEncoder(FakeCharTokenizer(), FakeConfig())
    ctx, cont = enc.pair("Answer: ", "A")
    assert ctx == [1] + [ord(c) for c in "Answer:"] and cont == [ord(" "), ord("A")]
    # A string that already starts with BOS text is not given a second BOS.
    assert enc.encode("<s>x") == [1, ord("x")]
    # Left truncation keeps the last max_length + 1 tokens and drops the final one (it is only a target).
    assert enc.model_input(list(range(10, 20)), [99]) == tuple(range(12, 20))


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("Answer: C", "C"),
        ("The answer is (B).", "B"),
        ("**Answer:** D", "D"),
        ("B", "B"),
        ("B) Bronchitis, because of the cough", "B"),
        ("I would choose Croup here.", "C"),
        ("Option D is best.", "D"),
        ("A patient like this needs rest.", None),
        ("It is B or C.", None),
        ("I cannot answer medical questions.", None),
        ("", None),
    ],
)
def test_extract_letter(reply, letter):
    assert prompts.extract_letter(reply, Q) == letter


def test_generate_prompt_has_explicit_system_line_and_all_options():
    conversation = prompts.generate_conversation(Q)
    assert conversation[0]["role"] == "system"
    assert all(f"{k}. {v}" in conversation[1]["content"] for k, v in Q.options.items())


def test_a_system_prompt_comes_first_in_every_prompt_and_without_one_the_prompts_are_unchanged():
    assert prompts.with_system_prompt(prompts.mc_context(Q), None) == prompts.mc_context(Q)
    assert prompts.with_system_prompt(prompts.mc_context(Q), "Be careful.") == "Be careful.\n\n" + prompts.mc_context(Q)
    assert prompts.generate_conversation(Q, "Be careful.")[0]["content"] == "Be careful.\n\n" + prompts.GENERATE_SYSTEM
    assert prompts.generate_conversation(Q)[0]["content"] == prompts.GENERATE_SYSTEM


def test_the_loglik_scorer_puts_the_system_prompt_before_each_question():
    from types import SimpleNamespace

    from conscience.evaluate.utility.scoring import LoglikScorer

    scorer = LoglikScorer(SimpleNamespace(config=FakeConfig()), FakeCharTokenizer(), "loglik", system_prompt="Be careful.")
    assert {context for context, _ in scorer._requests(Q)} == {"Be careful.\n\n" + prompts.mc_context(Q)}
