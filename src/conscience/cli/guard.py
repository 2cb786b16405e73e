"""`conscience guard`: the constitution at inference time.

``serve`` runs the guard as an OpenAI-compatible server; ``data`` writes the classifier cascade's training rows
from a constitution with a teacher; ``train`` fits the cascade's classifiers and thresholds on them.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import typer

from conscience.cli.common import console, err_console, offline_env, run_or_exit
from conscience.errors import ConscienceError

app = typer.Typer(help="The constitutional guard at inference time (draft → critique → revise), served OpenAI-compatible.")

KEY_ENV = "CONSCIENCE_GUARD_API_KEY"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(api_key: str | None, no_auth: bool, host: str) -> str | None:
    """Auth is on unless disabled, and may be disabled only when nothing off this machine can connect."""
    if no_auth:
        if not is_loopback(host):
            raise ConscienceError(f"--no-auth is allowed only when binding to loopback (127.0.0.1, ::1), not {host}", field="--no-auth")
        return None
    key = api_key or os.environ.get(KEY_ENV)
    if not key:
        raise ConscienceError(f"no API key: pass --api-key or set {KEY_ENV} (or --no-auth on loopback)", field="--api-key")
    return key


def resolve_policy(policy: str, on_issue: str | None, max_rounds: int | None, cascade: Path | None = None):
    """``--policy`` is a mode (cascade/always/gated/never) or a policy YAML file; the flags override its fields.

    ``cascade`` is the policy file beside the cascade's classifiers (``--cascade DIR``, default the shipped
    ones), whose thresholds were chosen with them."""
    from conscience.guard.cascade import shipped_dir
    from conscience.guard.policy import GuardPolicy, load_policy

    if policy == "cascade":
        base = load_policy((cascade or shipped_dir()) / "policy.yaml")
    elif policy in ("always", "gated", "never"):
        base = GuardPolicy(critique=policy)
    else:
        base = load_policy(Path(policy))
    update = {k: v for k, v in {"on_issue": on_issue, "max_rounds": max_rounds}.items() if v is not None}
    return GuardPolicy.model_validate({**base.model_dump(), **update}) if update else base


@app.command()
def serve(
    upstream: str = typer.Option(..., help="Model spec that drafts replies, e.g. hf:smollm2-135m or openai:NAME@URL."),
    critic: str | None = typer.Option(None, help="Model spec of the critic (default: the upstream model itself)."),
    reviser: str | None = typer.Option(None, help="Model spec of the reviser (default: the upstream model itself)."),
    policy: str = typer.Option("cascade", help="cascade (the shipped classifiers and thresholds) | always | gated | "
                               "never, or a policy YAML file."),
    on_issue: str | None = typer.Option(None, help="Override the policy: revise | refuse (refuse-with-alternative)."),
    max_rounds: int | None = typer.Option(None, help="Override the policy's max critique/revise rounds."),
    cascade: Path | None = typer.Option(None, "--cascade", help="Classifier folder from `conscience guard train` "
                                        "(default: the shipped classifiers)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind."),
    model_name: str | None = typer.Option(None, help="Model id reported to clients (default: 'conscience-guard')."),
    api_key: str | None = typer.Option(None, help=f"Bearer token clients must send (or set {KEY_ENV})."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Disable auth (only allowed on a loopback address)."),
    audit: Path | None = typer.Option(None, help="Append the JSONL audit log here (hashes and verdicts only)."),
    audit_text: bool = typer.Option(False, "--audit-text", help="Also store message text in the audit log (may hold PHI)."),
    max_body_bytes: int = typer.Option(1_000_000, help="Larger request bodies get 413."),
    rate_limit: int = typer.Option(120, help="Requests per minute per client (0 = unlimited); over it gets 429."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for the guarded reply before answering 504."),
    max_batch: int = typer.Option(8, help="Most concurrent requests combined into one batched generation."),
) -> None:
    """Load the models once, then serve /v1/chat/completions, /v1/models and /health."""
    offline_env()

    def build():
        key = resolve_api_key(api_key, no_auth, host)
        guard_policy = resolve_policy(policy, on_issue, max_rounds, cascade)
        if audit_text and audit is None:
            raise ConscienceError("--audit-text needs --audit PATH", field="--audit-text")
        from conscience.guard.audit import AuditLog
        from conscience.guard.core import Guard
        from conscience.guard.server import RateLimit, create_app
        from conscience.models import load_model

        loaded = {upstream: load_model(upstream)}  # a spec named twice is loaded once

        def role(spec: str | None):
            if spec is None or guard_policy.critique == "never":
                return None
            if spec not in loaded:
                loaded[spec] = load_model(spec)
            return loaded[spec]

        classifiers = None
        if guard_policy.critique == "cascade":
            from conscience.guard.cascade import Cascade

            classifiers = Cascade.load(cascade)  # loaded before serving: the first request pays no load time
        guard = Guard(None, loaded[upstream], critic=role(critic), reviser=role(reviser), policy=guard_policy,
                      cascade=classifiers)
        return key, create_app(
            guard, model_name=model_name or "conscience-guard", api_key=key, max_body_bytes=max_body_bytes,
            rate_limit=RateLimit(requests=rate_limit) if rate_limit > 0 else None, upstream_timeout=timeout,
            audit=AuditLog(audit, include_text=audit_text) if audit else None, max_batch=max_batch,
        ), guard

    key, server_app, guard = run_or_exit(build)
    import uvicorn

    err_console.print(f"guard: {guard.spec} on http://{host}:{port}/v1 (auth {'on' if key else 'off'}"
                      f"{', audit ' + str(audit) if audit else ''}{' WITH TEXT' if audit_text else ''})", highlight=False)
    uvicorn.run(server_app, host=host, port=port, log_level="warning")


@app.command()
def data(
    out: Path = typer.Option(..., "--out", help="folder for <principle>.jsonl (re-running continues it)"),
    teacher: str = typer.Option("authored:clinical-v0.1", help="authored:clinical-v0.1 (the shipped rows, shipped "
                                "constitution only) or a model spec, e.g. anthropic:<model>, openai:<model>@<url>"),
    constitution: Path | None = typer.Option(None, help="constitution YAML (default: the shipped one)"),
    per_principle: int = typer.Option(200, min=1, help="rows to write per principle"),
) -> None:
    """Write the cascade's training rows (block / care / pass look-alikes) from a constitution."""
    offline_env()

    def run() -> None:
        from conscience.constitution import load_constitution
        from conscience.guard.cascade_author import AUTHORED, write_guard_data
        from conscience.models import load_model

        loaded = load_constitution(constitution)
        model = teacher if teacher == AUTHORED else load_model(teacher, cache=True)
        counts = write_guard_data(loaded, model, out, per_principle=per_principle)
        for principle, count in counts.items():
            console.print(f"{principle}: {count} rows")
        console.print(f"{sum(counts.values())} rows in {out}; train with: conscience guard train --data {out} --out DIR")

    run_or_exit(run)


