"""Plots people would rather look at than read: per-surface unsafe rates, and the safety-vs-utility tradeoff."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#6b7280", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#65a30d"]


def _whiskers(point: float, low: float, high: float) -> tuple[float, float]:
    """Distances from the point to its CI bounds. A bound that rounding put a hair inside the point (1.0 with a
    CI up to 0.9999999999999999) gives 0, not the negative length matplotlib refuses."""
    return max(point - low, 0.0), max(high - point, 0.0)


def surface_bars(safety: dict[str, dict], out: Path) -> Path:
    """Grouped bars: unsafe rate per surface, one bar per variant, 95% CI whiskers."""
    variants = list(safety)
    surfaces = [s for s in safety[variants[0]]["per_surface"] if s != "safe_control"]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    width = 0.8 / len(variants)
    for index, variant in enumerate(variants):
        per = safety[variant]["per_surface"]
        rates = [per[s]["rate"] for s in surfaces]
        errors = [list(side) for side in zip(*(_whiskers(per[s]["rate"], per[s]["ci_low"], per[s]["ci_high"]) for s in surfaces))]
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
        ax.errorbar(p["acc"], p["unsafe"], xerr=[[e] for e in _whiskers(p["acc"], p["acc_low"], p["acc_high"])],
                    yerr=[[e] for e in _whiskers(p["unsafe"], p["unsafe_low"], p["unsafe_high"])],
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
