"""Privacy checks for a synthetic dataset: does it leak its training records?

All distances are Euclidean between flattened windows in the model's [0, 1]
space. Training and holdout windows come from the split ``tsgan fit`` keeps (by
entity for panel data, by a final time block for one series), so the holdout is
real data the generator never saw: the yardstick for "close".

* **DCR** (distance to closest record): for each synthetic window, the distance
  to the nearest training and to the nearest holdout window, on equal-size sets.
  A generator that does not memorise is as close to holdout as to training
  records: the share closer to training is about 0.5.
* **NNDR** (nearest-neighbour distance ratio): nearest / second-nearest training
  distance; near 0 means a synthetic window sits on one specific record.
* **Copies**: exact (distance < 1e-6) and near (closer than the 1st percentile of
  holdout-to-training distances, i.e. closer than 99 % of genuinely new records).
* **Membership inference** (distance attack, after Chen et al. 2020 GAN-Leaks):
  the attacker scores a candidate record by minus its distance to the nearest
  synthetic window; AUC of telling training (members) from holdout (non-members),
  with a bootstrap 95 % interval. 0.5 is chance; 1 is a full leak. Per window and,
  for panel data, per entity (mean score of its windows).

* **Density-ratio membership inference** (after van Breugel et al. 2023, DOMIAS):
  a learned attack that needs no distance threshold. It scores a candidate by
  log p_synthetic(x) - log p_reference(x), both Gaussian kernel densities in a
  PCA space fitted on synthetic and reference records only; a generator that
  overfits puts extra density on its training records. The reference is real data
  from half of the held-out entities (or time blocks), and the non-members scored
  are the other half, so no scored record has its own entity in the reference.

For one series the holdout is a few time blocks, and the members compared with it
are windows of as many training blocks of the same length (overlapping windows of a
few blocks are less diverse than windows spread over the whole series, so members
and non-members are drawn alike). With few blocks, differences between blocks
(level, drift) still move the scores either way; the per-block AUC shows it. Panel
data with entities held out whole gives the cleaner test.

Verdicts use the thresholds in :data:`THRESHOLDS`, stated in every report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import TsganError

THRESHOLDS = {
    "mia_auc": (0.6, 0.7),  # <= 0.6 no evidence; <= 0.7 weak; above: leak
    "mia_density_auc": (0.6, 0.7),
    "dcr_share_closer_to_train": (0.6, 0.7),
    "near_copy_share": (0.01, 0.05),
}


def _nn(reference: np.ndarray, query: np.ndarray, k: int = 1) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(query)[0]


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def _auc_ci(labels: np.ndarray, scores: np.ndarray, rng: np.random.Generator, n_boot: int = 200) -> tuple[float, float, float]:
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(labels, scores))
    boots = []
    for _ in range(n_boot):
        i = rng.integers(len(labels), size=len(labels))
        if labels[i].min() != labels[i].max():
            boots.append(roc_auc_score(labels[i], scores[i]))
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (auc, auc)
    return auc, float(lo), float(hi)


MIN_RECORDS = 50  # held-out records below which no verdict is given ("not enough data to judge")
MAX_CI_WIDTH = 0.3  # an AUC whose 95 % interval is wider than this cannot be judged


def _judged(name: str, auc: float, ci, small: bool) -> str:
    """An attack's verdict: on the upper end of its interval when above chance (err to
    caution), but none when the data are too few or the interval too wide to say."""
    if small or ci[1] - ci[0] > MAX_CI_WIDTH:
        return "insufficient"
    return verdict(name, ci[1] if auc > 0.5 else auc)


def _index(reference: np.ndarray):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=1).fit(reference)


def verdict(name: str, value: float) -> str:
    ok, weak = THRESHOLDS[name]
    if value <= ok:
        return "pass"
    return "warn" if value <= weak else "fail"


def privacy_metrics(
    train: np.ndarray,
    holdout: np.ndarray,
    synth: np.ndarray,
    train_groups: np.ndarray | None = None,
    holdout_groups: np.ndarray | None = None,
    max_records: int = 5000,
    seed: int = 0,
    by_time: bool = False,
) -> dict[str, Any]:
    """The privacy scores of ``synth`` against the ``train`` and ``holdout`` windows ``(N, T, F)``.

    ``*_groups`` (optional) name each window's entity for the per-entity attack.
    Sets are subsampled to a common size ``m = min(len(holdout), len(synth), max_records)``.
    ``by_time``: the holdout is time blocks of one series; the DCR share then gets no
    verdict (see ``dcr_note``).
    """
    if len(holdout) < 10 or len(train) < 10:
        raise TsganError(
            f"privacy checks need at least 10 training and 10 holdout windows (got {len(train)} and {len(holdout)}): "
            "fit with a larger --holdout"
        )
    if train.shape[1:] != holdout.shape[1:] or train.shape[1:] != synth.shape[1:]:
        raise TsganError(f"window shapes differ: train {train.shape[1:]}, holdout {holdout.shape[1:]}, synthetic {synth.shape[1:]}")
    rng = np.random.default_rng(seed)
    m = min(len(holdout), len(synth), len(train), max_records)
    ti = rng.choice(len(train), m, replace=False)
    hi = rng.choice(len(holdout), m, replace=False)
    si = rng.choice(len(synth), m, replace=False)
    tr, ho, sy = _flat(train[ti]), _flat(holdout[hi]), _flat(synth[si])

    d_sy_tr = _nn(tr, sy, 2)  # synthetic -> training, 2 neighbours for NNDR
    d_sy_ho = _nn(ho, sy, 1)[:, 0]
    d_ho_tr = _nn(tr, ho, 2)  # baseline: genuinely new real records -> training
    dcr = d_sy_tr[:, 0]
    closer = float(np.mean(dcr < d_sy_ho) + 0.5 * np.mean(dcr == d_sy_ho))
    # copies are counted against every training window (a subsample would miss most copies)
    index = _index(_flat(train))
    dcr_all = index.kneighbors(sy, n_neighbors=1)[0][:, 0]
    near = float(np.percentile(index.kneighbors(ho, n_neighbors=1)[0][:, 0], 1))
    ratio = lambda d: np.where(d[:, 1] > 0, d[:, 0] / np.maximum(d[:, 1], 1e-12), 0.0)  # noqa: E731

    # membership inference: members (training) vs non-members (holdout), score = -distance to the nearest of
    # all synthetic records (a subsample of them would hide most copies of a member)
    every = _flat(synth if len(synth) <= max_records else synth[rng.choice(len(synth), max_records, replace=False)])
    d_members = _nn(every, tr, 1)[:, 0]
    d_non = _nn(every, ho, 1)[:, 0]
    labels = np.r_[np.ones(m), np.zeros(m)]
    scores = -np.r_[d_members, d_non]
    auc, lo, hi_ci = _auc_ci(labels, scores, rng)
    out: dict[str, Any] = {
        "records": m,
        "dcr_share_closer_to_train": closer,
        "dcr_synthetic_to_train": {f"p{q}": float(np.percentile(dcr, q)) for q in (5, 25, 50)},
        "dcr_holdout_to_train": {f"p{q}": float(np.percentile(d_ho_tr[:, 0], q)) for q in (5, 25, 50)},
        "nndr_synthetic_median": float(np.median(ratio(d_sy_tr))),
        "nndr_holdout_median": float(np.median(ratio(d_ho_tr))),
        "exact_copy_share": float(np.mean(dcr_all < 1e-6)),
        "near_copy_threshold": near,
        "near_copy_share": float(np.mean(dcr_all < near)),
        "copies_checked_against": int(len(train)),
        "mia_auc": {"auc": auc, "ci95": [lo, hi_ci], "attack": "distance to nearest synthetic window (per window)"},
    }
    if train_groups is not None and holdout_groups is not None:
        tg, hg = np.asarray(train_groups)[ti], np.asarray(holdout_groups)[hi]
        out["mia_auc_entity"] = _entity_attack(tg, hg, scores[:m], scores[m:], rng)
        out["mia_density"] = density_attack(tr, ho, sy, hg, rng)
    # a collapsed generator puts every synthetic window near one point, and then one
    # training or holdout record decides every comparison: the DCR share says nothing
    spread_synth = float(np.median(_nn(sy, sy, 2)[:, 1]))
    spread_real = float(np.median(_nn(ho, ho, 2)[:, 1]))
    out["synthetic_spread_ratio"] = spread_synth / max(spread_real, 1e-12)
    collapsed = out["synthetic_spread_ratio"] < 0.1
    if collapsed:
        out["dcr_note"] = SUMMARY["n/a"]
    elif by_time:
        # a DP run on one series can sit closer to its training blocks with both attacks at chance (docs/privacy.md)
        out["dcr_note"] = (
            "no verdict for time blocks of one series: the synthetic series follows the training period, so it is "
            "closer to training blocks than to held-out blocks of a different level even without memorisation; "
            "the membership attacks decide"
        )
    small = m < MIN_RECORDS  # below this, a verdict would be noise either way
    if small:
        out["note"] = f"only {m} held-out records: at least {MIN_RECORDS} are needed to judge (fit with a larger --holdout or more data)"
    out["verdicts"] = {
        "mia_auc": _judged("mia_auc", auc, (lo, hi_ci), small),
        "dcr_share_closer_to_train": "n/a" if "dcr_note" in out else "insufficient" if small else verdict("dcr_share_closer_to_train", closer),
        "near_copy_share": "insufficient" if small and out["near_copy_share"] <= THRESHOLDS["near_copy_share"][1] else verdict("near_copy_share", out["near_copy_share"]),
    }
    dens = out.get("mia_density")
    if dens and "auc" in dens:
        out["verdicts"]["mia_density_auc"] = _judged("mia_density_auc", dens["auc"], dens["ci95"], small)
    out["thresholds"] = {k: {"pass_at_most": v[0], "warn_at_most": v[1]} for k, v in THRESHOLDS.items()}
    return out


def copy_check(real: np.ndarray, synth: np.ndarray, max_records: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Copies of real windows among synthetic ones when no held-out data is at hand:
    exact copies (distance < 1e-6) and near copies, closer to a real window than the
    1st percentile of the distances from the last fifth of the real windows (later
    entities or times) to the rest. Counted against every real window."""
    rng = np.random.default_rng(seed)
    sy = _flat(synth if len(synth) <= max_records else synth[rng.choice(len(synth), max_records, replace=False)])
    rf = _flat(real)
    dist = _index(rf).kneighbors(sy, n_neighbors=1)[0][:, 0]
    cut = int(0.8 * len(rf))
    near = float(np.percentile(_index(rf[:cut]).kneighbors(rf[cut:], n_neighbors=1)[0][:, 0], 1)) if min(cut, len(rf) - cut) >= 10 else 0.0
    out = {"records": int(len(sy)), "copies_checked_against": int(len(rf)), "exact_copy_share": float(np.mean(dist < 1e-6)),
           "near_copy_threshold": near, "near_copy_share": float(np.mean(dist < max(near, 1e-6)))}
    out["verdicts"] = {"near_copy_share": verdict("near_copy_share", out["near_copy_share"])}
    return out


