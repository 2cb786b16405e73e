"""Clinician review: packets of blinded responses, a local web page to score them, results in SQLite.

Two measures of the method need a person: a physician scoring answers on the Med-PaLM axes, and a
reviewer judging the constitution's test prompts (the coverage criterion). Build a packet with
:func:`create_packet` (runs the models) or :func:`build_packet` (from replies you already have), serve
it with :func:`create_app`, and read results with :func:`coverage_summary` or :func:`export_results`.
"""

from conscience.review.collect import coverage_questions, create_packet, medpalm_questions, models_from_run
from conscience.review.packet import ModelRef, Packet, Question, ReviewItem, build_packet, load_packet, save_packet
from conscience.review.store import ReviewStore, default_db_path
from conscience.review.summary import coverage_summary, export_results, summarize

__all__ = ["ModelRef", "Packet", "Question", "ReviewItem", "ReviewStore", "build_packet", "coverage_questions",
           "coverage_summary", "create_packet", "default_db_path", "export_results", "load_packet",
           "medpalm_questions", "models_from_run", "save_packet", "summarize"]
