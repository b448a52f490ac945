"""Images: loaders (folder, .npy, digits), DCGAN through the shared loop, controls, CLI."""

import json

import numpy as np
import pytest

import tsgan
from tsgan.data.images import load_images, save_images
from tsgan.errors import TsganError
from tsgan.models import models_of_kind
from tsgan.objectives import OBJECTIVES

from conftest import run_cli

TINY = {"width": 8, "batch_size": 16, "latent_dim": 8}


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """24 RGB 12x12 images: a bright square at one of two places."""
    x = np.zeros((24, 3, 12, 12), np.float32)
    x[:12, :, 2:6, 2:6] = 1.0
    x[12:, :, 6:10, 6:10] = 0.8
    return x


def fit(x, steps=4, model="dcgan", **kw):
    return tsgan.Synthesizer(model=model, steps=steps, **{**TINY, **kw}).fit(x)


@pytest.mark.parametrize("name", models_of_kind("image"))
def test_image_contract(name, blobs, tmp_path):
    syn = fit(blobs, model=name)
    x = syn.sample_array(5, seed=3)
    assert x.shape == (5, 3, 12, 12) and x.min() >= 0 and x.max() <= 1  # any side 8..64, in [0, 1]
    np.testing.assert_array_equal(syn.sample_array(5, seed=3), x)
    assert not np.array_equal(syn.sample_array(5, seed=4), x)
    assert len(syn.history_) == syn.train_info_["steps"]
    syn.save(tmp_path / "run")
    back = tsgan.load(tmp_path / "run", device="auto")  # the fit's device
    np.testing.assert_allclose(back.sample_array(5, seed=3), x, atol=1e-6)
    assert json.loads((tmp_path / "run" / "tsgan.json").read_text())["kind"] == "image"
    frame = syn.sample(2, seed=3)  # a DataFrame, as for every kind: one row per image, a column per pixel
    assert frame.shape == (2, 3 * 12 * 12) and frame.columns[0] == "pixel_0_0_0"
    np.testing.assert_allclose(frame.to_numpy().reshape(2, 3, 12, 12), x[:2])


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_every_objective_on_dcgan(objective, blobs):
    syn = fit(blobs, steps=3, objective=objective)
    assert np.isfinite(syn.sample_array(2, seed=0)).all()
    losses = syn.history_.filter(like="/loss").to_numpy(dtype=float)
    assert np.isfinite(losses).all()
    # the gradient penalty is per sample, so that critic uses layer norm instead of batch norm
    assert syn.module_.critic_norm == ("layer" if OBJECTIVES[objective].gradient_penalty else "batch")


def test_conditional_dcgan_and_infogan_on_digits(tmp_path):
    syn = tsgan.Synthesizer(model="dcgan", steps=3, **TINY).fit("digits", condition_columns=["label"])
    x = syn.sample_array(10, seed=0, condition=list(range(10)))
    assert x.shape == (10, 1, 8, 8)
    assert not np.array_equal(syn.sample_array(3, seed=0, condition=1), syn.sample_array(3, seed=0, condition=7))
    with pytest.raises(TsganError, match="unknown label 11 for condition 'label'"):
        syn.sample_array(2, condition=11)
    with pytest.raises(TsganError, match="pass --condition-column label"):
        tsgan.Synthesizer(model="dcgan", steps=1, **TINY).fit("digits", condition_columns=["digit"])
    info = tsgan.Synthesizer(model="dcgan", steps=3, info_categories=10, info_continuous=2, **TINY).fit("digits")
    assert "d/info" in info.history_ and not np.array_equal(info.sample_array(4, seed=0, codes=1), info.sample_array(4, seed=0, codes=2))


def test_image_loaders(tmp_path, blobs):
    from PIL import Image

    for label, k in (("a", 0), ("b", 12)):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray((blobs[k + i].transpose(1, 2, 0) * 255).astype(np.uint8)).save(tmp_path / "imgs" / label / f"{i}.png")
    x, labels, _ = load_images(tmp_path / "imgs")
    assert x.shape == (6, 3, 12, 12) and sorted(set(labels)) == ["a", "b"]
    np.testing.assert_allclose(x[0], blobs[0], atol=1 / 255)
    x16, _, _ = load_images(tmp_path / "imgs", size=16)
    assert x16.shape == (6, 3, 16, 16)
    np.save(tmp_path / "a.npy", (blobs.transpose(0, 2, 3, 1) * 255).astype(np.uint8))  # (N, H, W, C) in 0..255
    xn, _, _ = load_images(tmp_path / "a.npy")
    np.testing.assert_allclose(xn, blobs, atol=1 / 255)
    d, y, name = load_images("digits")
    assert d.shape == (1797, 1, 8, 8) and d.max() == 1.0 and set(y) == set(range(10)) and name == "digits"
    with pytest.raises(TsganError, match="sizes from 8 to 64"):
        load_images(np.zeros((3, 4, 4), np.float32))
    with pytest.raises(TsganError, match="not square: pass --param image_size=N"):
        load_images(np.zeros((3, 1, 8, 10), np.float32))
    with pytest.raises(TsganError, match="NaN"):
        load_images(np.full((3, 8, 8), np.nan, np.float32))
    (tmp_path / "empty").mkdir()
    with pytest.raises(TsganError, match="has no .png/.jpg images"):
        load_images(tmp_path / "empty")
    grid = save_images(blobs[:5], tmp_path / "g.png", scale=2)
    assert Image.open(grid).size == ((3 * 13 + 1) * 2, (2 * 13 + 1) * 2)


