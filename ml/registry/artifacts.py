"""Artifact files: how each format is written and read, and the checks in between.

A file is written to a temp file beside its final name and renamed into place, so a reader
never sees half a model and a failed write leaves nothing behind. A file is read into memory,
its sha256 compared with the one the registry recorded, and only then deserialised from those
same bytes: a pickled artifact that was changed is refused before it is unpickled.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import logging
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1  # of this module's layout; bump when a format is written differently
# xgboost-json-set: several XGBoost models that serve together (a model and the model of its
# error's spread), each in XGBoost's own JSON, in one JSON file: {name: {"class", "model"}}.
EXTENSIONS = {"xgboost-json": ".json", "xgboost-json-set": ".json", "lightgbm-text": ".txt", "joblib": ".joblib"}
# The distributions whose versions matter to each format's reader.
LIBRARIES = {
    "xgboost-json": ("xgboost-cpu", "xgboost", "numpy"),
    "xgboost-json-set": ("xgboost-cpu", "xgboost", "numpy"),
    "lightgbm-text": ("lightgbm", "numpy"),
    "joblib": ("joblib", "scikit-learn", "numpy", "scipy", "pandas", "lightgbm", "xgboost-cpu", "xgboost"),
}


class ArtifactError(RuntimeError):
    """An artifact that cannot be written or loaded; the message names the file and why."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ArtifactMissing(ArtifactError):
    pass


class ArtifactTampered(ArtifactError):
    pass


def model_dir() -> Path:
    return Path(settings.MODEL_DIR)


def library_versions(fmt: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES[fmt]:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def check_format(artifact: Any, fmt: str) -> None:
    """Native formats take only the objects they can save and give back whole."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"Unknown artifact format {fmt!r}; use one of {', '.join(EXTENSIONS)}")
    if fmt == "xgboost-json":
        import xgboost

        if not isinstance(artifact, xgboost.Booster | xgboost.XGBModel):
            raise TypeError(f"xgboost-json saves an xgboost Booster or XGBModel, not {class_path(artifact)}")
    elif fmt == "xgboost-json-set":
        import xgboost

        if not isinstance(artifact, dict) or not artifact or not all(
                isinstance(k, str) and isinstance(v, xgboost.Booster | xgboost.XGBModel) for k, v in artifact.items()):
            raise TypeError("xgboost-json-set saves a dict of names to xgboost Boosters or XGBModels")
    elif fmt == "lightgbm-text":
        import lightgbm

        if not isinstance(artifact, lightgbm.Booster):
            raise TypeError(
                f"lightgbm-text saves a lightgbm.Booster, not {class_path(artifact)} "
                "(save an LGBM* estimator's .booster_, or use joblib)"
            )


def _save(artifact: Any, fmt: str, path: Path) -> None:
    if fmt == "xgboost-json":
        artifact.save_model(str(path))  # the .json suffix makes XGBoost write JSON
    elif fmt == "xgboost-json-set":
        import xgboost

        models = {}
        for name, model in artifact.items():
            raw = bytes(model.save_raw("json")) if isinstance(model, xgboost.Booster) else _xgboost_json(model)
            models[name] = {"class": class_path(model), "model": json.loads(raw)}
        path.write_text(json.dumps(models, separators=(",", ":")))
    elif fmt == "lightgbm-text":
        artifact.save_model(str(path))
    else:
        import joblib

        with open(path, "wb") as out:
            joblib.dump(artifact, out)


def write(artifact: Any, fmt: str, kind: str, stem: str) -> tuple[str, str, int, bool]:
    """Write the artifact to MODEL_DIR/<kind>/<stem>-<sha256[:12]><ext> through a temp file
    renamed into place. Returns (path relative to MODEL_DIR, sha256, size, whether this call
    created the file: False when identical bytes were already there). Nothing is left behind
    when saving fails."""
    folder = model_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    suffix = EXTENSIONS[fmt]
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=f".tmp{suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _save(artifact, fmt, tmp)
        digest, size = _hash_file(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        final = folder / f"{stem}-{digest[:12]}{suffix}"
        created = not final.exists()
        if created:
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return f"{kind}/{final.name}", digest, size, created


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def resolve(relative: str) -> Path:
    """MODEL_DIR/relative, refusing a path that leads out of MODEL_DIR."""
    root = model_dir().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ArtifactError(path, f"is outside MODEL_DIR ({root}); refusing to load it")
    return path


def read_verified(relative: str, expected_sha256: str) -> bytes:
    """The file's bytes, once their sha256 matches the recorded one."""
    path = resolve(relative)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactMissing(path, "the artifact file is missing; refusing to load") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise ArtifactTampered(
            path,
            f"sha256 is {digest} but the registry recorded {expected_sha256}: the file changed after it was "
            "registered; refusing to load it",
        )
    return data


def _xgboost_json(model) -> bytes:
    """An XGBModel's JSON as XGBoost writes it with save_model (its sklearn attributes included)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model.json"
        model.save_model(str(out))
        return out.read_bytes()


def _xgboost_model(data: bytes, artifact_class: str):
    import xgboost

    if artifact_class in ("xgboost.core.Booster", "xgboost.Booster"):
        model = xgboost.Booster()
    else:
        module, _, name = artifact_class.rpartition(".")
        cls = getattr(xgboost.sklearn, name, None) if module.startswith("xgboost") else None
        if not (isinstance(cls, type) and issubclass(cls, xgboost.XGBModel)):
            raise ValueError(f"Not an XGBoost model class: {artifact_class}")
        model = cls()
    model.load_model(bytearray(data))
    return model


def deserialise(data: bytes, fmt: str, artifact_class: str) -> Any:
    """The object back from bytes already verified by read_verified."""
    if fmt == "xgboost-json":
        return _xgboost_model(data, artifact_class)
    if fmt == "xgboost-json-set":
        return {name: _xgboost_model(json.dumps(part["model"]).encode(), part["class"])
                for name, part in json.loads(data).items()}
    if fmt == "lightgbm-text":
        import lightgbm

        return lightgbm.Booster(model_str=data.decode("utf-8"))
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(data))
    raise ValueError(f"Unknown artifact format {fmt!r}")


def warn_on_library_drift(fmt: str, recorded: dict[str, str], where: str) -> None:
    """A model read by other library versions than wrote it usually still works; say so."""
    now = library_versions(fmt)
    drift = {k: (v, now[k]) for k, v in recorded.items() if k in now and k != "python" and now[k] != v}
    if drift:
        logger.warning(
            "%s was written with other library versions: %s",
            where,
            ", ".join(f"{k} {was} -> {is_}" for k, (was, is_) in sorted(drift.items())),
        )
