"""Fixtures for the utility tests: the project's own 30 authored questions, shipped in the package."""

import pytest

from conscience.evaluate.utility import AUTHORED_QUESTIONS, load_questions


@pytest.fixture(scope="session")
def authored_path():
    return AUTHORED_QUESTIONS


@pytest.fixture(scope="session")
def authored(authored_path):
    return load_questions(authored_path)
