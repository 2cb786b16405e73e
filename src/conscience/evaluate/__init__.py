"""Evaluation stages: ``utility`` (MedQA-style multiple choice), ``stats`` (shared CIs and tests).

Kept import-free on purpose: importing ``conscience.evaluate`` must not load torch or any model code.
"""
