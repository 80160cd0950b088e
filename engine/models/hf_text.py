"""`hf:DIR`: a Hugging Face sequence classifier on disk, behind our text-model interface.

Loaded with transformers' Auto classes from the folder alone (`local_files_only`): nothing
is ever downloaded. `HFTextClassifier` gives it the interface of `text_models`:

* `embed(tokens)`: the output of the model's embeddings module (word + position + token
  type, after LayerNorm), the rows a perturbation method adds noise to;
* `forward_embedded(embedded, mask)`: the model's own forward pass with the embeddings
  module's output replaced by `embedded` (a hook for the duration of the call), so the
  encoder, pooler and classifier are exactly the model's and its logits are transformers';
* `layer_names` ("encoder.layer.0", ... as the model names its encoder layers): one tap a
  layer. Each HF layer keeps a hook that passes its hidden state (B,T,H) through its tap
  and puts the tap's output back in its place, so a forward hook registered on the tap
  (e.g. by `engine.layers.hooked`) sees one tensor whether the layer returns a tensor or
  a tuple, and whatever that hook returns flows on into the next layer.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from pathlib import Path

import torch
from torch import nn

from engine.errors import BadInput

# where each family keeps its encoder layers, relative to `model.base_model`
_LAYER_PATHS = ("encoder.layer", "transformer.layer", "encoder.layers", "layers")


class LayerTap(nn.Identity):
    """Stands for one encoder layer's hidden states (B,T,H): hook this module to read them."""


def _through_tap(tap: LayerTap, _module, _inputs, output):
    if isinstance(output, tuple):
        return (tap(output[0]), *output[1:])
    return tap(output)


class HFTextClassifier(nn.Module):
    """A transformers sequence classifier as a text model (module docstring)."""

    default_layer = ""

    def __init__(self, model: nn.Module, pad_id: int) -> None:
        super().__init__()
        self.hf = model
        self.pad_id = pad_id
        path, blocks = _encoder_layers(model.base_model)
        taps = nn.ModuleList(LayerTap() for _ in blocks)
        _attach(self, path, taps)
        for block, tap in zip(blocks, taps):
            block.register_forward_hook(partial(_through_tap, tap))
        self.layer_names = tuple(f"{path}.{i}" for i in range(len(taps)))
        self.default_layer = self.layer_names[-1]

    @property
    def embeddings(self) -> nn.Module:
        return self.hf.base_model.embeddings

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embeddings(input_ids=tokens)

    def forward_embedded(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        placeholder = torch.full(mask.shape, self.pad_id, dtype=torch.long, device=mask.device)
        handle = self.embeddings.register_forward_hook(lambda _m, _i, _o: embedded)
        try:
            return self.hf(input_ids=placeholder, attention_mask=mask.long()).logits
        finally:
            handle.remove()

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_embedded(self.embed(tokens), tokens != self.pad_id if mask is None else mask)


def _encoder_layers(base: nn.Module) -> tuple[str, nn.ModuleList]:
    for path in _LAYER_PATHS:
        found = base
        for part in path.split("."):
            found = getattr(found, part, None)
        if isinstance(found, nn.ModuleList) and len(found):
            return path, found
    raise BadInput(f"Hugging Face model {type(base).__name__} keeps its layers in none of "
                   f"{', '.join(_LAYER_PATHS)}; it is not supported")


def _attach(root: nn.Module, path: str, module: nn.Module) -> None:
    """Register `module` at the dotted `path` under `root`, with plain containers between."""
    *parents, last = path.split(".")
    for part in parents:
        if not hasattr(root, part):
            root.add_module(part, nn.Module())
        root = getattr(root, part)
    root.add_module(last, module)


class HFTokenizer:
    """`encode(texts) -> (tokens, mask, words)` with the model's own tokenizer; words are its
    word pieces ("[CLS]", "play", "##ing", ...), token j of sentence i being `words[i][j]`."""

    def __init__(self, tokenizer, max_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"  # so that token j is piece j of the sentence
        self.max_tokens = max_tokens

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, list[list[str]]]:
        batch = self.tokenizer(list(texts), padding=True, truncation=True,
                               max_length=self.max_tokens, return_tensors="pt")
        tokens, mask = batch["input_ids"], batch["attention_mask"].bool()
        words = [self.tokenizer.convert_ids_to_tokens(row[keep].tolist()) for row, keep in zip(tokens, mask)]
        return tokens, mask, words


@contextmanager
def _quiet_transformers():
    """No progress bars or warnings from transformers on stderr (the CLI's errors are one line)."""
    from transformers.utils import logging  # noqa: PLC0415

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def load_hf(folder: str) -> tuple[HFTextClassifier, HFTokenizer, list[str]]:
    """(module, tokenizer, class names) of the sequence classifier saved in `folder`."""
    if not Path(folder).is_dir():
        raise BadInput(f"Hugging Face model folder {folder} does not exist")
    if not (Path(folder) / "config.json").is_file():
        raise BadInput(f"{folder} is not a Hugging Face model folder (no config.json; "
                       "save_pretrained writes one)")
    model, tokenizer = _read(folder)
    config = model.config
    class_names = [str(config.id2label[i]) for i in sorted(config.id2label)]
    max_tokens = min(int(tokenizer.model_max_length), int(getattr(config, "max_position_embeddings", 512)))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return HFTextClassifier(model, pad_id), HFTokenizer(tokenizer, max_tokens), class_names


def _read(folder: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415

    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model, info = AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BadInput(f"{folder} could not be loaded as a Hugging Face sequence classifier ({reason})") from None
    if info.get("missing_keys"):
        missing = ", ".join(sorted(info["missing_keys"])[:4])
        raise BadInput(f"{folder} holds no trained classification head (missing weights: {missing})")
    return model, tokenizer
