"""Data layer: readers, validation, windows, scaler round trips."""

import json

import numpy as np
import pandas as pd
import pytest

import tsgan

from tsgan.data import BUILTINS, MinMaxScaler, Windows, read_table, restore_dtypes, to_series, window_starts
from tsgan.errors import TsganError


def test_scaler_round_trip_and_json():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)) * [1, 100, 1e6, 0.01]
    x[:, 2] = 7.5  # constant column
    s = MinMaxScaler().fit(x)
    z = s.transform(x)
    assert np.all(np.isfinite(z)) and z.min() >= 0 and z.max() <= 1
    assert np.allclose(z[:, 2], 0.0)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-12, atol=1e-9)
    s2 = MinMaxScaler.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_allclose(s2.inverse_transform(z), x, rtol=1e-12, atol=1e-9)
    # a generator's output for a constant column comes back as exactly the constant
    assert np.all(s.inverse_transform(np.full((3, 4), 0.9))[:, 2] == 7.5)


def test_scaler_matches_protocol_formula():
    x = np.array([[1.0], [3.0], [2.0]])
    z = MinMaxScaler().fit(x).transform(x)
    np.testing.assert_allclose(z[:, 0], (x[:, 0] - 1) / (2 + 1e-7))


def test_window_starts_never_cross_entities():
    starts = window_starts([5, 2, 4], seq_len=3, stride=1)
    assert starts.tolist() == [0, 1, 2, 7, 8]  # entity 2 (rows 5-6) is too short
    assert window_starts([10], 4, stride=3).tolist() == [0, 3, 6]


