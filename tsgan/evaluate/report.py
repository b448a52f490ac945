"""The HTML report: the score table with each score's meaning and published
reference numbers, figures inline, and the privacy section."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

MEANINGS = {
    "discriminative": "|accuracy - 0.5| of a GRU classifier telling real from synthetic (0 = indistinguishable)",
    "predictive": "MAE on real data of a next-step predictor trained on synthetic data (lower = more useful)",
    "fid": "Frechet distance between real and synthetic on the learned embedding (0 = same Gaussian)",
    "precision": "share of synthetic records inside the real data's k-NN balls on the embedding (fidelity, 1 is best)",
    "recall": "share of real records inside the synthetic k-NN balls (diversity, 1 is best)",
    "density": "mean number of real balls holding a synthetic record, over k (about 1 when matched)",
    "coverage": "share of real records whose ball holds a synthetic record (1 is best)",
    "correlational": "sum |real - synthetic| cross-feature correlations / 10 (Diffusion-TS; 0 is best)",
    "marginal_ks": "mean per-feature Kolmogorov-Smirnov statistic of values (0 is best)",
    "marginal_wasserstein": "mean per-feature 1-Wasserstein distance of values, scaled units (0 is best)",
    "autocorrelation": "mean |difference| of per-feature autocorrelation over lags (0 is best)",
    "mmd": "unbiased squared MMD, Gaussian kernel, median-heuristic bandwidth, flattened windows (0 is best)",
    "detection_auc": "ROC AUC of a gradient-boosting classifier telling real from synthetic rows, 3-fold CV (0.5 = indistinguishable)",
    "tstr": "train on synthetic, test on real: the target predicted on a real test split, next to training on real (higher is better)",
    "marginal_similarity": "mean per column of 1 - KS (numbers) or 1 - total variation (labels) (1 = identical)",
    "pair_similarity": "mean per column pair of 1 - |correlation difference| / 2 or 1 - total variation of the joint (1 = identical)",
}


REFERENCE = {  # the papers' tables, sequence length 24 (docs/benchmarks.md)
    "TimeGAN (paper), Sines": {"discriminative": 0.011, "predictive": 0.093},
    "TimeGAN (paper), Stocks": {"discriminative": 0.102, "predictive": 0.038},
    "Diffusion-TS, Sines": {"discriminative": 0.006, "predictive": 0.093, "fid": 0.006, "correlational": 0.015},
    "Diffusion-TS, Stocks": {"discriminative": 0.067, "predictive": 0.036, "fid": 0.147, "correlational": 0.004},
}


def score_text(v: Any) -> str:
    """A score as the terminal and the report show it: a repeated score with its spread."""
    if not isinstance(v, dict):
        return f"{v:.4f}"
    if "skipped" in v:
        return v["skipped"]
    if v.get("std") is None:
        return f"{v['mean']:.4f} (one repeat, no spread: --reps 3 shows it)"
    return f"{v['mean']:.4f} ± {v['std']:.4f} (sd of {len(v['values'])} repeats; {min(v['values']):.3f} to {max(v['values']):.3f})"


def copies_warning(scores: dict[str, Any]) -> str | None:
    """A line when the synthetic data copies real records: the scores then flatter it."""
    c = scores.get("copies")
    if not c or c["verdicts"]["near_copy_share"] == "pass":
        return None
    return (f"warning: {100 * c['near_copy_share']:.1f}% of synthetic windows are near copies of real ones "
            f"({100 * c['exact_copy_share']:.1f}% exact): the scores cannot tell copying from learning, "
            "and such data is not private (tsgan privacy)")


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


VERDICT_CSS = {"good": "pass", "fair": "warn", "poor": "fail", "fail": "fail", "uninformative": "warn"}


def write_report(out_dir: Path, scores: dict[str, Any], figures: list[tuple[str, str]], title: str, published: bool = False) -> Path:
    """The report page. ``published``: show the papers' Sines/Stocks numbers (they say
    nothing about other data)."""
    rows = []
    refs, verdicts = scores.get("references"), scores.get("verdicts", {})
    for key, meaning in MEANINGS.items():
        if key not in scores:
            continue
        v = scores[key]
        if isinstance(v, dict) and "tstr" in v:
            cell = f"{v['tstr']:.4f} (real: {v['trtr']:.4f}; {html.escape(str(v['target']))}, {v['task']})"
        elif isinstance(v, dict):
            cell = html.escape(score_text(v))
        else:
            cell = f"{v:.4f}"
        paper = "; ".join(f"{name}: {vals[key]:.3f}" for name, vals in REFERENCE.items() if key in vals) if published else ""
        extra = ""
        if refs is not None:
            f, b, v = refs["floor"].get(key), refs["naive"].get(key), verdicts.get(key)
            extra = (f"<td class=num>{'' if f is None else f'{f:.4f}'}</td><td class=num>{'' if b is None else f'{b:.4f}'}</td>"
                     f"<td class={VERDICT_CSS[v['verdict']] if v else ''}>{html.escape(v['text']) if v else ''}</td>")
        rows.append(f"<tr><td>{key}</td><td class=num>{cell}</td>{extra}<td>{html.escape(meaning)}</td>"
                    + (f"<td>{paper}</td>" if published else "") + "</tr>")
    imgs = "\n".join(f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>" for t, b in figures)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
{_STYLE}
</head><body><h1>{html.escape(title)}</h1>
<p>{scores['n_real']} real and {scores['n_synthetic']} synthetic {_unit(scores)}.</p>
{f"<p class=fail>{html.escape(copies_warning(scores))}</p>" if copies_warning(scores) else ""}
{_overall(scores)}
<table><tr><th>score</th><th>value</th>{"<th>floor (real vs real)</th><th>naive</th><th>verdict</th>" if refs is not None else ""}<th>meaning</th>{"<th>published (docs/benchmarks.md)</th>" if published else ""}</tr>{''.join(rows)}</table>
{privacy_section(scores["privacy"]) if scores.get("privacy") else ""}
{imgs}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path


def _overall(scores: dict[str, Any]) -> str:
    if "overall" not in scores:
        return ""
    o = scores["overall"]
    return (f"<p class={VERDICT_CSS.get(o['verdict'], 'warn')}>Overall: {html.escape(o['text'])}.</p><p>Each score is read against "
            "two references on the same data: the <b>floor</b>, one random half of the real windows against the other (as good as "
            "real data can be), and the <b>naive</b> baseline, windows whose every value is drawn independently from its "
            "feature's real values (no better than shuffling). A score whose naive baseline sits at the floor cannot tell them "
            "apart on this data and is marked uninformative.</p>")


def _unit(scores: dict[str, Any]) -> str:
    if "detection_auc" in scores:
        return "rows (FID and PRDC on a contrastive MLP embedding of the encoded rows)"
    if scores.get("embedding", {}).get("kind", "").startswith("image"):
        return "images, pixels in [0, 1]"
    return "windows, scored in the real data's min-max [0, 1] space"


_STYLE = """<style>body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px} td.num{text-align:right;font-family:monospace} img{max-width:100%}
.pass{color:#1a7f37}.warn{color:#9a6700}.fail{color:#cf222e;font-weight:bold}</style>"""


def privacy_section(p: dict[str, Any]) -> str:
    """HTML for the privacy scores: verdict lines, the numbers, the thresholds."""
    from ..privacy import summary_lines

    names = ["mia_auc", "dcr_share_closer_to_train", "near_copy_share"]
    items = "".join(
        f"<li class={p['verdicts'][k].replace('/', '')}>{html.escape(line)}</li>" for k, line in zip(names, summary_lines(p))
    ) + "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(p)[3:])
    split = p.get("split", {})
    how = "whole entities" if split.get("by") == "entity" else f"{len(split.get('blocks', []))} time blocks spread over the series"
    rows = [
        ("records compared (per set)", p["records"]),
        ("DCR synthetic to train, p5 / p50", f"{p['dcr_synthetic_to_train']['p5']:.4f} / {p['dcr_synthetic_to_train']['p50']:.4f}"),
        ("DCR holdout to train (baseline), p5 / p50", f"{p['dcr_holdout_to_train']['p5']:.4f} / {p['dcr_holdout_to_train']['p50']:.4f}"),
        ("NNDR median, synthetic / holdout", f"{p['nndr_synthetic_median']:.3f} / {p['nndr_holdout_median']:.3f}"),
        ("near-copy distance threshold (1st pct of holdout DCR)", f"{p['near_copy_threshold']:.4f}"),
    ]
    table = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v}</td></tr>" for k, v in rows)
    th = "; ".join(f"{k}: pass &le; {v['pass_at_most']}, warn &le; {v['warn_at_most']}, else fail" for k, v in p["thresholds"].items())
    count = f"{split['holdout_windows']} windows" if "holdout_windows" in split else f"{split.get('holdout_entities', '?')} entities"
    unit = "entities (steps, statics and length, encoded)" if "holdout_windows" not in split else "windows"
    return f"""<h2>Privacy</h2><p>Holdout: {split.get('holdout', 0):.0%} of the data ({how}, {count})
never seen in training is the yardstick. Distances are Euclidean between flattened {unit} in [0, 1] space.</p>
<ul>{items}</ul><table>{table}</table><p style="font-size:13px">Thresholds (the verdict uses the upper end of the
AUC's 95% interval): {th}.</p>"""


