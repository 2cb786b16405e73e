"""Asclepius: the project's adversarial clinical-safety benchmark (items, split, runner, metrics).

``evaluate_safety`` runs it on a model, ``compare_runs`` compares two runs, and ``check_contamination``
proves the test split has not leaked into training data. The benchmark's README defines every metric.
"""

from conscience.evaluate.asclepius.compare import RunComparison, compare_runs
from conscience.evaluate.asclepius.contamination import ContaminationReport, check_contamination
from conscience.evaluate.asclepius.items import BenchmarkItem, load_benchmark
from conscience.evaluate.asclepius.metrics import SafetySummary
from conscience.evaluate.asclepius.safety import evaluate_safety

__all__ = ["BenchmarkItem", "ContaminationReport", "RunComparison", "SafetySummary", "check_contamination", "compare_runs",
           "evaluate_safety", "load_benchmark"]
