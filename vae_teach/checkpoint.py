"""Safe VAE checkpoints: safetensors weights with the constructor config and a checksum in the header.

Nothing is unpickled. `save` refuses non-finite weights and writes atomically (vae_teach.atomic); `load`
verifies the SHA-256 of every tensor, so a corrupted or truncated file fails loudly instead of loading.
`load_or_train` is the cache the app uses: load a saved model, or train one and save it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import torch

from vae_teach import atomic
from vae_teach.models import VAE

FORMAT = "vae_teach.VAE/1"


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order: {name: tensor} -> hex digest.

    Used by checkpoint.save and checkpoint.load; not called from a notebook.
    """
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().contiguous().cpu()
        h.update(f"{name}|{t.dtype}|{list(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _non_finite(state: dict[str, torch.Tensor]) -> str | None:
    """'name (k of n entries)' for the first floating tensor holding NaN or inf, else None."""
    for name, t in state.items():
        if t.is_floating_point():
            bad = int((~torch.isfinite(t)).sum())
            if bad:
                return f"{name} ({bad} of {t.numel()} entries are NaN or inf)"
    return None


def _recipe_json(recipe: dict | None) -> str | None:
    """The recipe as canonical JSON (sorted keys), None for None; ValueError if it is not a JSON-able dict."""
    if recipe is None:
        return None
    try:
        if not isinstance(recipe, dict):
            raise TypeError(type(recipe).__name__)
        return json.dumps(recipe, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"recipe must be a dict of JSON values (numbers, strings, lists), got {e}") from None


def save(model: VAE, path: str | Path, overwrite: bool = False, recipe: dict | None = None) -> Path:
    """Write weights (safetensors) with the config, a checksum and the optional training recipe, atomically.

    Used by checkpoint.load_or_train (apps/explore.ipynb); not called from a notebook.
    """
    from safetensors.torch import save as to_bytes

    if not isinstance(model, VAE):
        raise ValueError(f"model must be a vae_teach.models.VAE, got {type(model).__name__}")
    if not isinstance(overwrite, bool):
        raise ValueError(f"overwrite must be True or False, got {overwrite!r}")
    recipe_json = _recipe_json(recipe)
    dest = atomic.target(path)  # validates path: '' and folder names are refused here
    path = Path(path)
    if dest.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name, e.g. {path / 'model.safetensors'}")
    if os.path.lexists(path) and not overwrite:
        what = "is a symlink to a missing file" if not path.exists() else "already exists"
        raise FileExistsError(f"{path} {what}; pass overwrite=True to replace it")
    state = {k: v.detach().contiguous().clone().cpu() for k, v in model.state_dict().items()}
    bad = _non_finite(state)
    if bad:
        raise ValueError(f"model has non-finite weights in {bad}; it has diverged, so {path} was not written")
    meta = {"format": FORMAT, "config": json.dumps(model.config()), "sha256": tensors_sha256(state)}
    if recipe_json is not None:
        meta["recipe"] = recipe_json
    atomic.ensure_folder(path, create=True)
    atomic.write_bytes(path, to_bytes(state, metadata=meta))
    return path


def _read(path: Path) -> tuple[dict, dict]:
    """The header metadata and tensors of a safetensors file; ValueError naming the path if it is unreadable."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}, {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except Exception as e:  # safetensors raises its own error types for bad headers and short files
        raise ValueError(f"{path}: corrupt or truncated model file ({e})") from None


def load(path: str | Path) -> VAE:
    """Rebuild a VAE saved by `save` (no unpickling): path -> model in eval mode; clear errors for bad files.

    Used by checkpoint.load_or_train (apps/explore.ipynb); not called from a notebook.
    """
    return _load(path)[0]


def _load(path: str | Path) -> tuple[VAE, dict]:
    """load(), also returning the header metadata."""
    atomic.target(path)  # the same path checks as save
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a saved model; give the .safetensors file inside it")
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    meta, state = _read(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise ValueError(f"{path}: not a vae_teach model file (expected format {FORMAT!r}, got {meta.get('format')!r})")
    try:
        config = json.loads(meta["config"])
        config["hidden"] = tuple(config["hidden"])
        model = VAE(**config)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path}: the stored config is invalid ({e})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0:3]
        raise ValueError(f"{path}: weights do not match the stored config {config}: {' '.join(first)}") from None
    if "sha256" not in meta:
        raise ValueError(f"{path}: no checksum in the header, so its weights cannot be verified; save it again")
    if tensors_sha256(state) != meta["sha256"]:
        raise ValueError(f"{path}: corrupt model file (the weights' SHA-256 does not match the one saved with them)")
    bad = _non_finite(state)
    if bad:
        raise ValueError(f"{path}: the saved weights are not finite: {bad}")
    return model.eval(), meta


def load_or_train(path: str | Path, train: Callable[[], VAE], recipe: dict | None = None,
                  log: Callable[[str], None] = print) -> VAE:
    """The model saved at `path` if it loads cleanly and was made by the same `recipe`, else train() saved there.

    Used by apps/explore.ipynb; not called from a notebook.
    """
    if isinstance(train, torch.nn.Module) or not callable(train):
        raise ValueError(f"train must be a function that returns a trained VAE, got {type(train).__name__}")
    want = _recipe_json(recipe)
    path = Path(path)
    if path.exists():
        try:
            model, meta = _load(path)
            if meta.get("recipe") == want:
                log(f"loaded the trained model from {path} (delete it to train again)")
                return model
            log(f"{path} was trained with another recipe; training again")
        except ValueError as e:
            log(f"could not reuse {path} ({e}); training again")
    model = train()
    try:
        save(model, path, overwrite=True, recipe=recipe)
        log(f"trained, and saved to {path} for the next start")
    except OSError as e:  # a read-only app folder: the app still runs, it just trains again next time
        log(f"trained, but could not save it ({e}); the next start trains again")
    return model.eval()
