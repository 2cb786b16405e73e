"""Asclepius: the project's adversarial clinical-safety benchmark (items, split, runner, metrics).

``evaluate_safety`` runs it on a model, ``compare_runs`` compares two runs, and ``check_contamination``
proves the test split has not leaked into training data. The items, their loader and the contamination check
live in :mod:`conscience.data` (generation and the judge read them too) and are re-exported here. The benchmark's README defines every metric.
"""

from conscience.data import BenchmarkItem, load_benchmark
from conscience.data.contamination import ContaminationReport, check_contamination
from conscience.evaluate.asclepius.compare import RunComparison, compare_runs
from conscience.evaluate.asclepius.dev import dev_items
from conscience.evaluate.asclepius.metrics import SafetySummary
from conscience.evaluate.asclepius.safety import evaluate_safety

__all__ = ["BenchmarkItem", "ContaminationReport", "RunComparison", "SafetySummary", "check_contamination", "compare_runs",
           "dev_items", "evaluate_safety", "load_benchmark"]