def test_images_from_the_cli(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(["fit", "--model", "rcgan", "digits", "--model", "dcgan", "--steps", "2", "-p", "width=8", "-p", "batch_size=16",
                              "-c", "label", "--out", run, "-q", "--sample", "4"], monkeypatch, capsys)
    assert code == 0, err
    assert "1797 images (1 x 8 x 8)" in out and (run / "synthetic.png").exists()
    code, out, err = run_cli(["sample", run, "-n", "9", "--condition", "label=4", "--out", tmp_path / "four.png"], monkeypatch, capsys)
    assert code == 0, err and (tmp_path / "four.png").exists()
    code, out, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "pngs"], monkeypatch, capsys)
    assert code == 0 and len(list((tmp_path / "pngs").glob("*.png"))) == 3
    code, out, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "x.npy"], monkeypatch, capsys)
    assert code == 0 and np.load(tmp_path / "x.npy").shape == (3, 1, 8, 8)
    code, _, err = run_cli(["sample", run, "-n", "3", "--out", tmp_path / "x.csv"], monkeypatch, capsys)
    assert code == 2 and "image runs write a .png grid" in err
    code, _, err = run_cli(["fit", "--model", "rcgan", tmp_path / "missing", "--model", "dcgan", "--out", tmp_path / "r2"], monkeypatch, capsys)
    assert code == 2 and "pass an image folder" in err


def test_dcgan_dp_needs_layer_norm(blobs):
    pytest.importorskip("opacus")
    with pytest.raises(TsganError, match="critic_norm=layer"):
        fit(blobs, dp_epsilon=5.0)
    syn = fit(blobs, dp_epsilon=5.0, dp_delta=1e-3, critic_norm="layer")
    assert syn.train_info_["dp"]["epsilon"] == pytest.approx(5.0, rel=0.02)


def test_image_scores_known_answers():
    from tsgan.data.images import digits
    from tsgan.evaluate import evaluate_images
    from tsgan.metrics.embedding import EncoderConfig

    x, _ = digits()
    r = np.random.default_rng(0).permutation(len(x))
    c = EncoderConfig(hidden=32, steps=250, dim=16)
    same = evaluate_images(x[r[:500]], x[r[500:1000]], encoder=c)
    noise = evaluate_images(x[r[:500]], np.random.default_rng(1).uniform(size=(500, 1, 8, 8)).astype(np.float32), encoder=c)
    assert same["precision"] > 0.85 and same["recall"] > 0.85 and noise["precision"] < 0.1 and noise["recall"] < 0.1
    assert same["fid"] < 0.1 * noise["fid"]
    with pytest.raises(TsganError, match="differ in shape"):
        evaluate_images(x[:20], x[:20, :, :4, :4])


def test_image_report_from_the_cli(tmp_path, monkeypatch, capsys):
    import functools

    from tsgan.metrics import embedding

    monkeypatch.setenv("TSGAN_CACHE", str(tmp_path / "cache"))
    # the report is under test, not the embedding: a small one (its quality is pinned in test_image_scores_known_answers)
    monkeypatch.setattr(embedding, "EncoderConfig", functools.partial(embedding.EncoderConfig, hidden=16, steps=60, dim=8))
    run = tmp_path / "run"
    run_cli(["fit", "--model", "rcgan", "digits", "--model", "dcgan", "--steps", "2", "-p", "width=8", "--out", run, "-q"], monkeypatch, capsys)
    code, out, err = run_cli(["evaluate", "digits", run, "--out", tmp_path / "rep", "-n", "50"], monkeypatch, capsys)
    assert code == 0, err
    assert "fid" in out and json.loads((tmp_path / "rep" / "metrics.json").read_text())["n_synthetic"] == 50
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "Real and synthetic images" in page and "Training losses" in page