def copy_lines(c: dict[str, Any]) -> list[str]:
    return [f"near copies {100 * c['near_copy_share']:.2f}% (exact {100 * c['exact_copy_share']:.2f}%) of {c['records']} synthetic "
            f"windows, against all {c['copies_checked_against']} real windows: " + SUMMARY[c["verdicts"]["near_copy_share"]]]


def condition_copies(train_cond: np.ndarray, hold_cond: np.ndarray, synth_cond: np.ndarray, kept: bool, seed: int = 0) -> dict[str, Any]:
    """How many synthetic sequences carry a training window's per-step conditions
    exactly, against how many carry a held-out window's (every window of each): common
    patterns (a label constant over the window) match both alike; replayed training
    records match training far more often. Conditions constant within every window
    (per-sequence labels) cannot be told apart this way and are only counted."""
    varies = bool((np.ptp(train_cond, axis=1) > 0).any())
    out: dict[str, Any] = {"kept_real_records": kept, "per_step": varies}
    if varies:
        def share(reference: np.ndarray) -> float:
            seen = {np.ascontiguousarray(w).tobytes() for w in np.round(reference, 6)}
            return float(np.mean([np.ascontiguousarray(w).tobytes() in seen for w in np.round(synth_cond, 6)]))

        out["exact_copy_share"], out["holdout_match_share"] = share(train_cond), share(hold_cond)
        excess = out["exact_copy_share"] - out["holdout_match_share"]
        out["verdict"] = "pass" if excess <= 0.1 else "warn" if excess <= 0.2 else "fail"
    return out


