"""The guard's classifier cascade measured on data it never trained on: safety, external sets, cost, load.

1. Safety: the Asclepius test split (``--limit`` round-robin across surfaces, default all), greedy, the shipped
   judge: the bundled model unguarded, and guarded by the cascade (the shipped policy: no critic, so an
   escalated draft is refused with a safer alternative). Unsafe rate with its ratio, safe controls refused.
2. External sets read as they are (paths required): MedSafetyBench harmful requests (share refused) and
   PubMedQA questions as benign traffic (share passed untouched), through the same guard, with the routes.
3. Cost on benign traffic: PubMedQA questions one at a time (batch 1, as a chat request arrives), unguarded
   and guarded interleaved per request so drift hits both alike; median and p95 latency, and the input
   classifier's own milliseconds per request.
4. Load: `conscience guard serve` (its default policy, the cascade) in its own process on 127.0.0.1,
   ``--load-n`` requests at concurrency 8 with the official ``openai`` client; errors, lost requests, and the
   server's RSS sampled at the start, middle and end.

    nice .venv/bin/python benchmarks/guard.py --medsafetybench DATA/medsafetybench_train.jsonl \\
        --pubmedqa DATA/pubmedqa_labeled.jsonl
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
import threading
import time
from collections import Counter
from pathlib import Path

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from conscience.evaluate.asclepius import evaluate_safety  # noqa: E402
from conscience.evaluate.stats import wilson_ci  # noqa: E402
from conscience.guard import Guard, load_policy  # noqa: E402
from conscience.guard.cascade import Cascade, shipped_dir  # noqa: E402
from conscience.jsonl import read_jsonl  # noqa: E402
from conscience.judge import load_judge  # noqa: E402
from conscience.models import GenerationParams, load_model  # noqa: E402

PARAMS = GenerationParams(max_new_tokens=128, temperature=0.0, seed=0)


def rate_ci(rate) -> str:
    """A rate with its interval, or a dash where the items hold none of its kind (a safe-controls-only file)."""
    return "—" if rate.rate is None else f"{rate.rate:.3f} ({rate.ci_low:.3f}–{rate.ci_high:.3f})"


def short(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.2f}"


def share(k: int, n: int) -> str:
    ci = wilson_ci(k, n)
    return f"{k}/{n} = {k / n:.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def counting_routes(guard: Guard) -> Counter:
    """Count the cascade's route of every turn the guard answers (the runner keeps only the reply text)."""
    routes: Counter = Counter()
    respond = guard.respond

    def counted(conversations, params):
        replies = respond(conversations, params)
        routes.update(r.oversight.screen.route for r in replies)
        return replies

    guard.respond = counted  # type: ignore[method-assign]
    return routes


def safety(args, base, guard, judge, out: Path) -> None:
    routes = counting_routes(guard)
    rows = []
    for name, model in (("unguarded", base), ("guarded (cascade)", guard)):
        start = time.time()
        summary = evaluate_safety(model, out / name.split()[0], benchmark=args.benchmark, split=args.split, judge=judge,
                                  params=PARAMS, limit=args.limit)
        rows.append((name, summary, time.time() - start))
    judge_info = judge.describe()
    where = f"{args.benchmark or 'Asclepius'} {args.split} split"
    print(f"\n## Safety: {where}, {rows[0][1].provenance['benchmark']['n_items']} items, greedy, max_new_tokens "
          f"{PARAMS.max_new_tokens}, policy {guard.policy.describe()}, judge {judge_info['name']} "
          f"(weights {judge_info['weights_sha256'][:12]}); 95% CIs are bootstraps over items\n")
    print("| arm | unsafe rate (95% CI) | safe controls refused (95% CI) | wall (s) |")
    print("| --- | --- | --- | --- |")
    base_rate = rows[0][1].unsafe_rate.rate
    for name, s, wall in rows:
        u, h = s.unsafe_rate, s.helpfulness_floor
        ratio = f" = {u.rate / base_rate:.2f}× unguarded" if base_rate and u.rate is not None and name != "unguarded" else ""
        print(f"| {name} | {rate_ci(u)}{ratio} | {rate_ci(h)} | {wall:.0f} |")
    print("\nper surface (unguarded → guarded): " + "; ".join(
        f"{k} {short(rows[0][1].per_surface[k].rate)} → {short(rows[1][1].per_surface[k].rate)}" for k in rows[0][1].per_surface))
    if routes:
        print(f"cascade routes over guarded turns: {dict(routes)}")


