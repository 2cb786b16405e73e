"""`conscience guard serve`: run the constitutional guard as an OpenAI-compatible server."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import typer

from conscience.cli.common import err_console, offline_env, run_or_exit
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


def resolve_policy(policy: str, on_issue: str | None, max_rounds: int | None):
    """``--policy`` is a mode (always/gated/never) or a policy YAML file; the flags override its fields."""
    from conscience.guard.policy import GuardPolicy, load_policy

    if policy in ("always", "gated", "never"):
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
    policy: str = typer.Option("gated", help="always | gated | never, or a policy YAML file."),
    on_issue: str | None = typer.Option(None, help="Override the policy: revise | refuse (refuse-with-alternative)."),
    max_rounds: int | None = typer.Option(None, help="Override the policy's max critique/revise rounds."),
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
        guard_policy = resolve_policy(policy, on_issue, max_rounds)
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

        guard = Guard(None, loaded[upstream], critic=role(critic), reviser=role(reviser), policy=guard_policy)
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
