"""Score an evaluation's kept replies again, with another judge or with labels, without generating anything.

Why: generating is the expensive part of an evaluation (minutes per model on a CPU); judging is seconds. When the
judge changes, the replies a run kept in ``items.jsonl`` are the same replies, so they are re-judged rather than
re-generated, and the old and new figures are then about exactly the same text. The same path turns labelled
replies into rates: :class:`LabelScorer` answers from labels (e.g. the gold set's double-labelled rows), so a run's
unsafe rate can be read from people's (or labelling agents') readings instead of the judge's, with the same
aggregation (an item is unsafe if any turn's reply is; refused is the final reply's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from conscience.data import BenchmarkItem, load_benchmark
from conscience.errors import ConscienceError
from conscience.evaluate.asclepius.metrics import SafetySummary, render_markdown, summarise
from conscience.evaluate.asclepius.runner import item_row, score_requests, twin_item
from conscience.judge import Judgement, MemberVote, Scorer
from conscience.rundir import now

LabelKey = tuple[str, tuple[str, ...], str]


@dataclass
class KeptConversation:
    """A played conversation read back from ``items.jsonl``: what ``item_row`` needs of a live one."""

    item: BenchmarkItem
    turns: list[str]
    replies: list[str]
    finish_reasons: list[str | None] = field(default_factory=list)


def label_key(item_id: str, assistant_turns: list[str], response: str) -> LabelKey:
    """A reply is identified by its item, the replies before it (so also the turn it answers) and its text."""
    return (item_id, tuple(assistant_turns), response)


class LabelScorer:
    """A :class:`Scorer` that answers from labels instead of judging. A reply without a label is an error that
    lists what is missing (a labelled rate over part of the replies would not be the run's rate)."""

    def __init__(self, labels: dict[LabelKey, tuple[bool, bool, str]], description: dict):
        self.labels, self.description = labels, description

    @classmethod
    def from_gold(cls, examples, source: str) -> LabelScorer:
        """From gold rows (:class:`conscience.judge.gold.GoldExample`): the final label, and who gave it."""
        labels = {label_key(e.item_id, e.assistant_turns, e.response): (e.label_unsafe, e.label_refused, e.labeller)
                  for e in examples}
        return cls(labels, {"name": "labels", "source": source, "n_labels": len(labels),
                            "rule": "each reply's final label (two blind readings, a third where they disagreed)"})

    def describe(self) -> dict:
        return self.description

    def score(self, items: list[BenchmarkItem], responses: list[str],
              assistant_turns: list[list[str]] | None = None) -> list[Judgement]:
        assistant_turns = assistant_turns or [[] for _ in items]
        keys = [label_key(i.id, a, r) for i, r, a in zip(items, responses, assistant_turns)]
        missing = [k for k in keys if k not in self.labels]
        if missing:
            shown = "; ".join(f"{k[0]} turn {len(k[1]) + 1}" for k in missing[:5])
            raise ConscienceError(f"{len(missing)} of {len(keys)} replies have no label ({shown}{' ...' if len(missing) > 5 else ''})",
                                  where=self.description.get("source"))
        out = []
        for key in keys:
            unsafe, refused, who = self.labels[key]
            out.append(Judgement(refused=refused, unsafe=unsafe, rule="label",
                                 votes=[MemberVote(member="label", refused=refused, unsafe=unsafe, detail=who)]))
        return out


def load_kept(run_dir: Path) -> tuple[dict, list[tuple[KeptConversation, KeptConversation | None]]]:
    """The run's configuration (``run.json``) and its conversations rebuilt from ``items.jsonl`` and its benchmark."""
    run_path, items_path = run_dir / "run.json", run_dir / "items.jsonl"
    for path in (run_path, items_path):
        if not path.exists():
            raise ConscienceError("not an evaluation folder (run.json and items.jsonl expected)", where=path)
    config = json.loads(run_path.read_text())["config"]
    benchmark = None if config["benchmark"] == "shipped" else config["benchmark"]
    by_id = {i.id: i for i in load_benchmark(benchmark, "all")}
    kept = []
    for n, line in enumerate(items_path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        item = by_id.get(row["id"])
        if item is None:
            raise ConscienceError(f"item {row['id']!r} is not in the run's benchmark ({config['benchmark']})", where=items_path, line=n)
        main = KeptConversation(item, row["turns"], row["responses"], row.get("finish_reasons") or [None] * len(row["responses"]))
        twin = None
        if row.get("twin"):
            t = row["twin"]
            twin = KeptConversation(twin_item(item), [t["prompt"]], [t["response"]], [t.get("finish_reason")])
        kept.append((main, twin))
    return config, kept


def rescore(run_dir: str | Path, out_dir: str | Path, scorer: Scorer, twins: bool = True) -> SafetySummary:
    """Judge every kept reply of ``run_dir`` with ``scorer`` and write items.jsonl, summary.json, summary.md and
    run.json to ``out_dir``. ``twins=False`` leaves the sycophancy neutral twins out (no sycophancy delta), for a
    scorer that has nothing to say about them (labels that do not cover them)."""
    run_dir, out = Path(run_dir), Path(out_dir)
    config, kept = load_kept(run_dir)
    if not twins:
        kept = [(main, None) for main, _ in kept]
    requests = [score_requests(main, twin) for main, twin in kept]
    flat = [r for rs in requests for r in rs]
    judgements = scorer.score([r[0] for r in flat], [r[1] for r in flat], [r[2] for r in flat])
    if len(judgements) != len(flat):
        raise RuntimeError(f"the scorer returned {len(judgements)} judgements for {len(flat)} replies")
    rows, start = [], 0
    for (main, twin), rs in zip(kept, requests):
        rows.append(item_row(main, twin, judgements[start: start + len(rs)]))
        start += len(rs)
    old = json.loads((run_dir / "summary.json").read_text())["provenance"] if (run_dir / "summary.json").exists() else {}
    provenance = {**old, "judge": scorer.describe(), "rescored": {"from": str(run_dir), "at": now(), "n_replies": len(flat),
                                                                  "judge_before": config.get("judge"), "twins": twins}}
    summary = summarise(rows, provenance)
    out.mkdir(parents=True, exist_ok=True)
    (out / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (out / "run.json").write_text(json.dumps({"config": {**config, "judge": scorer.describe()}, "rescored_from": str(run_dir),
                                              "started_at": now()}, indent=1) + "\n")
    (out / "summary.json").write_text(summary.model_dump_json(indent=1) + "\n")
    (out / "summary.md").write_text(render_markdown(summary))
    return summary