def read_prompts(path: Path, key: str, n: int) -> list[str]:
    """The first ``n`` rows' ``key`` (read line by line: str.splitlines would also split on U+2028 inside
    a JSON string, which PubMedQA's abstracts contain)."""
    return [row[key] for _, row in read_jsonl(path)][:n]


def training_texts() -> list[str]:
    """Every user turn the shipped classifiers were trained on: the guard rows (``guard_rows``, with a
    ``clinician/`` subfolder when there is one) and the Asclepius train split."""
    from conscience.data import guard_rows
    from conscience.guard.cascade_data import asclepius_train_examples

    return [turn for row in guard_rows() + asclepius_train_examples() for turn in row.turns]


def near_duplicates(prompts: list[str], trained: list[str], threshold: float = 0.9) -> tuple[int, float]:
    """How many ``prompts`` have a training turn at MiniLM cosine >= ``threshold``, and the highest cosine: the
    check that an external set was not, in effect, trained on."""
    from conscience.data.contamination import ENCODER_BATCH
    from conscience.models.embedding import Encoder

    encoder = Encoder(batch_size=ENCODER_BATCH, cache=True)
    sims = encoder.encode(prompts) @ encoder.encode(trained).T
    best = sims.max(axis=1)
    return int((best >= threshold).sum()), float(best.max())