def density_attack(tr: np.ndarray, ho: np.ndarray, sy: np.ndarray, hg: np.ndarray, rng, dims: int = 8) -> dict[str, Any]:
    """DOMIAS-style attack on flattened records: members ``tr`` vs the held-out records
    of half the holdout groups, scored by log p_synth - log p_reference, the reference
    being the records of the other half of the groups."""
    from scipy.stats import gaussian_kde
    from sklearn.decomposition import PCA

    groups = np.unique(hg)
    if len(groups) < 2:
        return {"skipped": "needs at least two held-out entities or time blocks"}
    ref_groups = rng.permutation(groups)[: len(groups) // 2]
    is_ref = np.isin(hg, ref_groups)
    ref, non = ho[is_ref], ho[~is_ref]
    members = tr[rng.choice(len(tr), min(len(non), len(tr)), replace=False)]
    k = min(dims, sy.shape[1], len(ref) - 1, len(sy) - 1)
    try:
        pca = PCA(n_components=k, random_state=0).fit(np.r_[sy, ref])
        p_syn = gaussian_kde(pca.transform(sy).T)
        p_ref = gaussian_kde(pca.transform(ref).T)
    except (np.linalg.LinAlgError, ValueError) as e:  # e.g. a collapsed generator: no density to fit
        return {"skipped": f"densities could not be fitted ({e})"}
    cand = pca.transform(np.r_[members, non]).T
    scores = p_syn.logpdf(cand) - p_ref.logpdf(cand)
    labels = np.r_[np.ones(len(members)), np.zeros(len(non))]
    auc, lo, hi = _auc_ci(labels, np.nan_to_num(scores, neginf=-1e300), rng)
    return {
        "auc": auc, "ci95": [lo, hi], "records": [int(len(members)), int(len(non)), int(len(ref))],
        "attack": f"density ratio p_synthetic / p_reference (Gaussian KDE on {k} principal components)",
    }


def _entity_attack(tg: np.ndarray, hg: np.ndarray, ts: np.ndarray, hs: np.ndarray, rng) -> dict[str, Any] | None:
    """AUC over entities, an entity's score being the mean score of its windows."""
    import pandas as pd

    t = pd.Series(ts).groupby(tg).mean()
    h = pd.Series(hs).groupby(hg).mean()
    if len(t) < 2 or len(h) < 2:
        return None
    auc, lo, hi = _auc_ci(np.r_[np.ones(len(t)), np.zeros(len(h))], np.r_[t.to_numpy(), h.to_numpy()], rng)
    return {"auc": auc, "ci95": [lo, hi], "entities": [int(len(t)), int(len(h))]}


SUMMARY = {
    "n/a": "not informative: the synthetic windows are nearly identical (collapsed generator; see synthetic_spread_ratio)",
    "insufficient": "not enough data to judge",
    "pass": "no evidence of leakage",
    "warn": "weak evidence of leakage: review before sharing",
    "fail": "leaks training records: do not share; train longer with DP (--dp-epsilon) or refit",
}


def summary_lines(p: dict[str, Any]) -> list[str]:
    """Plain-language lines for the CLI and the report."""
    mia = p["mia_auc"]
    split = p.get("split", {})
    records = "entities" if split.get("by") == "entity" and "holdout_windows" not in split else "windows"  # entity tables: whole entities
    lines = [
        f"membership inference AUC {mia['auc']:.3f} (95% CI {mia['ci95'][0]:.3f}-{mia['ci95'][1]:.3f}; 0.5 = chance): "
        + SUMMARY[p["verdicts"]["mia_auc"]],
        f"share of synthetic {records} closer to training than to holdout records {p['dcr_share_closer_to_train']:.3f} "
        f"(0.5 = no memorisation): " + p.get("dcr_note", SUMMARY[p["verdicts"]["dcr_share_closer_to_train"]]),
        f"near copies {100 * p['near_copy_share']:.2f}% (exact {100 * p['exact_copy_share']:.2f}%): "
        + SUMMARY[p["verdicts"]["near_copy_share"]],
    ]
    if p.get("note"):
        lines.append(f"note: {p['note']}")
    if p.get("split", {}).get("by") == "time":
        lines.append(
            "note: one series: members are windows of training blocks shaped like the holdout blocks; with few blocks, "
            "differences between blocks (level, drift) move both scores in either direction: the per-block AUC and a DP run tell more"
        )
    dens = p.get("mia_density")
    if dens and "auc" in dens:
        lines.append(
            f"density-ratio membership inference AUC {dens['auc']:.3f} (95% CI {dens['ci95'][0]:.3f}-{dens['ci95'][1]:.3f}): "
            + SUMMARY[p["verdicts"]["mia_density_auc"]]
        )
    if p.get("mia_auc_entity"):
        e = p["mia_auc_entity"]
        unit = "time-block" if p.get("split", {}).get("by") == "time" else "entity"
        lines.append(f"per-{unit} membership inference AUC {e['auc']:.3f} (95% CI {e['ci95'][0]:.3f}-{e['ci95'][1]:.3f})")
    c = p.get("conditions")
    if c and c.get("per_step"):
        lines.append(
            f"condition columns: {100 * c['exact_copy_share']:.1f}% of synthetic sequences carry a real training window's "
            f"conditions exactly ({100 * c['holdout_match_share']:.1f}% a held-out window's)" + (" (the run keeps real condition records and draws from them: refit with "
                                    "--param keep_conditions=0, or pass --condition when sampling)" if c["kept_real_records"] else "")
            + ": " + SUMMARY[c["verdict"]]
        )
    if p.get("kept_real"):
        lines.append("the run directory holds from the real data: " + "; ".join(p["kept_real"]))
    if p.get("dp"):
        d = p["dp"]
        lines.append(f"differential privacy: epsilon {d['epsilon']:.2f} spent at delta {d['delta']:g} (per window; noise multiplier {d['noise_multiplier']:.3f})")
    return lines
