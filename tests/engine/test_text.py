"""Text: KeywordText's ground truth, `text:FILE`, the word tokenizer, our text models'
shared interface, training them, the shipped demo text models, and `hf:DIR`."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.analysis import check_input
from engine.data import load_data
from engine.data.keywordtext import (CLASS_NAMES, DISTRACTORS, FILLERS, KEYWORDS,
                                     KeywordTextOptions, generate, label_of)
from engine.demo import DEMO_RECIPES
from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import capture, forward_by_rows, hooked
from engine.models import DEMO_MODELS, RESOURCES, build_arch, load_model
from engine.models.model_dir import MODEL_JSON
from engine.models.tokenizer import PAD, UNK, WordTokenizer
from engine.models.training import TrainConfig, accuracy_of, train
from engine_testkit import hooks_left

TEXT_ARCHS = ("text-cnn", "text-lstm", "text-transformer")
KEYWORD_CLASS = {w: CLASS_NAMES.index(c) for c, words in KEYWORDS.items() for w in words}


def bad_input(call, *args) -> str:
    with pytest.raises(BadInput) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ----------------------------------------------------------------- KeywordText

def test_same_seed_same_sentences_and_sentence_i_does_not_depend_on_n():
    first, again = generate(KeywordTextOptions(n=30, seed=4)), generate(KeywordTextOptions(n=30, seed=4))
    assert first.texts == again.texts and np.array_equal(first.labels, again.labels)
    assert all(np.array_equal(a, b) for a, b in zip(first.keyword_masks, again.keyword_masks))
    assert generate(KeywordTextOptions(n=30, seed=5)).texts != first.texts
    short = generate(KeywordTextOptions(n=4, seed=4))
    assert short.texts == first.subset(range(4)).texts


def test_the_keyword_rule_reproduces_every_label():
    data = load_data("demo:keywordtext?n=400&seed=2")
    assert data.kind == "text" and data.class_names == CLASS_NAMES == ["negative", "positive"]
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [i % 2 for i in range(400)]
    assert [label_of(text) for text in data.texts] == data.labels.tolist()


def test_keyword_masks_mark_exactly_the_keywords_one_or_two_of_the_own_class():
    data = load_data("demo:keywordtext?n=300&seed=3&min_len=3&max_len=9")
    vocabulary = set(FILLERS) | set(DISTRACTORS) | set(KEYWORD_CLASS)
    for words, mask, label in zip(data.words, data.keyword_masks, data.labels):
        assert 3 <= len(words) <= 9 and mask.dtype == bool and mask.shape == (len(words),)
        assert mask.tolist() == [w in KEYWORD_CLASS for w in words]
        assert 1 <= mask.sum() <= 2 and {KEYWORD_CLASS[w] for w in np.array(words)[mask]} == {label}
        assert set(words) <= vocabulary


def test_fillers_and_distractors_carry_no_label_information():
    data = generate(KeywordTextOptions(n=2000, seed=0))
    rates = [np.mean([any(w in DISTRACTORS for w in data.words[i]) for i in range(c, 2000, 2)])
             for c in (0, 1)]
    assert abs(rates[0] - rates[1]) < 0.05 and 0.4 < rates[0] < 0.6
    fillers = [[w for w, k in zip(words, mask) if not k] for words, mask in zip(data.words, data.keyword_masks)]
    counts = [np.array([sum(s.count(f) for s in fillers[c::2]) for f in FILLERS]) for c in (0, 1)]
    shares = [c / c.sum() for c in counts]
    assert np.abs(shares[0] - shares[1]).max() < 0.004  # ≈ 1/247 each, 11k words a class


def test_subset_keeps_names_and_masks():
    data = load_data("demo:keywordtext?n=6&seed=1")
    part = data.subset([4, 1])
    assert part.texts == [data.texts[4], data.texts[1]] and part.labels.tolist() == [0, 1]
    assert part.names == ["keywordtext-s1-4", "keywordtext-s1-1"] and part.spec == data.spec
    assert np.array_equal(part.keyword_masks[0], data.keyword_masks[4]) and len(part) == 2


@pytest.mark.parametrize("spec,fragment", [
    ("demo:keywordtext?size=3", "unknown KeywordText option 'size'; valid options: n, seed, min_len, max_len"),
    ("demo:keywordtext?n=many", "KeywordText option n='many' is not an integer"),
    ("demo:keywordtext?n=0", "KeywordText option n=0 must be an integer in [1, 1000000]"),
    ("demo:keywordtext?min_len=9&max_len=5", "KeywordText option min_len=9 exceeds max_len=5"),
    ("demo:keywordtext?min_len=2", "KeywordText option min_len=2 must be an integer in [3, 100]"),
])
def test_bad_keywordtext_options(spec, fragment):
    assert bad_input(load_data, spec) == fragment


# ----------------------------------------------------------------- text:FILE

def test_text_file_of_plain_and_labelled_lines(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("\ufeffpositive\tA lovely film.\n\nnegative\tDull,  dull  plot\nno label here\n"
                    "positive\t\n", encoding="utf-8")
    data = load_data(f"text:{path}")
    assert data.texts == ["A lovely film.", "Dull,  dull  plot", "no label here"]
    assert data.class_names == ["negative", "positive"] and data.labels.tolist() == [1, 0, -1]
    assert data.names == ["reviews-1", "reviews-3", "reviews-4"] and data.keyword_masks is None
    assert data.notes == ["skipped line 5: a label without a sentence"] and data.spec == f"text:{path}"
    assert data.words[1] == ["Dull,", "dull", "plot"]


def test_text_file_with_number_labels_reads_them_as_class_indices(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("2\tc\n0\ta\n")
    data = load_data(f"text:{path}")
    assert data.class_names == ["0", "1", "2"] and data.labels.tolist() == [2, 0]


@pytest.mark.parametrize("content,fragment", [
    (b"", "holds no sentence"), (b"\n  \n\t\n", "holds no sentence"),
    (b"caf\xe9 au lait\n", "is not UTF-8 text (undecodable byte at offset 3)"),
    (b"a\x00b\n", "is not a text file (it holds NUL bytes)"),
])
def test_bad_text_files(tmp_path, content, fragment):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    assert fragment in bad_input(load_data, f"text:{path}")


def test_missing_text_file_and_options(tmp_path):
    assert bad_input(load_data, f"text:{tmp_path}/none.txt") == f"text file {tmp_path}/none.txt does not exist"
    assert bad_input(load_data, f"text:{tmp_path}") == f"text file {tmp_path} does not exist"
    assert "takes no options" in bad_input(load_data, f"text:{tmp_path}/x.txt?n=3")


# ----------------------------------------------------------------- tokenizer

def test_vocabulary_from_texts_is_ordered_by_frequency_then_alphabet():
    tokenizer = WordTokenizer.from_texts(["b a", "a c!", "A"])
    assert tokenizer.vocab == ["<pad>", "<unk>", "a", "b", "c"]
    assert WordTokenizer.from_description(json.loads(json.dumps(tokenizer.describe()))).vocab == tokenizer.vocab


def test_encode_pads_with_zero_and_keeps_one_token_a_word():
    tokenizer = WordTokenizer(["<pad>", "<unk>", "good", "film"], max_tokens=4)
    tokens, mask, words = tokenizer.encode(["Good film!", "a good  film", "", "film film film film film"])
    assert tokens.dtype == torch.long and mask.dtype == torch.bool and tokens.shape == mask.shape == (4, 4)
    assert tokens.tolist() == [[2, 3, PAD, PAD], [UNK, 2, 3, PAD], [PAD] * 4, [3, 3, 3, 3]]
    assert mask.sum(1).tolist() == [2, 3, 0, 4] and (tokens[~mask] == PAD).all()
    assert words == [["Good", "film!"], ["a", "good", "film"], [], ["film"] * 4]
    assert tokenizer.encode([""])[0].shape == (1, 1)


# ----------------------------------------------------------------- our text models

@pytest.fixture(scope="module")
def sentences():
    data = load_data("demo:keywordtext?n=5&seed=9&min_len=3&max_len=12")
    tokenizer = WordTokenizer.from_texts(data.texts)
    return tokenizer, data.texts


def _model(arch: str, tokenizer) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_arch(arch, num_classes=2, vocab_size=len(tokenizer.vocab)).eval()


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_forward_is_forward_embedded_of_embed(arch, sentences):
    tokenizer, texts = sentences
    model = _model(arch, tokenizer)
    tokens, mask, _ = tokenizer.encode(texts)
    with torch.no_grad():
        embedded = model.embed(tokens)
        logits = model(tokens, mask)
        assert embedded.shape == (*tokens.shape, 64) and logits.shape == (len(texts), 2)
        assert torch.equal(logits, model.forward_embedded(embedded, mask))
        assert torch.equal(logits, model(tokens))  # the mask defaults to tokens != PAD


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_padding_never_changes_a_sentences_logits(arch, sentences):
    tokenizer, texts = sentences
    model = _model(arch, tokenizer)
    with torch.no_grad():
        batch = model(*tokenizer.encode(texts)[:2])
        alone = torch.cat([model(*tokenizer.encode([t])[:2]) for t in texts])
    assert torch.allclose(batch, alone, atol=1e-5)


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_gradient_reaches_every_valid_embedded_row_and_no_padded_one(arch, sentences):
    tokenizer, texts = sentences
    model = _model(arch, tokenizer)
    tokens, mask, _ = tokenizer.encode(texts)
    embedded = model.embed(tokens).detach().requires_grad_()
    model.forward_embedded(embedded, mask).sum().backward()
    row_grad = embedded.grad.abs().sum(-1)
    assert (row_grad[mask] > 0).all() and (row_grad[~mask] == 0).all()


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_hooks_see_one_token_by_hidden_tensor_a_layer_and_are_removed(arch, sentences):
    tokenizer, texts = sentences
    model = _model(arch, tokenizer)
    tokens = tokenizer.encode(texts)[0]
    layers = list(model.layer_names)
    assert model.default_layer == layers[-1]
    full = capture(model, tokens, layers, truncate=False)
    cut = capture(model, tokens, layers)
    for name in layers:
        assert full[name].shape == (*tokens.shape, 64), name
        assert torch.equal(full[name], cut[name])
    assert hooks_left(model) == {}


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_rows_leaving_early_get_their_own_features_or_a_runtime_error(arch, sentences):
    """`forward_by_rows` cuts rows the token mask cannot follow: the model must then raise
    RuntimeError (the caller falls back to one full pass), never return wrong features."""
    tokenizer, texts = sentences
    model = _model(arch, tokenizer)
    tokens = tokenizer.encode(texts)[0]
    layers = list(model.layer_names)
    full = capture(model, tokens, layers)
    row_layer = torch.arange(len(texts)) % len(layers)
    try:
        with torch.no_grad():
            rows = forward_by_rows(model, tokens, layers, row_layer)
    except RuntimeError:
        assert arch != "text-lstm"  # nothing masked between its layers: it must cut cleanly
        return
    for i, name in enumerate(layers):
        assert torch.allclose(rows[name], full[name][row_layer == i], atol=1e-6), name


# ----------------------------------------------------------------- training and loading

@pytest.fixture(scope="module")
def trained_text_cnn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text-cnn")
    config = TrainConfig(epochs=2, val_data="demo:keywordtext?n=20&seed=1")
    description = train("text-cnn", "demo:keywordtext?n=60&seed=0", str(folder), config, Progress())
    return folder, description


def test_training_a_text_model_saves_its_vocabulary(trained_text_cnn):
    folder, description = trained_text_cnn
    loaded = load_model(f"dir:{folder}")
    assert loaded.input_kind == "text" and loaded.arch == "text-cnn" and loaded.input_size is None
    assert loaded.class_names == CLASS_NAMES and loaded.layers == ["conv1", "conv2"]
    assert loaded.tokenizer.vocab == description["vocab"][:len(loaded.tokenizer.vocab)]
    assert description["arch_args"] == {"num_classes": 2, "vocab_size": len(description["vocab"])}
    assert description["training"]["config"]["val_data"] == "demo:keywordtext?n=20&seed=1"
    tokens, mask, words = loaded.encode(["a lovely film", "dismal"])
    assert tokens.shape == (2, 3) and words[1] == ["dismal"] and loaded.module(tokens, mask).shape == (2, 2)


def test_text_training_defaults_to_keywordtext_of_another_seed(tmp_path):
    description = train("text-lstm", "demo:keywordtext?n=8&seed=0", str(tmp_path),
                        TrainConfig(epochs=1), Progress())
    assert description["training"]["config"]["val_data"] == "demo:keywordtext?n=500&seed=1"
    assert description["training"]["command"].endswith(f"--out {tmp_path} --set epochs=1")


def test_text_architecture_refuses_images_and_the_reverse(tmp_path):
    quick = TrainConfig(epochs=1)
    assert bad_input(train, "text-cnn", "demo:partworld?n=2&size=32", str(tmp_path), quick, Progress()) == \
        "data demo:partworld?n=2&size=32 is image data; this architecture reads text data"
    assert bad_input(train, "partworld-cnn", "demo:keywordtext?n=2", str(tmp_path), quick, Progress()) == \
        "data demo:keywordtext?n=2 is text data; this architecture reads image data"


def test_training_needs_labelled_text(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("a lovely film\n")
    assert bad_input(train, "text-cnn", f"text:{path}", str(tmp_path / "m"), TrainConfig(epochs=1), Progress()) == \
        f"data text:{path} has unlabelled samples; training and its evaluation need labels"


def test_text_model_folder_without_vocab(trained_text_cnn, tmp_path):
    folder, description = trained_text_cnn
    for name in ("weights.safetensors", MODEL_JSON):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / MODEL_JSON).write_text(json.dumps({k: v for k, v in description.items() if k != "vocab"}))
    assert bad_input(load_model, f"dir:{tmp_path}") == \
        f"{tmp_path / MODEL_JSON} names text architecture text-cnn but holds no 'vocab' list"
    (tmp_path / MODEL_JSON).write_text(json.dumps({**description, "vocab": description["vocab"] + ["extra"]}))
    assert bad_input(load_model, f"dir:{tmp_path}") == (f"{tmp_path / MODEL_JSON}: 'vocab' has "
                                                        f"{len(description['vocab']) + 1} words but the "
                                                        f"embedding {len(description['vocab'])} rows")


def test_check_input_matches_the_model_to_the_data(trained_text_cnn, model_spec):
    folder, _ = trained_text_cnn
    text_model, image_model = load_model(f"dir:{folder}"), load_model(model_spec)
    text, images = load_data("demo:keywordtext?n=2"), load_data("demo:partworld?n=1&size=32")
    check_input(text_model, text)
    check_input(image_model, images)
    assert bad_input(check_input, text_model, images) == \
        f"dir:{folder} reads text input, but demo:partworld?n=1&size=32 is image data"
    assert bad_input(check_input, image_model, text) == \
        f"{model_spec} reads image input, but demo:keywordtext?n=2 is text data"


# ----------------------------------------------------------------- shipped demo text models

@pytest.mark.parametrize("name", TEXT_ARCHS)
def test_shipped_text_model_records_the_command_that_reproduces_it(name):
    described = json.loads((DEMO_MODELS[name] / MODEL_JSON).read_text())
    arch, data_spec, sets = DEMO_RECIPES[name]
    expected = (f'deepscope train {arch} --data "{data_spec}" --out resources/demo/{name}'
                + "".join(f" --set {k}={v}" for k, v in sets.items()))
    assert described["training"]["command"] == expected
    assert expected in (RESOURCES / "README.md").read_text()
    assert described["training"]["val_accuracy"] >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("name", TEXT_ARCHS)
def test_demo_text_model_classifies_keywordtext_of_another_seed(name):
    model = load_model(f"demo:{name}")
    data = load_data("demo:keywordtext?n=300&seed=7")
    assert model.class_names == data.class_names and model.input_kind == "text"
    tokens, mask, _ = model.encode(data.texts)
    assert accuracy_of(model.module, (tokens, mask), data.labels) >= 0.95


# ----------------------------------------------------------------- hf:DIR

HF_WORDS = ("[PAD] [UNK] [CLS] [SEP] [MASK] the a film was lovely dull plot very good bad "
            "movie ##s and it".split())
HF_TEXTS = ["the film was lovely", "a dull plot and very bad movies", "it"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A tiny BERT classifier saved as `save_pretrained` writes it, and its tokenizer."""
    import transformers  # noqa: PLC0415 (slow: only the hf tests need it)

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(HF_WORDS) + "\n")
    tokenizer = transformers.BertTokenizer(str(folder / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(HF_WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, num_labels=2,
        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, model, tokenizer


def test_hf_model_loads_from_disk_alone_and_gives_transformers_logits(tiny_bert, monkeypatch):
    import socket  # noqa: PLC0415 (only this test replaces its connect)

    folder, reference, tokenizer = tiny_bert
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("tried the network"))
    loaded = load_model(f"hf:{folder}")
    assert loaded.arch == "hf" and loaded.input_kind == "text" and not loaded.module.training
    assert loaded.class_names == ["negative", "positive"]
    assert loaded.layers == ["encoder.layer.0", "encoder.layer.1"]
    tokens, mask, _ = loaded.encode(HF_TEXTS)
    with torch.no_grad():
        expected = reference(**tokenizer(HF_TEXTS, padding=True, return_tensors="pt")).logits
        logits = loaded.module(tokens, mask)
        assert torch.allclose(logits, expected, atol=1e-5)
        assert torch.equal(logits, loaded.module.forward_embedded(loaded.module.embed(tokens), mask))
        assert torch.equal(logits, loaded.module(tokens))


def test_hf_tokenizer_gives_word_pieces_padded_on_the_right(tiny_bert):
    folder, _, _ = tiny_bert
    tokens, mask, words = load_model(f"hf:{folder}").encode(HF_TEXTS)
    assert tokens.shape == mask.shape == (3, 10) and mask.sum(1).tolist() == [6, 10, 3]
    assert words[1] == ["[CLS]", "a", "dull", "plot", "and", "very", "bad", "movie", "##s", "[SEP]"]
    assert words[2] == ["[CLS]", "it", "[SEP]"] and (tokens[~mask] == 0).all()


def test_hf_layer_hooks_see_each_layers_hidden_states(tiny_bert):
    folder, reference, tokenizer = tiny_bert
    loaded = load_model(f"hf:{folder}")
    tokens = loaded.encode(HF_TEXTS)[0]
    layers = loaded.layers
    states = capture(loaded.module, tokens, layers)  # stops inside the HF forward pass
    with torch.no_grad():
        hidden = reference(**tokenizer(HF_TEXTS, padding=True, return_tensors="pt"),
                           output_hidden_states=True).hidden_states
    for i, name in enumerate(layers):
        assert states[name].shape == (3, 10, 32)
        assert torch.allclose(states[name], hidden[i + 1], atol=1e-5), name
    taps = {name: n for name, n in hooks_left(loaded.module).items() if not name.startswith("hf.")}
    assert taps == {}  # what remains are the wrapper's own hooks on the HF layers


def test_hf_tap_hook_output_flows_on_and_embeddings_take_gradient(tiny_bert):
    folder, _, _ = tiny_bert
    loaded = load_model(f"hf:{folder}")
    model, (tokens, mask, _) = loaded.module, loaded.encode(HF_TEXTS)
    tap = dict(model.named_modules())["encoder.layer.0"]
    with torch.no_grad():
        clean = model(tokens, mask)
        with hooked(model, ["encoder.layer.0"], {}):  # a hook that only reads changes nothing
            assert torch.equal(model(tokens, mask), clean)
        zeroed = tap.register_forward_hook(lambda _m, _i, out: torch.zeros_like(out))
        try:
            assert not torch.allclose(model(tokens, mask), clean)
        finally:
            zeroed.remove()
    embedded = model.embed(tokens).detach().requires_grad_()
    model.forward_embedded(embedded, mask).sum().backward()
    assert embedded.grad.abs().sum(-1)[mask].gt(0).all()


def test_hf_bad_folders(tmp_path, tiny_bert):
    import transformers  # noqa: PLC0415

    assert bad_input(load_model, f"hf:{tmp_path}/none") == \
        f"Hugging Face model folder {tmp_path}/none does not exist"
    assert bad_input(load_model, f"hf:{tmp_path}") == \
        f"{tmp_path} is not a Hugging Face model folder (no config.json; save_pretrained writes one)"
    (tmp_path / "config.json").write_text("{not json")
    assert bad_input(load_model, f"hf:{tmp_path}").startswith(
        f"{tmp_path} could not be loaded as a Hugging Face sequence classifier (")
    _, reference, tokenizer = tiny_bert
    base = tmp_path / "base"
    transformers.BertModel(reference.config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    assert bad_input(load_model, f"hf:{base}").startswith(f"{base} holds no trained classification head")



def test_information_runs_on_an_hf_model_at_every_encoder_layer(tiny_bert, tmp_path):
    from engine.analysis import AnalysisRequest, execute  # noqa: PLC0415
    from engine.jobs import Progress  # noqa: PLC0415

    folder = tiny_bert[0]
    (tmp_path / "sentences.txt").write_text("1\tthe film was lovely\n0\ta dull plot\n")
    request = AnalysisRequest("information", f"hf:{folder}", f"text:{tmp_path / 'sentences.txt'}", [],
                              {"iterations": "4", "draws": "2", "eval_draws": "2", "judge_draws": "4"})
    record = execute(request, Progress())
    assert record.meta["layers"] == ["encoder.layer.0", "encoder.layer.1"]
    assert record.meta["words"][0] == ["[CLS]", "the", "film", "was", "lovely", "[SEP]"]
    entropy = record.arrays["entropy/encoder.layer.1"]
    assert np.isfinite(entropy[0]).all() and np.isnan(entropy[1, 5:]).all()  # "[CLS] a dull plot [SEP]"
