"""Safe VAE checkpoints: safetensors weights with the constructor config as JSON in the header; nothing unpickled."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from vae_teach.models import VAE

FORMAT = "vae_teach.VAE/1"


def save(model: VAE, path: str | Path, overwrite: bool = False) -> Path:
    """Write weights (safetensors) with the constructor config in its JSON header, atomically: -> the path."""
    from safetensors.torch import save_file

    if not isinstance(model, VAE):
        raise ValueError(f"model must be a vae_teach.models.VAE, got {type(model).__name__}")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": json.dumps(model.config())}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata=meta)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> VAE:
    """Rebuild a VAE saved by `save` (no unpickling): path -> model in eval mode; clear errors for bad files."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except Exception as e:  # safetensors raises its own error types for bad headers and short files
        raise ValueError(f"{path}: corrupt or truncated model file ({e})") from None
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
    return model.eval()