def test_long_format_windows_never_mix_entities():
    rows = []
    for eid, n in [("x", 30), ("y", 11), ("z", 25)]:
        for t in range(n):
            rows.append({"id": eid, "t": t, "value": {"x": 0, "y": 1000, "z": 2000}[eid] + t})
    df = pd.DataFrame(rows).sample(frac=1, random_state=3)  # shuffled rows
    spec, base, lengths, _ = to_series(df, seq_len=10, id_column="id", time_column="t")
    w = Windows.from_lengths(base, lengths, 10).array()[..., 0]
    assert len(w) == (30 - 9) + (11 - 9) + (25 - 9)
    assert np.all(np.diff(w, axis=1) == 1)  # ordered by time inside each window
    assert np.all((w // 1000).min(axis=1) == (w // 1000).max(axis=1))  # one entity per window
    assert spec.n_entities == 3 and spec.columns == ["value"]


def test_wide_format_sorts_by_detected_date(wide_frame):
    spec, base, lengths, _ = to_series(wide_frame, seq_len=10)
    assert spec.time_column == "date" and spec.columns == ["a", "b", "count"]
    ordered = wide_frame.sort_values("date")
    np.testing.assert_allclose(base, ordered[["a", "b", "count"]].to_numpy())
    assert lengths.tolist() == [60]


def test_windows_are_views_of_the_base():
    base = np.arange(20, dtype=np.float32).reshape(10, 2)
    w = Windows.from_lengths(base, [10], 4, stride=2)
    arr = w.array()
    assert arr.shape == (4, 4, 2)
    np.testing.assert_array_equal(arr[1], base[2:6])
    import torch

    b = w.to("cpu").batch(5, torch.Generator().manual_seed(0))
    assert b.shape == (5, 4, 2)
    assert all(any(torch.equal(row, torch.from_numpy(a)) for a in arr) for row in b)


def test_restore_dtypes(wide_frame):
    spec, base, _, _ = to_series(wide_frame, seq_len=5)
    cols = restore_dtypes(base + 0.3, spec)
    assert cols["count"].dtype == np.int64 and cols["a"].dtype == np.float64
    np.testing.assert_array_equal(cols["count"], np.rint(base[:, 2] + 0.3).astype(int))


def test_parquet_round_trip(tmp_path, wide_frame):
    p = tmp_path / "d.parquet"
    wide_frame.to_parquet(p)
    pd.testing.assert_frame_equal(read_table(p), wide_frame)


@pytest.mark.parametrize(
    "content,match",
    [
        ("", "file is empty"),
        ("a,b\n", "header but no data rows"),
        ("a,b\n1,x\n2,y\n", "column 'b' is not numeric: pass --condition-column b to condition on it, --time-column b"),
        ("a,b\n1,2\n,3\n", "column 'a' has 1 missing or infinite values"),
        ("a,b\n1,2\ninf,3\n", "infinite"),
    ],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(TsganError, match=match):
        to_series(read_table(p), seq_len=2)


def test_missing_file_and_short_data(tmp_path):
    with pytest.raises(TsganError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    df = pd.DataFrame({"a": np.arange(5.0)})
    with pytest.raises(TsganError, match="lower --seq-len"):
        to_series(df, seq_len=6)
    with pytest.raises(TsganError, match="at least 2"):
        to_series(df, seq_len=1)


def test_builtins_load_and_window():
    for name in ["sunspots", "macrodata", "co2"]:
        ds = BUILTINS[name]
        spec, base, lengths, _ = to_series(ds.load(), 24, time_column=ds.time_column, id_column=ds.id_column)
        assert np.isfinite(base).all() and len(base) > 24
    ds = BUILTINS["sines"]
    df = ds.load()
    spec, base, lengths, _ = to_series(df, 24, time_column=ds.time_column, id_column=ds.id_column)
    x = Windows.from_lengths(base, lengths, 24).array()
    assert x.shape == (10_000, 24, 5) and 0 <= x.min() and x.max() <= 1


def test_every_builtin_loads_and_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "datasets" / "README.md").read_text()
    for name, ds in BUILTINS.items():
        df = ds.load()
        assert len(df) > 10 and df.shape[1] >= 1, name
        assert f"| `{name}` |" in doc, f"{name} missing from datasets/README.md"


def test_a_3d_array_is_one_sequence_per_row_named_f0_on():
    from tsgan.data import frame_from_array

    arr = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    frame, id_column = frame_from_array(arr)
    assert id_column == "sequence_id" and list(frame.columns) == ["sequence_id", "f0", "f1"]
    assert frame["sequence_id"].tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(frame[["f0", "f1"]].to_numpy().reshape(arr.shape), arr)
    series = to_series(frame, 2, 1, None, id_column)
    assert series.spec.n_entities == 2 and list(series.lengths) == [3, 3]  # windows never join two rows


def test_2d_arrays_tensors_and_ragged_lists():
    import torch

    from tsgan.data import frame_from_array

    frame, id_column = frame_from_array(torch.arange(6.0).reshape(3, 2))
    assert id_column is None and frame.to_numpy().tolist() == [[0, 1], [2, 3], [4, 5]]
    assert frame_from_array([1.0, 2.0, 3.0])[0]["f0"].tolist() == [1.0, 2.0, 3.0]
    frame, id_column = frame_from_array([np.zeros((4, 2)), np.ones((6, 2))])
    assert frame.groupby(id_column).size().tolist() == [4, 6]


@pytest.mark.parametrize(
    "data, match",
    [
        (np.zeros((2, 3, 4, 5)), r"\(time, features\) or \(sequences, time, features\); got shape \(2, 3, 4, 5\)"),
        (np.array([["a", "b"]]), r"not numbers: convert it with \.astype\(float\)"),
        ([], "the data list is empty"),
        ([np.zeros((5, 2)), np.zeros((5, 3))], "with the same features"),
        (np.zeros((0, 2)), "the data array is empty"),
    ],
)
def test_bad_arrays_are_clear_errors(data, match):
    from tsgan.data import frame_from_array

    with pytest.raises(TsganError, match=match):
        frame_from_array(data)


def test_a_series_is_one_column_and_other_objects_are_refused():
    frame = read_table(pd.Series([1.0, 2.0, 3.0], name="v"))
    assert list(frame.columns) == ["v"] and frame["v"].tolist() == [1.0, 2.0, 3.0]
    for bad in (None, 3, {"a": 1}):
        with pytest.raises(TsganError, match=f"cannot read data of type {type(bad).__name__}: pass a file path, a DataFrame, an array"):
            read_table(bad)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_are_read_in_float32_where_that_keeps_them(tmp_path, fmt):
    # values near zero relative to their spread become float32; epoch-like values
    # (1.7e9 +- 50) keep float64, where float32 would round them to 128 s; samples
    # come back in the file's dtypes and the run's fingerprint says how it was taken
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "epoch": 1.7e9 + rng.uniform(0, 100, 60), "n": np.arange(60) % 7})
    p = tmp_path / f"d.{fmt}"
    df.to_parquet(p) if fmt == "parquet" else df.to_csv(p, index=False)
    wide = read_table(p, float32=True)
    assert wide["a"].dtype == np.float32 and wide["epoch"].dtype == np.float64 and wide["n"].dtype == np.int64
    assert wide.attrs["source_dtypes"] == {"a": "float64"}
    np.testing.assert_allclose(wide["a"], df["a"], rtol=1e-6)
    assert read_table(p)["a"].dtype == np.float64  # the default read is unchanged
    only_a = tmp_path / f"a.{fmt}"
    df[["a"]].to_parquet(only_a) if fmt == "parquet" else df[["a"]].to_csv(only_a, index=False)
    series = to_series(read_table(only_a, float32=True), seq_len=5)
    assert series.base.dtype == np.float32 and series.spec.dtypes == ["float64"] and series.spec.fingerprint.startswith("f32:")
    assert to_series(df[["a"]], seq_len=5).base.dtype == np.float64  # a DataFrame is taken as it is
    mixed = to_series(read_table(p, float32=True), seq_len=5)
    assert mixed.base.dtype == np.float64 and not mixed.spec.fingerprint.startswith("f32:")


def test_fingerprints_taken_another_way_are_not_compared():
    from tsgan.data.io import comparable_prints

    assert comparable_prints("f32:ab", "f32:cd") and comparable_prints("ab", "cd")
    assert not comparable_prints("ab", "f32:ab") and not comparable_prints("", "ab")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_columns_reads_only_those_in_the_files_order(tmp_path, fmt):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"id": np.repeat(np.arange(12), 10), "t": np.tile(np.arange(10), 12), "a": rng.normal(size=120),
                       "note": ["text"] * 120, "b": rng.normal(size=120)})
    p = tmp_path / f"d.{fmt}"
    df.to_parquet(p, index=False) if fmt == "parquet" else df.to_csv(p, index=False)
    assert list(read_table(p, columns=["b", "t", "a"]).columns) == ["t", "a", "b"]
    with pytest.raises(TsganError, match=r"^--columns 'zz' is not a column of .*: choose among id, t, a, note, b$"):
        read_table(p, columns=["a", "zz"])
    # a run that read two columns (the text column is never read), saved, loaded, re-read for privacy
    syn = tsgan.Synthesizer("rcgan", seq_len=4, steps=2, batch_size=8, hidden_g=4, hidden_d=4, holdout=0.25)
    syn.fit(str(p), id_column="id", time_column="t", columns="b,a".split(","))
    assert syn.spec_.columns == ["a", "b"] and syn.read_columns_ == ["b", "a"]
    syn.save(tmp_path / "run")
    back = tsgan.load(tmp_path / "run")
    assert back.read_columns_ == ["b", "a"]
    train, hold = _privacy_sets(back)  # re-read from the file: the same two columns, the same fingerprint
    assert len(train) and len(hold) and train.base.shape[1] == 2


def _privacy_sets(fitted):
    from tsgan.data.kinds import KINDS

    return KINDS[fitted.kind_].privacy_sets(fitted, None)