def write_entity_report(out_dir: Path, result: dict[str, Any], figures: list[tuple[str, str]], title: str) -> Path:
    """The entity report: each score beside its real-vs-real floor and naive baseline,
    with a verdict, the structural checks, the privacy section, the figures."""
    from .entities import MEANINGS as ENTITY_MEANINGS

    css = VERDICT_CSS
    rows = []
    for key, r in result["scores"].items():
        base = key.split("[")[0]
        rows.append(f"<tr><td>{html.escape(key)}</td><td class=num>{r['synthetic']:.4f}</td><td class=num>{r['floor']:.4f}</td>"
                    f"<td class=num>{r['naive']:.4f}</td><td class={css[r['verdict']]}>{html.escape(r['text'])}</td>"
                    f"<td>{html.escape(ENTITY_MEANINGS.get(base, ''))}</td></tr>")
    for key, v in result["checks"].items():
        ok = v == (1.0 if key == "static_constant_share" else 0.0)
        rows.append(f"<tr><td>{key}</td><td class=num>{v:.4f}</td><td></td><td></td><td class={'pass' if ok else 'fail'}>"
                    f"{'holds' if ok else 'broken'}</td><td>{html.escape(ENTITY_MEANINGS[key])}</td></tr>")
    miss = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v:.4f}</td></tr>" for k, v in result["missing_rate_diff"].items())
    imgs = "\n".join(f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>" for t, b in figures)
    overall = result["overall"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
{_STYLE}
</head><body><h1>{html.escape(title)}</h1>
<p class={css.get(overall['verdict'], 'warn')}>Overall: {html.escape(overall['text'])}.</p>
<p>{result['n_real']} real and {result['n_synthetic']} synthetic entities. Every score compares a table with one half of the
real entities: the <b>floor</b> is the other half (as good as real data can be at this size), the <b>naive</b> baseline draws
every length, start, gap, static and temporal value independently from its real marginal (no better than shuffling).
A score whose naive baseline sits at the floor cannot tell them apart on this data: it is marked uninformative.</p>
<table><tr><th>score</th><th>synthetic</th><th>floor (real vs real)</th><th>naive</th><th>verdict</th><th>meaning</th></tr>{''.join(rows)}</table>
<h2>Missing values</h2><table><tr><th>column</th><th>|real - synthetic| share missing</th></tr>{miss}</table>
{privacy_section(result["privacy"]) if result.get("privacy") else ""}
{imgs}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path


def write_privacy_page(path: Path, p: dict[str, Any], title: str, lines: list[str] | None = None) -> Path:
    """The privacy page: the full section for a run's checks, the ``lines`` for a copies-only check."""
    body = privacy_section(p) if "mia_auc" in p else "<h2>Privacy</h2><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines or []) + "</ul>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{_STYLE}</head>
<body><h1>{html.escape(title)}</h1>{body}</body></html>"""
    path.write_text(page)
    return path


def cache_dir() -> Path:
    """Where fitted embeddings are kept: $TSGAN_CACHE/embeddings or ~/.cache/tsgan/embeddings."""
    return Path(os.environ.get("TSGAN_CACHE", Path.home() / ".cache" / "tsgan")) / "embeddings"
