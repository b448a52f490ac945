"""Entity tables (issue #35, the data layer): detected roles and a reversible encoder."""

import numpy as np
import pandas as pd
import pytest

from tsgan.data.entities import EntityEncoder, detect_roles
from tsgan.errors import TsganError


def stays(n=30, seed=0) -> pd.DataFrame:
    """Hospital stays: irregular times, static sex/age/admission, a ward that changes,
    vitals with missing values, a boolean; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        length = int(rng.integers(3, 12))
        t0 = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=float(rng.integers(0, 2000)))
        gaps = np.r_[0, rng.exponential(3.0, length - 1)]
        times = t0 + pd.to_timedelta(np.round(np.cumsum(gaps), 4), unit="h")
        ward = np.where(np.arange(length) < length // 2, "ER", "ICU")
        hr = np.round(rng.normal(80, 10, length), 1)
        hr[rng.random(length) < 0.1] = np.nan
        lab = np.round(rng.normal(5, 1, length), 2)
        lab[rng.random(length) < 0.6] = np.nan
        for i in range(length):
            rows.append({"stay_id": f"stay-{1000 + k}", "ts": times[i], "sex": ["F", "M"][k % 2], "age": int(20 + k),
                         "ward": ward[i], "hr": hr[i], "lab": lab[i], "vent": bool(i % 3 == 0)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_roles_are_detected():
    roles = {name: (role, kind) for name, role, kind in detect_roles(stays(), "stay_id", "ts")}
    assert roles == {"sex": ("static", "categorical"), "age": ("static", "numeric"), "ward": ("temporal", "categorical"),
                     "hr": ("temporal", "numeric"), "lab": ("temporal", "numeric"), "vent": ("temporal", "boolean")}


def test_bad_roles_are_refused():
    df = stays()
    with pytest.raises(TsganError, match="--static-column 'ward' varies within entity 'stay-"):
        detect_roles(df, "stay_id", "ts", static_columns=["ward"])
    with pytest.raises(TsganError, match="--id-column 'nope' is not a column"):
        detect_roles(df, "nope", "ts")
    with pytest.raises(TsganError, match="column 'empty' is entirely missing: drop it"):
        detect_roles(df.assign(empty=np.nan), "stay_id", "ts")
    with pytest.raises(TsganError, match="more than --max-categories 5"):
        detect_roles(df.assign(code=[f"c{i % 9}" for i in range(len(df))]), "stay_id", "ts", max_categories=5)


def test_the_encoder_gives_back_the_same_table():
    df = stays()
    enc = EntityEncoder.fit(df, "stay_id", "ts")
    static, temporal, mask = enc.transform(df)
    assert static.shape[0] == temporal.shape[0] == 30 and mask.sum() == len(df) and temporal.shape[1] == enc.max_length
    assert 0 <= temporal.min() and temporal.max() <= 1 and 0 <= static.min() and static.max() <= 1
    back = EntityEncoder.from_dict(enc.to_dict()).inverse_transform(static, temporal, mask)
    entity = pd.factorize(df["stay_id"], sort=False)[0]  # entities in order of first appearance, each by time
    real = df.assign(_e=entity).sort_values(["_e", "ts"], kind="stable").drop(columns="_e").reset_index(drop=True)
    assert list(back.columns) == list(df.columns) and dict(back.dtypes.astype(str)) == dict(df.dtypes.astype(str))
    assert back["stay_id"].str.startswith("stay-").all() and back["stay_id"].nunique() == 30
    for name in ("sex", "age", "ward", "vent"):
        assert (back[name].to_numpy() == real[name].to_numpy()).all(), name
    for name in ("hr", "lab"):
        np.testing.assert_array_equal(back[name].isna(), real[name].isna())
        np.testing.assert_allclose(back[name].dropna(), real[name].dropna(), atol=1e-6)
    err = (back["ts"] - real["ts"]).abs().max()
    assert err < pd.Timedelta(seconds=30), err  # float32 codes: about 1e-6 of a 2,000-hour span
    assert (back.groupby("stay_id")["ts"].diff().dropna() > pd.Timedelta(0)).all()  # strictly increasing
    assert (back.groupby("stay_id")[["sex", "age"]].nunique() == 1).all().all()


def test_date_text_keeps_its_format_and_other_date_columns_are_datetimes():
    df = stays(20)
    df["ts"] = df["ts"].dt.strftime("%d/%m/%Y %H:%M")
    df["admitted"] = df.groupby("stay_id")["ts"].transform("min").str[:10]
    enc = EntityEncoder.fit(df, "stay_id", "ts")
    assert enc.schema.time_format == "%d/%m/%Y %H:%M" and enc.resolution == 60e9  # whole minutes
    assert [(c.type, c.format) for c in enc.schema.columns if c.name == "admitted"] == [("datetime", "%d/%m/%Y")]
    back = enc.inverse_transform(*enc.transform(df))
    assert back["ts"].str.match(r"^\d\d/\d\d/2024 \d\d:\d\d$").all() and back["admitted"].str.match(r"^\d\d/\d\d/2024$").all()
    assert str(back["ts"].dtype) == str(df["ts"].dtype)


def test_long_entities_are_cut_and_integer_times_and_no_time_column_work():
    df = stays(10).assign(step=lambda d: d.groupby("stay_id").cumcount()).drop(columns="ts")
    enc = EntityEncoder.fit(df, "stay_id", "step", max_length=4)
    static, temporal, mask = enc.transform(df)
    assert temporal.shape[1] == 4 and mask.sum() <= len(df) and len(static) > 10
    back = enc.inverse_transform(static, temporal, mask)
    assert back["step"].dtype == df["step"].dtype
    plain = EntityEncoder.fit(df.drop(columns="step"), "stay_id")
    s, t, m = plain.transform(df.drop(columns="step"))
    assert m.sum() == len(df) and list(plain.inverse_transform(s, t, m).columns) == [c for c in df.columns if c != "step"]


# ---------------------------------------------------------------- entity-level scores
def test_entity_scores_have_known_answers():
    from tsgan.metrics.entities import entity_scores, independent_marginals

    real = stays(200, seed=0).sort_values(["stay_id", "ts"]).reset_index(drop=True)  # as a tool writes it
    same = entity_scores(real, real, "stay_id", "ts", seed=0)
    assert same["length_ks"] == 0 and same["gap_ks"] == 0 and same["transition_tv"] == {"ward": 0.0, "vent": 0.0}
    assert same["max_missing_rate_diff"] == 0 and same["static_constant_share"] == 1.0 and same["decreasing_time_share"] == 0.0
    assert abs(same["detection_auc"] - 0.5) < 0.1  # identical sets: nothing to tell apart
    naive = independent_marginals(real, 200, "stay_id", "ts", seed=1)
    assert list(naive.columns) == list(real.columns) and naive["stay_id"].nunique() == 200
    base = entity_scores(real, naive, "stay_id", "ts", seed=0)
    assert base["length_ks"] < 0.15 and base["gap_ks"] < 0.1 and base["max_missing_rate_diff"] < 0.05  # marginals kept
    assert base["transition_tv"]["ward"] > 0.3  # ER -> ICU order lost: real wards change once, forward
    assert base["static_constant_share"] == 1.0 and base["decreasing_time_share"] == 0.0
    assert base["detection_auc"] > 0.8  # whole entities give the shuffle away
    shifted = real.assign(ts=real["ts"] - pd.to_timedelta(real.groupby("stay_id").cumcount() * 7, unit="h"))
    assert entity_scores(real, shifted, "stay_id", "ts")["decreasing_time_share"] > 0.9


# ---------------------------------------------------------------- models on entity tables
TINY = {"steps": 6, "batch_size": 16, "hidden_g": 8, "hidden_d": 8}


def _fit(model="rcgan", df=None, **kw):
    import tsgan

    params = {"rcgan": TINY, "crnngan": {"steps": 6, "batch_size": 16, "hidden": 8},
              "timegan": {"steps": 6, "batch_size": 16, "hidden": 8, "num_layers": 1},
              "doppelganger": {"steps": 6, "batch_size": 16, "feature_units": 8, "attribute_units": 8, "disc_units": 8}}[model]
    return tsgan.Synthesizer(model=model, **{**params, **kw}).fit(stays(40) if df is None else df, id_column="stay_id", time_column="ts")


@pytest.mark.parametrize("model", ["rcgan", "timegan", "crnngan", "doppelganger"])
def test_every_sequence_model_gives_whole_entities_of_the_same_schema(model, tmp_path):
    import tsgan

    real = stays(40)
    syn = _fit(model, real)
    assert syn.kind == "entity" and syn.split_["by"] == "entity" and syn.split_["holdout_entities"] == 8
    out = syn.sample(25, seed=3)
    assert list(out.columns) == list(real.columns) and dict(out.dtypes.astype(str)) == dict(real.dtypes.astype(str))
    assert out["stay_id"].nunique() == 25 and out["stay_id"].str.startswith("stay-").all()
    assert (out.groupby("stay_id")[["sex", "age"]].nunique() == 1).all().all()  # statics constant
    assert (out.groupby("stay_id")["ts"].diff().dropna() >= pd.Timedelta(0)).all()  # times never go back
    assert set(out["ward"].dropna()) <= {"ER", "ICU"} and set(out["sex"]) <= {"F", "M"}
    lengths = out.groupby("stay_id").size()
    assert lengths.min() >= 2 and lengths.max() <= syn.codec_.max_length
    syn.save(tmp_path / "run")
    back = tsgan.load(tmp_path / "run")
    assert back.kind == "entity" and back.sample(25, seed=3).equals(out)


def test_conditional_sampling_on_static_values_and_its_errors():
    syn = _fit()
    out = syn.sample(30, seed=0, condition={"sex": "F"})
    assert (out.groupby("stay_id")["sex"].first() == "F").all()
    aged = syn.sample(10, seed=0, condition={"age": 30})
    assert (aged["age"] == 30).all()
    with pytest.raises(TsganError, match="'sex' was never 'X' in training: choose one of M, F"):
        syn.sample(3, condition={"sex": "X"})
    with pytest.raises(TsganError, match="cannot condition on 'ward': it changes within entities"):
        syn.sample(3, condition={"ward": "ICU"})
    with pytest.raises(TsganError, match="'age' = 500 was never seen in training"):
        syn.sample(3, condition={"age": 500})


def test_entity_bad_input_is_one_line_with_the_fix():
    import tsgan

    df = stays(20)
    with pytest.raises(TsganError, match="max_length must be an integer of at least 2"):
        tsgan.Synthesizer(model="rcgan", max_length=1, **TINY).fit(df, id_column="stay_id", time_column="ts")
    bad = df.astype({"ts": str})
    bad.loc[5, "ts"] = "yesterday"
    with pytest.raises(TsganError, match="time column 'ts' has a value that is not a time: 'yesterday' \\(row 5\\)"):
        _fit(df=bad)
    single = df.drop_duplicates("stay_id")
    with pytest.raises(TsganError, match="every entity has a single step"):
        _fit(df=single)
    with pytest.raises(TsganError, match="entity runs are conditioned on their static columns when sampling"):
        tsgan.Synthesizer(model="rcgan", **TINY).fit(df, id_column="stay_id", time_column="ts", condition_columns=["sex"])
    with pytest.raises(TsganError, match="DP-SGD covers entity tables with --model doppelganger only"):
        tsgan.Synthesizer(model="rcgan", dp_epsilon=1.0, **TINY).fit(df, id_column="stay_id", time_column="ts")


def test_long_entities_are_cut_with_a_note_and_windows_stay_on_request():
    import tsgan

    from tsgan.errors import TsganWarning

    with pytest.warns(TsganWarning, match="cut into consecutive pieces"):
        syn = tsgan.Synthesizer(model="rcgan", max_length=4, **TINY).fit(stays(20), id_column="stay_id", time_column="ts")
    assert syn.codec_.max_length == 4 and any("cut into consecutive pieces" in n for n in syn.spec_.notes)
    windows = tsgan.Synthesizer(model="rcgan", seq_len=3, **TINY).fit(
        stays(20)[["stay_id", "ts", "hr"]].fillna(80.0), id_column="stay_id", time_column="ts")
    assert windows.kind == "sequence" and list(windows.sample(2).columns) == ["sequence_id", "step", "hr"]


def test_entity_verdicts_read_a_score_between_floor_and_naive():
    from tsgan.evaluate.entities import verdict

    assert verdict(0.55, 0.5, 1.0)["verdict"] == "good" and verdict(0.55, 0.5, 1.0)["position"] == 0.1
    assert verdict(0.8, 0.5, 1.0)["verdict"] == "poor" and verdict(1.0, 0.5, 0.9)["verdict"] == "fail"
    assert verdict(0.03, 0.02, 0.025)["verdict"] == "uninformative"  # shuffling matches real: no ranking
    assert verdict(0.4, 0.02, 0.025)["verdict"] == "fail"  # but a marginal far off real still fails


def test_entity_cli_flow_fit_sample_evaluate_privacy(tmp_path, monkeypatch, capsys):
    from conftest import run_cli

    data = tmp_path / "stays.csv"
    stays(60).to_csv(data, index=False)
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", data, "--model", "rcgan", "--id-column", "stay_id", "--time-column", "ts", "--steps", "6",
                              "-p", "batch_size=16", "-p", "hidden_g=8", "-p", "hidden_d=8", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0, err
    out = " ".join(out.split())  # the console wraps long lines
    assert "static: sex (categorical), age (numeric)" in out and "temporal: ward (categorical), hr (numeric," in out and "held out 12 of 60 entities" in out
    code, out, err = run_cli(["sample", run, "-n", "30", "--out", tmp_path / "s.parquet", "--condition", "sex=M"], monkeypatch, capsys)
    assert code == 0, err
    synth = pd.read_parquet(tmp_path / "s.parquet")
    assert synth["stay_id"].nunique() == 30 and (synth["sex"] == "M").all() and list(synth.columns) == list(stays(2).columns)
    code, out, err = run_cli(["evaluate", data, run, "--out", tmp_path / "rep"], monkeypatch, capsys)
    assert code == 0, err
    assert "detection_auc" in out and "floor" in out and "overall:" in out and (tmp_path / "rep" / "report.html").exists()
    code, out, err = run_cli(["evaluate", data, tmp_path / "s.parquet", "--id-column", "stay_id", "--time-column", "ts",
                              "--out", tmp_path / "rep2"], monkeypatch, capsys)
    assert code == 0, err
    assert "transition_tv[ward]" in out
    code, out, err = run_cli(["privacy", run], monkeypatch, capsys)
    assert code == 0, err
    assert "membership" in out.lower()
    code, out, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "x.csv", "--condition", "ward=ICU"], monkeypatch, capsys)
    assert code == 2 and "cannot condition on 'ward'" in err and "Traceback" not in err


def test_the_built_in_entity_table_is_learned_as_entities():
    import tsgan

    syn = tsgan.Synthesizer(model="rcgan", **TINY).fit("travel-modes")
    assert syn.kind == "entity" and syn.spec_.roles["hinc"] == "static numeric" and syn.spec_.roles["mode"] == "temporal categorical"
    out = syn.sample(5, seed=0)
    assert list(out.columns) == ["traveller", "mode", "chosen", "ttme", "invc", "invt", "gc", "hinc", "psize"]
    assert (out.groupby("traveller").size() == 4).all() and out["chosen"].dtype == bool


def test_an_entity_run_stopped_at_a_checkpoint_resumes_to_the_same_run(tmp_path, monkeypatch):
    import tsgan
    from conftest import CheckpointAt

    at_3 = CheckpointAt(monkeypatch, 3)
    data = stays(30)
    whole = tsgan.Synthesizer(model="rcgan", **TINY).fit(data, id_column="stay_id", time_column="ts", static_columns=["sex"],
                                                        checkpoint_dir=tmp_path / "run", checkpoint_minutes=1e-9)
    crashed = at_3.crash(tmp_path / "crashed")
    run = tsgan.load(crashed)
    assert run.kind == "entity" and run.train_info_["steps"] == 3
    again = run.resume(data)
    pd.testing.assert_frame_equal(again.sample(5, seed=1), whole.sample(5, seed=1))
