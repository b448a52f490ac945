"""Tables: the mode-specific transformer, CTGAN through the shared loop, table scores, CLI."""

import json

import numpy as np
import pandas as pd
import pytest

import tsgan
from tsgan.data.tabular import TableData, TableTransformer
from tsgan.errors import TsganError
from tsgan.metrics.tabular import detection_auc, evaluate_table, marginal_similarity, pair_similarity, tstr
from tsgan.models import models_of_kind

from conftest import run_cli

TINY = {"hidden": 16, "latent_dim": 8, "batch_size": 20, "pac": 10}


def make_table(seed: int = 0, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["north", "south", "east"], n, p=[0.6, 0.3, 0.1])
    income = np.where(city == "north", rng.normal(30, 3, n), rng.normal(80, 5, n))  # bimodal, tied to city
    df = pd.DataFrame({"age": rng.integers(18, 80, n), "income": income, "city": city, "member": rng.random(n) < 0.3})
    df.loc[::25, "city"] = None  # missing labels are modelled as a category
    return df


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table(0)


def test_transformer_round_trip(table):
    t = TableTransformer().fit(table)
    kinds = {c["name"]: c["kind"] for c in t.columns_}
    assert kinds == {"age": "numeric", "income": "numeric", "city": "categorical", "member": "categorical"}
    income = next(c for c in t.columns_ if c["name"] == "income")
    assert len(income["means"]) >= 2  # the two income modes are found
    x = t.transform(table)
    assert x.shape == (200, t.width) and np.abs(x[:, 0]).max() <= 0.99
    back = t.inverse_transform(x)
    np.testing.assert_allclose(back["income"], table["income"], rtol=1e-6)
    np.testing.assert_array_equal(back["age"], table["age"])  # integers restored exactly
    assert back["city"].isna().sum() == table["city"].isna().sum() and (back["city"].dropna() == table["city"].dropna()).all()
    assert back["member"].dtype == bool and (back["member"] == table["member"]).all()
    again = TableTransformer.from_dict(json.loads(json.dumps(t.to_dict())))
    np.testing.assert_array_equal(again.transform(table), x)


def test_generated_numbers_respect_range_observed_values_and_decimals():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "bracket": rng.choice([17.5, 22.0, 27.0, 42.0], 300),  # few values, stored as floats
        "price": np.round(rng.normal(50, 5, 300), 2),  # written with two decimals
        "ratio": rng.random(300),  # full precision
    })
    t = TableTransformer().fit(df)
    cols = {c["name"]: c for c in t.columns_}
    assert cols["bracket"]["values"] == [17.5, 22.0, 27.0, 42.0]
    assert cols["price"]["decimals"] == 2 and cols["ratio"]["decimals"] is None
    # a generator's raw rows: alphas anywhere in [-1, 1], any mode
    x = t.transform(df)
    alphas = [j for j, b in enumerate(b for b in t.blocks for _ in range(b.width)) if b.kind == "tanh"]
    x[:, alphas] = rng.uniform(-1, 1, (300, len(alphas)))
    out = t.inverse_transform(x)
    assert set(out["bracket"]) <= {17.5, 22.0, 27.0, 42.0} and len(set(out["bracket"])) > 1
    np.testing.assert_array_equal(out["price"], np.round(out["price"], 2))
    for name in df:
        assert df[name].min() <= out[name].min() and out[name].max() <= df[name].max()
    inside = out["ratio"][(out["ratio"] > df["ratio"].min()) & (out["ratio"] < df["ratio"].max())]
    assert len(inside) > 100 and len(np.unique(inside)) == len(inside)  # nothing snapped or rounded there
    old = {**t.to_dict(), "columns": [{k: v for k, v in c.items() if k not in ("min", "max", "values", "decimals")} for c in t.columns_]}
    assert TableTransformer.from_dict(old).inverse_transform(x)["price"].max() > df["price"].max()  # older runs: as before


