"""The run's outcome for people and tools: the verdict, plots, and HTML/Markdown/JSON renderings."""

from conscience.report.data_scale import curve_note, load_shipped, plot_curve, report_view
from conscience.report.plots import surface_bars, tradeoff
from conscience.report.render import render_reports
from conscience.report.verdict import Cell, Criteria, VariantVerdict, coverage_cell, helpfulness_cell, medqa_cell, safety_cells

__all__ = ["Cell", "Criteria", "VariantVerdict", "coverage_cell", "curve_note", "helpfulness_cell", "load_shipped", "medqa_cell", "plot_curve",
           "render_reports", "report_view", "safety_cells", "surface_bars", "tradeoff"]
