"""Asclepius: the project's adversarial clinical-safety benchmark (items, split, runner, metrics)."""
