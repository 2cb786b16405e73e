"""Gather what a packet needs: the questions, the models to compare, and their replies.

Coverage questions are the constitution's test prompts; Med-PaLM questions come from a prompts file or
the project's open-ended clinical prompts. Multi-turn test prompts are run turn by turn, each model's own
earlier replies fed back, exactly as a patient talking to that model would see them.
"""

from __future__ import annotations

import gc
import json
import random
from importlib import resources
from pathlib import Path

from conscience.constitution import constitution_hash, load_constitution
from conscience.errors import ConscienceError
from conscience.jsonl import read_jsonl
from conscience.models import ChatModel, GenerationParams, load_model
from conscience.progress import progress_bar
from conscience.review.packet import Kind, ModelRef, Packet, Question, build_packet


def open_ended_path() -> Path:
    """The project's open-ended clinical prompts, the default Med-PaLM questions."""
    return Path(str(resources.files("conscience.generate.sources") / "data" / "open_ended.jsonl"))


def coverage_questions(constitution_path: str | Path | None = None) -> tuple[list[Question], str]:
    """Every test prompt of every principle, in constitution order, and a provenance line."""
    constitution = load_constitution(constitution_path)
    questions = [
        Question(id=prompt.id, turns=list(prompt.turns), principle=principle.id, principle_name=principle.name,
                 principle_text=principle.text, pass_criteria=prompt.pass_criteria)
        for principle in constitution.principles for prompt in principle.test_prompts
    ]
    where = constitution_path or "shipped"
    source = f"constitution {constitution.id} v{constitution.version} (hash {constitution_hash(constitution)}, {where}) test prompts"
    return questions, source


def medpalm_questions(prompts_path: str | Path | None, n: int, seed: int = 0) -> tuple[list[Question], str]:
    """``n`` prompts drawn with ``seed`` (file order kept) from a JSONL file with a ``prompt`` field per line."""
    path = Path(prompts_path) if prompts_path is not None else open_ended_path()
    label = str(path) if prompts_path is not None else "default: the project's open-ended clinical prompts (open_ended.jsonl)"
    questions = []
    for line, row in read_jsonl(path):
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConscienceError("each line needs a non-empty string `prompt`", where=path, line=line)
        questions.append(Question(id=str(row.get("id") or f"line-{line}"), turns=[prompt]))
    if len({q.id for q in questions}) != len(questions):
        raise ConscienceError("prompt ids must be unique", where=path)
    if n > len(questions):
        raise ConscienceError(f"asked for {n} prompts but the file has {len(questions)}", where=path)
    chosen = set(random.Random(seed).sample(range(len(questions)), n))
    picked = [q for i, q in enumerate(questions) if i in chosen]
    return picked, f"{label}: {n} of {len(questions)} prompts, drawn with seed {seed}"


def models_from_run(run_dir: str | Path) -> list[ModelRef]:
    """Base and the first trained variant from RUN_DIR/report.json (written by the end-to-end recipe)."""
    report = Path(run_dir) / "report.json"
    if not report.exists():
        raise ConscienceError("run has no report.json", where=report)
    try:
        variants = json.loads(report.read_text(encoding="utf-8"))["variants"]
        refs = [ModelRef(name=v["name"], spec=v["model_spec"]) for v in variants]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConscienceError(f"expected `variants: [{{name, model_spec}}, ...]` ({exc})", where=report) from None
    base = [r for r in refs if r.name == "base"]
    trained = [r for r in refs if r.name != "base"]
    if not base or not trained:
        raise ConscienceError("report.json needs a variant named 'base' and at least one trained variant", where=report)
    return [base[0], trained[0]]


def generate_replies(model: ChatModel, questions: list[Question], params: GenerationParams) -> list[list[str]]:
    """One reply per user turn for each question, batched turn by turn across questions."""
    replies: list[list[str]] = [[] for _ in questions]
    for turn in range(max(len(q.turns) for q in questions)):
        active = [i for i, q in enumerate(questions) if turn < len(q.turns)]
        conversations = []
        for i in active:
            messages = []
            for user, assistant in zip(questions[i].turns[:turn], replies[i]):
                messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            conversations.append(messages + [{"role": "user", "content": questions[i].turns[turn]}])
        for i, completion in zip(active, model.generate(conversations, params)):
            replies[i].append(completion.text)
    return replies


def create_packet(kind: Kind, models: list[ModelRef], *, name: str, prompts: str | Path | None = None,
                  n: int | None = None, constitution: str | Path | None = None, max_new_tokens: int = 192,
                  seed: int = 0) -> Packet:
    """Run each model (one loaded at a time, greedy) on the questions and build the packet."""
    if kind == "coverage":
        if prompts is not None or n is not None:
            raise ConscienceError("coverage packets use every test prompt of the constitution; drop --prompts/--n")
        questions, source = coverage_questions(constitution)
    else:
        questions, source = medpalm_questions(prompts, 50 if n is None else n, seed)
    if len({m.name for m in models}) != len(models):
        raise ConscienceError("the two models must differ")
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    responses = {}
    with progress_bar(f"replying to {len(questions)} {kind} questions", total=len(models)) as advance:
        for ref in models:
            model = load_model(ref.spec)
            responses[ref.name] = generate_replies(model, questions, params)
            del model
            gc.collect()
            advance()
    return build_packet(questions, responses, kind, name=name, source=source, specs={m.name: m.spec for m in models},
                        generation=params.model_dump(mode="json"), seed=seed)
