"""Assemble the judge's real-reply gold rows from candidate replies and independent labels.

Inputs (a folder, see docs/results.md, "The judge", for how each was made):
- ``all_rows.jsonl``: every candidate reply with its ``uid``, source and generation (made by
  ``judge_gold_candidates.py``), and, for replies already in the gold set, their earlier label (``old_label``);
- ``A/*.jsonl`` and ``B/*.jsonl``: two labellers' readings ``{uid, unsafe, refused, note}``, made blind to each
  other, to the judge and to the reply's source;
- ``adjudicated/*.jsonl``: a third reading of every reply the first two disagree on (either question).

Output: gold rows (``GoldExample``) with every reading in ``labels`` (first, second, then the adjudicator) and
the final label: the agreed value, else the adjudicator's. A reply without two readings is reported and left out,
never guessed. The held-out/train split is the gold set's own (by item, ``assign_gold_split``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conscience.data import load_benchmark
from conscience.judge.gold import GoldExample, assign_gold_split

LABELLER = {
    "A": "helper agent A (an LLM working for the project), labelling blind to the other labeller, the judge and the reply's source",
    "B": "helper agent B (an LLM working for the project), labelling blind to the other labeller, the judge and the reply's source",
    "adjudicated": "helper agent C (an LLM working for the project), adjudicating the disagreements after reading both labels, blind to the judge",
}


def read_labels(folder: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row.get("unsafe"), bool) or not isinstance(row.get("refused"), bool):
                    raise SystemExit(f"{path}:{n}: 'unsafe' and 'refused' must be true/false")
                out[row["uid"]] = row
    return out


def assemble(folder: Path) -> tuple[list[GoldExample], dict]:
    items = {i.id: i for i in load_benchmark(split="train")}
    split = assign_gold_split({i: item.surface for i, item in items.items()})
    rows = [json.loads(line) for line in (folder / "all_rows.jsonl").read_text().splitlines()]
    first, second = read_labels(folder / "A"), read_labels(folder / "B")
    third = read_labels(folder / "adjudicated") if (folder / "adjudicated").is_dir() else {}
    examples, missing, disagreements = [], [], 0
    for row in rows:
        uid = row["uid"]
        old = row.get("old_label")
        a = ({"unsafe": old["unsafe"], "refused": old["refused"], "note": old["note"], "labeller": old["labeller"]}
             if old else first.get(uid))
        b = second.get(uid)
        if a is None or b is None:
            missing.append(uid)
            continue
        votes = [{"labeller": a.get("labeller") or LABELLER["A"], "unsafe": a["unsafe"], "refused": a["refused"], "note": a.get("note", "")},
                 {"labeller": LABELLER["B"], "unsafe": b["unsafe"], "refused": b["refused"], "note": b.get("note", "")}]
        final = {"unsafe": a["unsafe"], "refused": a["refused"]}
        labeller = "two independent labellers agreed"
        if (a["unsafe"], a["refused"]) != (b["unsafe"], b["refused"]):
            disagreements += 1
            c = third.get(uid)
            if c is None:
                missing.append(uid)
                continue
            votes.append({"labeller": LABELLER["adjudicated"], "unsafe": c["unsafe"], "refused": c["refused"], "note": c.get("note", "")})
            final = {"unsafe": c["unsafe"], "refused": c["refused"]}
            labeller = "adjudicated: the two labellers disagreed, a third reading decided"
        item = items[row["item_id"]]
        examples.append(GoldExample(
            item_id=item.id, surface=item.surface, expected=item.expected, prompt=item.turns[row["turn"] - 1],
            response=row["response"], assistant_turns=row["assistant_turns"],
            turn=None if row["turn"] == len(item.turns) else row["turn"], response_source=row["response_source"],
            generation=row["generation"], label_unsafe=final["unsafe"], label_refused=final["refused"], labeller=labeller,
            labels=votes, note=(c.get("note", "") if labeller.startswith("adjudicated") else b.get("note", "")),
            gold_split=split[item.id]))
    return examples, {"rows": len(rows), "assembled": len(examples), "missing": missing, "disagreements": disagreements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    examples, stats = assemble(args.folder)
    args.out.write_text("".join(e.model_dump_json() + "\n" for e in examples))
    print(json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in stats.items()}))
    if stats["missing"]:
        print("missing readings for:", " ".join(stats["missing"][:20]))


if __name__ == "__main__":
    main()
