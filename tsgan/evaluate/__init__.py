"""Evaluation: scores -> figures -> a self-contained HTML report. A consumer on top of
the library: nothing else in tsgan imports it.

``evaluate_run(kind, ...)`` scores a run of any data kind against its real data.
"""

from __future__ import annotations

from .figures import loss_figure, plot_figures
from .others import evaluate_images, run_image_evaluation, run_table_evaluation
from .report import MEANINGS, REFERENCE, cache_dir, privacy_section, write_privacy_page, write_report
from .sequences import ALL_METRICS, evaluate_arrays, load_pair, run_evaluation, windows_from_long

__all__ = ["ALL_METRICS", "MEANINGS", "REFERENCE", "cache_dir", "evaluate_arrays", "evaluate_images", "load_pair", "loss_figure", "plot_figures",
           "privacy_section", "run_evaluation", "run_image_evaluation", "run_table_evaluation", "windows_from_long",
           "write_privacy_page", "write_report"]