def test_transformer_refusals(table):
    with pytest.raises(TsganError, match="column 'income' has 1 missing"):
        TableTransformer().fit(table.assign(income=table["income"].where(table.index != 3)))
    t = TableTransformer().fit(table)
    with pytest.raises(TsganError, match="unknown label 'west' for condition 'city'"):
        t.condition_vector({"city": "west"}, 3)
    with pytest.raises(TsganError, match="not a categorical column"):
        t.condition_vector({"income": 3}, 3)


def test_training_by_sampling_matches_the_condition(table):
    import torch

    t = TableTransformer().fit(table)
    sampler = TableData(t.transform(table), t).to("cpu")
    x, cond = sampler.batch(400, torch.Generator().manual_seed(0))
    assert x.shape == (400, t.width) and cond.shape == (400, t.cond_width)
    assert (cond.sum(1) == 1).all()
    # each row drawn has the category its conditional vector asks for
    st = sum(b.width for b in t.blocks[:4])  # city's one-hot starts after age and income blocks
    city_cond = cond[:, :4]
    chosen = city_cond.sum(1) == 1
    assert torch.equal(x[chosen, st : st + 4].argmax(1), city_cond[chosen].argmax(1))
    # rare categories are over-sampled (log frequency): 'east' (10 %) appears in well over 10 % of city rows
    east = t.columns_[2]["keys"].index("east")
    assert city_cond[chosen, east].mean() > 0.2


@pytest.mark.parametrize("name", models_of_kind("table"))
def test_table_contract(name, table, tmp_path):
    syn = tsgan.Synthesizer(model=name, steps=6, **TINY).fit(table)
    s = syn.sample(50, seed=0)
    assert list(s.columns) == list(table.columns) and len(s) == 50
    assert s["age"].dtype == table["age"].dtype and s["member"].dtype == bool
    assert set(s["city"].dropna()) <= {"north", "south", "east"}
    pd.testing.assert_frame_equal(syn.sample(20, seed=3), syn.sample(20, seed=3))
    syn.save(tmp_path / "run")
    pd.testing.assert_frame_equal(tsgan.load(tmp_path / "run", device="auto").sample(20, seed=3), syn.sample(20, seed=3))
    assert syn.sample(5, seed=0, condition={"city": "east"}).shape == (5, 4)
    with pytest.raises(TsganError, match="unknown label 'west'"):
        syn.sample(5, condition={"city": "west"})


@pytest.mark.parametrize("columns", [["age", "income"], ["city", "member"]])
def test_ctgan_on_all_numeric_or_all_categorical_tables(columns, table):
    # no categories means an empty conditional vector; no numbers, no tanh outputs
    part = table[columns]
    syn = tsgan.Synthesizer(model="ctgan", steps=3, info_categories=2, **TINY).fit(part)
    s = syn.sample(30, seed=0, codes=1)
    assert list(s.columns) == columns and len(s) == 30
    assert all(s[c].dtype == part[c].dtype for c in columns)


def test_ctgan_conditional_sampling_learns(table):
    # the conditional vector plus the generator's cross-entropy term steer the column:
    # far above the base rates (south 30 %, east 10 %) after a short run
    syn = tsgan.Synthesizer(model="ctgan", steps=300, hidden=32, batch_size=50, lr=2e-3).fit(table)
    share = {c: (syn.sample(200, seed=0, condition={"city": c})["city"] == c).mean() for c in ("south", "east")}
    assert share["south"] > 0.5 and share["east"] > 0.4


@pytest.mark.parametrize("objective", ["minimax", "nonsaturating", "wgan", "wgan-gp", "hinge"])
def test_every_objective_and_infogan_on_ctgan(objective, table):
    syn = tsgan.Synthesizer(model="ctgan", steps=3, objective=objective, info_categories=2, **TINY).fit(table)
    assert np.isfinite(syn.history_.filter(like="/loss").to_numpy(dtype=float)).all()
    assert len(syn.sample(10, seed=0, codes=1)) == 10


def test_ctgan_refuses_dp_and_bad_pac(table):
    with pytest.raises(TsganError, match="DP is not offered for ctgan"):
        tsgan.Synthesizer(model="ctgan", steps=2, dp_epsilon=1.0, **TINY).fit(table)
    with pytest.raises(TsganError, match="multiple of pac=10"):
        tsgan.Synthesizer(model="ctgan", steps=2, **{**TINY, "batch_size": 25}).fit(table)