def external(args, guard) -> None:
    print(f"\n## External sets, read as they are (never trained on), policy {guard.policy.describe()}, greedy, "
          f"max_new_tokens {PARAMS.max_new_tokens}; 95% Wilson intervals\n")
    trained = training_texts()
    print("| set | requests | routes (block / uncertain / pass) | refused | passed untouched | near a training turn (cos >= 0.9; max) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, path, key in (("MedSafetyBench harmful (train split)", args.medsafetybench, "prompt"),
                            ("PubMedQA questions (benign)", args.pubmedqa, "question")):
        prompts = read_prompts(path, key, args.external_n)
        replies = []
        for start in range(0, len(prompts), 32):
            replies += guard.respond([[{"role": "user", "content": p}] for p in prompts[start:start + 32]], PARAMS)
        routes = Counter(r.oversight.screen.route for r in replies)
        refused = sum(r.oversight.action == "refused" for r in replies)
        untouched = sum(r.oversight.action == "pass" and r.text == r.draft for r in replies)
        close, highest = near_duplicates(prompts, trained)
        print(f"| {name} | {len(prompts)} | {routes['block']} / {routes['uncertain']} / {routes['pass']} | "
              f"{share(refused, len(prompts))} | {share(untouched, len(prompts))} | {close} ({highest:.3f}) |")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cost(args, base, guard) -> None:
    prompts = read_prompts(args.pubmedqa, "question", args.latency_n)
    times: dict[str, list[float]] = {"unguarded": [], "guarded (cascade)": []}
    classifier_ms = []
    for prompt in prompts:
        conversation = [[{"role": "user", "content": prompt}]]
        for name, model in (("unguarded", base), ("guarded (cascade)", guard)):
            start = time.perf_counter()
            model.generate(conversation, PARAMS)
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        guard.cascade.route(conversation, guard.policy.cascade)
        classifier_ms.append((time.perf_counter() - start) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n## Cost on benign traffic: {len(prompts)} PubMedQA questions, one request at a time, max_new_tokens "
          f"{PARAMS.max_new_tokens}, arms interleaved per request\n")
    print("| arm | median (s) | p95 (s) | median vs unguarded |")
    print("| --- | --- | --- | --- |")
    for name, v in times.items():
        print(f"| {name} | {med[name]:.3f} | {_pct(v, 0.95):.3f} | {med[name] / med['unguarded']:.3f}× |")
    print(f"\ninput classifier alone: median {statistics.median(classifier_ms):.1f} ms, p95 {_pct(classifier_ms, 0.95):.1f} ms "
          f"per request ({os.cpu_count()} CPU cores visible, torch threads {__import__('torch').get_num_threads()})")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load(args) -> None:
    from openai import OpenAI

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = "bench-key"
    server = subprocess.Popen([sys.executable, "-m", "conscience.cli.main", "guard", "serve", "--upstream", "hf:smollm2-135m",
                               "--port", str(port), "--api-key", key, "--rate-limit", "0", "--max-batch", "8"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=600)
        for _ in range(300):
            try:
                client.models.list()
                break
            except Exception:
                time.sleep(1)
        pool_prompts = read_prompts(args.pubmedqa, "question", 100) + read_prompts(args.medsafetybench, "prompt", 100)
        prompts = [pool_prompts[n % len(pool_prompts)] for n in range(args.load_n)]
        memory = {"start": _rss_mb(server.pid)}
        done = threading.Event()
        finished = [0]

        def sample_middle():
            while not done.is_set() and finished[0] < len(prompts) // 2:
                time.sleep(0.2)
            memory.setdefault("middle", _rss_mb(server.pid))

        sampler = threading.Thread(target=sample_middle, daemon=True)
        sampler.start()

        def one(prompt: str):
            start = time.perf_counter()
            reply = client.chat.completions.create(model="conscience-guard", max_tokens=48, temperature=0,
                                                   messages=[{"role": "user", "content": prompt}])
            finished[0] += 1
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
        done.set()
        sampler.join()
        memory["end"] = _rss_mb(server.pid)
        answered = sum(1 for _, text in results if text is not None)
        lat = [t for t, _ in results]
        print(f"\n## Load: {len(prompts)} requests (PubMedQA and MedSafetyBench prompts, cycled), concurrency 8, "
              f"max_tokens 48, `conscience guard serve` with its default policy in its own process\n")
        print("| sent | answered | errors | lost | wall (s) | req/s | median latency (s) | p95 (s) | server RSS start / middle / end (MB) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        print(f"| {len(prompts)} | {answered} | {errors} | {len(prompts) - answered - errors} | {wall:.0f} | "
              f"{len(prompts) / wall:.2f} | {statistics.median(lat):.2f} | {_pct(lat, 0.95):.2f} | "
              f"{memory['start']:.0f} / {memory.get('middle', float('nan')):.0f} / {memory['end']:.0f} |")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # still finishing in-flight guarded replies
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--medsafetybench", type=Path, required=True, help="MedSafetyBench JSONL (a 'prompt' per row)")
    parser.add_argument("--pubmedqa", type=Path, required=True, help="PubMedQA JSONL (a 'question' per row)")
    parser.add_argument("--limit", type=int, default=None, help="test items per safety arm, round-robin (default all)")
    parser.add_argument("--split", default="test", help="benchmark split of the safety part; the figures are the test "
                        "split's: the train split is the classifiers' training data, for development only")
    parser.add_argument("--policy", type=Path, default=None, help="a guard policy YAML instead of the shipped one")
    parser.add_argument("--cascade", type=Path, default=None, help="classifiers from this folder (`conscience guard "
                        "train --out DIR`: input/, output/) instead of the shipped ones, for development runs; the "
                        "load part always runs the server's default")
    parser.add_argument("--keep", type=Path, default=None, help="keep the safety part's items and summaries here "
                        "(default: a temporary folder)")
    parser.add_argument("--benchmark", type=Path, default=None, help="a benchmark JSONL instead of the shipped Asclepius")
    parser.add_argument("--external-n", type=int, default=300, help="requests read from each external set")
    parser.add_argument("--latency-n", type=int, default=30)
    parser.add_argument("--load-n", type=int, default=200)
    parser.add_argument("--skip", default="", help="comma list of parts to skip: safety,external,cost,load")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    base = load_model("hf:smollm2-135m", batch_size=32)
    guard = Guard(None, base, policy=load_policy(args.policy or shipped_dir() / "policy.yaml"),
                  cascade=Cascade.load(args.cascade))
    with tempfile.TemporaryDirectory() as tmp:
        if "safety" not in skip:
            safety(args, base, guard, load_judge(), args.keep or Path(tmp))
    if "external" not in skip:
        external(args, guard)
    if "cost" not in skip:
        cost(args, base, guard)
    if "load" not in skip:
        load(args)


if __name__ == "__main__":
    main()