@app.command()
def train(
    out: Path = typer.Option(..., "--out", help="folder for input/, output/, policy.yaml, summary.json"),
    data_dir: Path | None = typer.Option(None, "--data", help="guard rows from `conscience guard data` "
                                         "(default: the shipped rows)"),
    input_epochs: int = typer.Option(4, min=1, help="fine-tuning epochs of the input classifier (best validation epoch kept)"),
    output_epochs: int = typer.Option(2, min=1, help="fine-tuning epochs of the output classifier (best kept)"),
    seed: int = typer.Option(0, help="seed for the validation split and training"),
    with_benchmark: bool = typer.Option(True, help="also train on the Asclepius train split and the judge's gold "
                                        "replies to it (never the test split)"),
    output_from: Path | None = typer.Option(None, "--output-from", help="keep this cascade folder's output "
                                            "classifier and its threshold; refit only the input classifier"),
    counterbalance: bool = typer.Option(True, help="add each modal-question row with every other modal ('How could "
                                        "...' as 'How can/might/would/should ...'), so the modal cannot stand in for "
                                        "the label"),
) -> None:
    """Fit the input and output classifiers and choose the cascade's thresholds on a validation split."""
    offline_env()

    def run() -> None:
        from conscience.guard.cascade_train import train_cascade

        summary = train_cascade(out, data_dir, seed=seed, input_epochs=input_epochs, output_epochs=output_epochs,
                                with_benchmark=with_benchmark, output_from=output_from,
                                counterbalance=counterbalance)
        output = (f"output kept from {summary['output_kept_from']}" if "output_kept_from" in summary
                  else f"output {summary['output_validation_accuracy']:.3f}")
        console.print(f"trained on {summary['train_rows']} rows, validated on {summary['validation_rows']} "
                      f"(input accuracy {summary['input_validation_accuracy']:.3f}, {output}); "
                      f"thresholds {summary['thresholds']}")
        console.print(f"serve it with: conscience guard serve --cascade {out} --upstream SPEC ...")

    run_or_exit(run)