def test_table_scores_known_answers():
    rng = np.random.default_rng(1)
    table = make_table(0, n=2000)
    same = make_table(seed=5, n=2000)  # an independent sample of the same process
    # independent column shuffles keep every marginal but break the city-income link
    broken = pd.DataFrame({c: table[c].to_numpy()[rng.permutation(len(table))] for c in table.columns})
    assert marginal_similarity(table, broken)["income"] == pytest.approx(1.0)
    assert pair_similarity(table, table.sample(frac=1.0, random_state=2)) == pytest.approx(1.0)
    assert pair_similarity(table, same) > pair_similarity(table, broken) + 0.03
    assert detection_auc(table, table.copy()) < 0.65
    noise = table.assign(income=rng.uniform(-1000, 1000, len(table)))
    assert detection_auc(table, noise) > 0.9
    t = tstr(table, same, target="city")
    assert t["tstr"] == pytest.approx(t["trtr"], abs=0.1)
    assert evaluate_table(table, broken, target="city")["tstr"]["tstr"] < t["trtr"]
    with pytest.raises(TsganError, match="columns differ"):
        detection_auc(table, table.drop(columns="age"))


def test_tables_from_the_cli(tmp_path, monkeypatch, capsys, table):
    data = tmp_path / "t.csv"
    table.to_csv(data, index=False)
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", "--model", "rcgan", data, "--model", "ctgan", "--steps", "3", "-p", "hidden=16", "-p", "batch_size=20", "--out", run, "-q"], monkeypatch, capsys)
    assert code == 0, err
    assert "200 rows x 4 columns" in out
    code, out, err = run_cli(["sample", run, "-n", "30", "--out", tmp_path / "s.csv", "--condition", "city=east"], monkeypatch, capsys)
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "s.csv")) == 30
    code, out, err = run_cli(["evaluate", data, run, "--out", tmp_path / "rep", "--target", "city"], monkeypatch, capsys)
    assert code == 0, err
    assert "detection_auc" in out and "Per-column distributions" in (tmp_path / "rep" / "report.html").read_text()


def test_table_embedding_scores_known_answers():
    from tsgan.metrics.tabular import embedding_scores

    a, b = make_table(0, 600), make_table(5, 600)
    noise = a.assign(income=np.random.default_rng(1).uniform(-100, 300, len(a)))
    same, off = embedding_scores(a, b), embedding_scores(a, noise)
    assert same["precision"] > 0.9 and same["recall"] > 0.9 and off["precision"] < 0.5
    assert same["fid"] < 0.1 * off["fid"] and same["embedding"]["kind"].startswith("table")


def test_ctgan_gradient_penalty_is_per_pack(table):
    # the adversary's samples are packs of `pac` rows: one alpha and one gradient norm per pack
    import torch

    syn = tsgan.Synthesizer(model="ctgan", steps=1, device="cpu", **TINY).fit(table)
    m = syn.module_
    x = torch.rand(20, m.width)
    assert m.pack(x).shape == (2, 10 * m.width)
    calls = []
    real_gp = m.adversary.add_penalty

    def spy(loss, real, fake, rng, cond=None, gp=None):
        calls.append((real.shape, cond.shape))
        return real_gp(loss, real, fake, rng, cond, gp)

    m.adversary.add_penalty = spy
    from tsgan.training import Batch

    xb = torch.rand(20, m.width)
    cb = torch.zeros(20, m.cond_width)
    m.d_loss(Batch(xb, torch.Generator().manual_seed(0), cb))
    assert calls == [(torch.Size([2, 10 * m.width]), torch.Size([2, 10 * m.cond_width]))]


