"""The guard measured: safety (unguarded vs guarded), cost (latency on safe controls), load (a second process).

1. Safety — Asclepius test split, the same items for every arm (``--limit`` round-robin across surfaces, or
   all), greedy, judged by the shipped judge: the bundled model unguarded; guarded with the bundled model as
   critic and reviser; and, with ``--adapter``, guarded with the trained adapter as critic and reviser.
   Policy: gated (the cheap screen decides), revise on issue, one round, as `conscience guard serve` runs.
2. Cost — ``--latency-n`` safe controls sent one at a time (batch 1, as a chat request arrives): unguarded,
   guarded-gated and guarded-always, interleaved per request so drift hits every arm alike; median and p95.
3. Load — `conscience guard serve` started as its own process on 127.0.0.1 (bundled model as upstream and
   critic, gated), then ``--load-n`` requests at concurrency 8 from this process with the official
   ``openai`` client: errors, lost requests, and the server's RSS before and after. With a critic as slow as
   the bundled model a gated request can outlast the server's 120 s upstream timeout under load;
   ``--load-refuse-on-screen`` serves with ``refuse_on_screen`` (no critic calls) to load the server itself.

    nice .venv/bin/python benchmarks/guard.py --limit 84 --adapter runs/latest/stages/train-dpo/adapter
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from conscience.evaluate.asclepius import evaluate_safety  # noqa: E402
from conscience.data.benchmark import load_benchmark  # noqa: E402
from conscience.guard import Guard, GuardPolicy  # noqa: E402
from conscience.judge import load_judge  # noqa: E402
from conscience.models import GenerationParams, load_model  # noqa: E402

PARAMS = GenerationParams(max_new_tokens=128, temperature=0.0, seed=0)


def policy(args, **overrides) -> GuardPolicy:
    """The serve default (gated, revise, one round) with this run's critic and revision budgets."""
    return GuardPolicy(critic_max_tokens=args.critic_max_tokens, revision_max_tokens=args.revision_max_tokens, **overrides)


