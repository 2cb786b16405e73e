"""Render report.json into a self-contained HTML page (images inlined) and Markdown.

report.json is the source of truth; HTML and Markdown are views of it, so other tools read the JSON.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

STATUS_CLASS = {"pass": "pass", "fail": "fail", "pending": "pending", "cannot be judged (at chance)": "pending"}


def _env() -> Environment:
    env = Environment(loader=PackageLoader("conscience.report", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda x: "—" if x is None else f"{100 * x:.1f}%"
    env.filters["num"] = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"
    env.globals["status_class"] = lambda s: STATUS_CLASS.get(s, "pending")
    return env


def _inline(run_dir: Path, relative: str | None) -> str | None:
    if not relative:
        return None
    path = run_dir / relative
    if not path.exists():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def render_reports(run_dir: Path) -> dict[str, Path]:
    """Write report.html and report.md next to report.json; returns the paths."""
    report = json.loads((run_dir / "report.json").read_text())
    images = {name: _inline(run_dir, rel) for name, rel in report.get("plots", {}).items()}
    env = _env()
    html = env.get_template("report.html.j2").render(r=report, images=images)
    markdown = env.get_template("report.md.j2").render(r=report)
    (run_dir / "report.html").write_text(html, encoding="utf-8")
    (run_dir / "report.md").write_text(markdown, encoding="utf-8")
    return {"html": run_dir / "report.html", "markdown": run_dir / "report.md", "json": run_dir / "report.json"}