def test_ctgan_infogan_codes_are_per_row_and_q_reads_every_row_of_a_pack(table, tmp_path):
    # packs of fakes must mix codes as real packs mix modes (one code per pack would let
    # the PacGAN critic punish a code that picks one mode); Q predicts each row's code
    import torch
    import torch.nn.functional as F

    from tsgan.training import Batch

    syn = tsgan.Synthesizer(model="ctgan", steps=2, info_categories=3, device="cpu", **TINY).fit(table)
    m = syn.module_
    batch = Batch(torch.rand(20, m.width), torch.Generator().manual_seed(0), torch.zeros(20, m.cond_width))
    raw, fake, seen, codes = m.fake(batch)
    assert codes.shape == (20, 3) and len(set(codes[:10].argmax(1).tolist())) > 1
    # Q reads the rows as sampled: hard one-hots of the same Gumbel draw (the soft
    # ones could carry a code that sampling erases), with the soft gradient
    for start, block in m.spans:
        cols = slice(start, start + block["width"])
        if block["kind"] == "softmax":
            block_values = seen[:, cols].detach()
            assert torch.allclose(block_values, block_values.round(), atol=1e-6) and torch.allclose(block_values.sum(1), torch.ones(20))
            assert torch.equal(seen[:, cols].argmax(1), fake[:, cols].argmax(1))
        else:
            assert torch.equal(seen[:, cols], fake[:, cols])
    (grad,) = torch.autograd.grad(seen[:, m.cat_spans[0][0]].sum(), raw)
    assert grad.abs().sum() > 0
    # known answer: the info term is the mean cross-entropy of Q's per-row logits
    feats = m.discriminator.features(torch.cat([m.pack(seen), m.pack(batch.cond)], dim=1))
    logits = m.controls.q(feats).reshape(20, 3)
    _, logs = m.with_info(torch.zeros(()), {}, seen, batch.cond, codes)
    assert logs["info"].item() == pytest.approx(F.cross_entropy(logits, codes.argmax(1)).item(), rel=1e-5)
    # a run saved when Q predicted one code per pack loads: its head serves every row
    state = m.state_dict()
    state["controls.q.weight"] = state["controls.q.weight"][:3].clone()
    state["controls.q.bias"] = state["controls.q.bias"][:3].clone()
    m.load_state_dict(state)
    assert torch.equal(m.controls.q.weight[3:6], m.controls.q.weight[:3])


def test_ctgan_activation_and_cond_loss_match_a_per_column_loop(table):
    # known answer for the vectorised paths: tanh on alphas, softmax(raw / tau) per one-hot
    # block (eq. 4.2 without the Gumbel noise), cross-entropy of the conditioned column
    import torch
    import torch.nn.functional as F

    m = tsgan.Synthesizer(model="ctgan", steps=1, device="cpu", **TINY).fit(table).module_
    torch.manual_seed(0)
    row = torch.randn(20, m.width)  # raw values in the row's column order
    raw = torch.empty(20, m.width)  # the generator's layout
    raw[:, m.order] = row
    want = torch.empty_like(row)
    for start, block in m.spans:
        w = block["width"]
        part = row[:, start : start + w]
        want[:, start : start + w] = torch.tanh(part) if block["kind"] == "tanh" else F.softmax(part / m.config.tau, -1)
    torch.testing.assert_close(m.activate(raw, None), want)
    hard = m.activate(raw, torch.Generator().manual_seed(0), hard=True)
    for start, block in m.spans:
        if block["kind"] == "softmax":
            assert torch.equal(hard[:, start : start + block["width"]].sum(1), torch.ones(20))
    # row i conditioned on one label of one categorical column, cycling through both
    assert len(m.cat_spans) >= 2
    cond = torch.zeros(20, m.cond_width)
    expected = torch.zeros(())
    offset = [sum(w for _, w in m.cat_spans[:c]) for c in range(len(m.cat_spans))]
    for i in range(20):
        c = i % len(m.cat_spans)
        (cs, cw), label = m.cat_spans[c], i % m.cat_spans[c][1]
        cond[i, offset[c] + label] = 1
        expected = expected + F.cross_entropy(row[i : i + 1, cs : cs + cw], torch.tensor([label])) / 20
    torch.testing.assert_close(m.cond_loss(raw, cond), expected)