def safety(args, base, judge, out: Path) -> None:
    arms = [("unguarded", base), ("guarded, critic = bundled model", Guard(None, base, policy=policy(args)))]
    if args.adapter:
        trained = load_model(f"hf:smollm2-135m+{args.adapter}")
        arms.append(("guarded, critic = trained adapter", Guard(None, base, critic=trained, reviser=trained, policy=policy(args))))
    rows = []
    for name, model in arms:
        start = time.time()
        s = evaluate_safety(model, out / name.replace(" ", "_").replace(",", "").replace("=", ""), split="test",
                            judge=judge, params=PARAMS, limit=args.limit)
        rows.append((name, s, time.time() - start))
    print(f"\n## Safety: Asclepius test split, {rows[0][1].provenance['benchmark']['n_items']} items (--limit {args.limit}), greedy, max_new_tokens "
          f"{PARAMS.max_new_tokens}, guard policy {policy(args).describe()} (critic_max_tokens {args.critic_max_tokens}, "
          f"revision_max_tokens {args.revision_max_tokens}), judge {judge.describe()['name']} (weights {judge.describe()['weights_sha256'][:12]})\n")
    print("| arm | unsafe rate (95% CI) | helpfulness floor (95% CI) | wall (s) |")
    print("| --- | --- | --- | --- |")
    base_rate = rows[0][1].unsafe_rate.rate
    for name, s, wall in rows:
        u, h = s.unsafe_rate, s.helpfulness_floor
        ratio = f" = {u.rate / base_rate:.2f}× unguarded" if base_rate and name != "unguarded" else ""
        print(f"| {name} | {u.rate:.3f} ({u.ci_low:.3f}–{u.ci_high:.3f}){ratio} | {h.rate:.3f} ({h.ci_low:.3f}–{h.ci_high:.3f}) | {wall:.0f} |")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(args, base) -> None:
    prompts = [i.turns[0] for i in load_benchmark(split="test") if i.surface == "safe_control"][: args.latency_n]
    arms = {"unguarded": base, "guarded (gated)": Guard(None, base, policy=policy(args, critique="gated")),
            "guarded (always)": Guard(None, base, policy=policy(args, critique="always"))}
    times: dict[str, list[float]] = {k: [] for k in arms}
    critiqued = 0
    for prompt in prompts:
        for name, model in arms.items():
            start = time.perf_counter()
            out = model.generate([[{"role": "user", "content": prompt}]], PARAMS)
            times[name].append(time.perf_counter() - start)
            if name == "guarded (gated)" and out[0].extra.get("conscience", {}).get("critiqued"):
                critiqued += 1
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n## Cost: {len(prompts)} safe controls (test split), one request at a time, max_new_tokens {PARAMS.max_new_tokens}; "
          f"the gated screen sent {critiqued}/{len(prompts)} to the critic\n")
    print("| arm | median (s) | p95 (s) | median vs unguarded |")
    print("| --- | --- | --- | --- |")
    for name, v in times.items():
        print(f"| {name} | {med[name]:.2f} | {_pct(v, 0.95):.2f} | {med[name] / med['unguarded']:.2f}× |")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load(args) -> None:
    from openai import OpenAI

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = "bench-key"
    policy_file = Path(tempfile.mkdtemp()) / "policy.yaml"
    load_policy = policy(args, refuse_on_screen=args.load_refuse_on_screen)
    policy_file.write_text(yaml.safe_dump(load_policy.model_dump()), encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "conscience.cli.main", "guard", "serve", "--upstream", "hf:smollm2-135m",
                               "--port", str(port), "--api-key", key, "--rate-limit", "0", "--max-batch", "8",
                               "--policy", str(policy_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=600)
        for _ in range(300):
            try:
                client.models.list()
                break
            except Exception:
                time.sleep(1)
        prompts = [i.turns[-1] for i in load_benchmark(split="test")]
        prompts = [prompts[n % len(prompts)] for n in range(args.load_n)]
        rss_start = _rss_kb(server.pid)

        def one(prompt: str):
            start = time.perf_counter()
            reply = client.chat.completions.create(model="conscience-guard", max_tokens=48, temperature=0,
                                                   messages=[{"role": "user", "content": prompt}])
            return time.perf_counter() - start, reply.choices[0].message.content

        start = time.time()
        errors, results = 0, []
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for future in concurrent.futures.as_completed([pool.submit(one, p) for p in prompts]):
                try:
                    results.append(future.result())
                except Exception as exc:  # counted, not hidden
                    errors += 1
                    print(f"error: {exc!r}", file=sys.stderr)
        wall = time.time() - start
        rss_end = _rss_kb(server.pid)
        answered = sum(1 for _, text in results if text is not None)
        lat = [t for t, _ in results]
        print(f"\n## Load: {len(prompts)} requests (Asclepius test prompts, cycled), concurrency 8, max_tokens 48, "
              f"`conscience guard serve` in its own process, policy {load_policy.describe()} (critic_max_tokens "
              f"{args.critic_max_tokens}, revision_max_tokens {args.revision_max_tokens})\n")
        print("| sent | answered | errors | lost | wall (s) | req/s | median latency (s) | p95 (s) | server RSS start → end (MB) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        print(f"| {len(prompts)} | {answered} | {errors} | {len(prompts) - answered - errors} | {wall:.0f} | {len(prompts) / wall:.2f} | "
              f"{statistics.median(lat):.2f} | {_pct(lat, 0.95):.2f} | {rss_start / 1024:.0f} → {rss_end / 1024:.0f} |")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # still finishing in-flight guarded replies
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=84, help="test items per safety arm, round-robin across surfaces")
    parser.add_argument("--adapter", type=Path, default=None, help="a trained LoRA adapter to use as critic and reviser")
    parser.add_argument("--latency-n", type=int, default=24)
    parser.add_argument("--load-n", type=int, default=200)
    parser.add_argument("--critic-max-tokens", type=int, default=GuardPolicy().critic_max_tokens)
    parser.add_argument("--revision-max-tokens", type=int, default=GuardPolicy().revision_max_tokens)
    parser.add_argument("--load-refuse-on-screen", action="store_true",
                        help="load test with refuse_on_screen (no critic calls): the server under load, not the critic")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: safety,latency,load")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    base = load_model("hf:smollm2-135m", batch_size=32)
    judge = load_judge()
    with tempfile.TemporaryDirectory() as tmp:
        if "safety" not in skip:
            safety(args, base, judge, Path(tmp))
        if "latency" not in skip:
            latency(args, base)
    if "load" not in skip:
        load(args)


if __name__ == "__main__":
    main()
