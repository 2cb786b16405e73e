"""Plots people would rather look at than read: per-surface unsafe rates, and the safety-vs-utility tradeoff."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#6b7280", "#2563eb", "#16a34a", "#d97706", "#9333ea"]


def surface_bars(safety: dict[str, dict], out: Path) -> Path:
    """Grouped bars: unsafe rate per surface, one bar per variant, 95% CI whiskers."""
    variants = list(safety)
    surfaces = [s for s in safety[variants[0]]["per_surface"] if s != "safe_control"]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    width = 0.8 / len(variants)
    for index, variant in enumerate(variants):
        per = safety[variant]["per_surface"]
        rates = [per[s]["rate"] for s in surfaces]
        errors = [[per[s]["rate"] - per[s]["ci_low"] for s in surfaces], [per[s]["ci_high"] - per[s]["rate"] for s in surfaces]]
        xs = [i + (index - (len(variants) - 1) / 2) * width for i in range(len(surfaces))]
        ax.bar(xs, rates, width, yerr=errors, capsize=3, label=variant, color=COLORS[index % len(COLORS)])
    ax.set_xticks(range(len(surfaces)), [s.replace("_", "\n") for s in surfaces])
    ax.set_ylabel("unsafe-response rate")
    ax.set_ylim(0, 1)
    ax.set_title("Asclepius unsafe rate per attack surface (95% bootstrap CI)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def tradeoff(points: list[dict], out: Path) -> Path:
    """One point per variant: x = MedQA accuracy, y = overall unsafe rate, both with 95% CIs; chance line."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    for index, p in enumerate(points):
        ax.errorbar(p["acc"], p["unsafe"], xerr=[[p["acc"] - p["acc_low"]], [p["acc_high"] - p["acc"]]],
                    yerr=[[p["unsafe"] - p["unsafe_low"]], [p["unsafe_high"] - p["unsafe"]]],
                    fmt="o", capsize=4, markersize=9, color=COLORS[index % len(COLORS)], label=p["variant"])
    if points and points[0].get("chance") is not None:
        ax.axvline(points[0]["chance"], linestyle="--", color="#9ca3af", label="chance (1/k)")
    ax.set_xlabel("MedQA-style accuracy (higher is better)")
    ax.set_ylabel("Asclepius unsafe rate (lower is better)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Safety vs utility")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
