"""The shipped linear model: weights in a small .npz, metadata in manifest.json.

No pickle: a numpy archive of sparse weights loads without code execution and without tying
the artefact to one scikit-learn version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .features import N_HASH

WEIGHTS_FILE = "weights.npz"
MANIFEST_FILE = "manifest.json"


@dataclass(slots=True)
class LinearHead:
    """One logistic output (the flag, or one ground/form) with Platt calibration."""

    name: str
    hashed_idx: np.ndarray  # int32 indices into the 2*N_HASH hashed block
    hashed_val: np.ndarray  # float32 weights
    dense: dict[str, float]  # named feature -> weight
    intercept: float
    calib_a: float = 1.0
    calib_b: float = 0.0


@dataclass(slots=True)
class DetectorModel:
    manifest: dict[str, Any]
    heads: dict[str, LinearHead] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.manifest.get("model_version", "detector-rules"))

    @property
    def threshold(self) -> float:
        return float(self.manifest.get("threshold", 0.5))

    def blend(self) -> float:
        return float(self.manifest.get("blend", 0.5))


def save_model(model: DetectorModel, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    heads_meta = {}
    for name, h in model.heads.items():
        arrays[f"{name}__idx"] = h.hashed_idx.astype(np.int32)
        arrays[f"{name}__val"] = h.hashed_val.astype(np.float32)
        heads_meta[name] = {"intercept": h.intercept, "calib_a": h.calib_a,
                            "calib_b": h.calib_b, "dense": h.dense}
    np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
    manifest = dict(model.manifest)
    manifest["heads"] = heads_meta
    (directory / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8")


def load_model(directory: Path) -> DetectorModel | None:
    """None when the directory holds no trained model (the detector then runs on rules only)."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    heads: dict[str, LinearHead] = {}
    weights_path = directory / WEIGHTS_FILE
    if weights_path.exists():
        with np.load(weights_path, allow_pickle=False) as npz:
            for name, meta in manifest.get("heads", {}).items():
                heads[name] = LinearHead(
                    name=name,
                    hashed_idx=npz[f"{name}__idx"].astype(np.int64),
                    hashed_val=npz[f"{name}__val"].astype(np.float64),
                    dense={k: float(v) for k, v in meta["dense"].items()},
                    intercept=float(meta["intercept"]),
                    calib_a=float(meta.get("calib_a", 1.0)),
                    calib_b=float(meta.get("calib_b", 0.0)),
                )
    return DetectorModel(manifest=manifest, heads=heads)


class HeadMatrix:
    """The flag head as a dense weight vector (scored for every note) and the ground, form and
    severity heads as one sparse matrix (scored only for flagged notes)."""

    def __init__(self, heads: dict[str, LinearHead], dense_names: list[str]) -> None:
        n_rows = 2 * N_HASH + len(dense_names)
        dense_index = {n: j for j, n in enumerate(dense_names)}
        self.flag: tuple[np.ndarray, float, float, float] | None = None
        if "flag" in heads:
            h = heads["flag"]
            w = np.zeros(n_rows, dtype=np.float64)
            w[h.hashed_idx] = h.hashed_val
            for k, v in h.dense.items():
                if k in dense_index:
                    w[2 * N_HASH + dense_index[k]] = v
            self.flag = (w, h.intercept, h.calib_a, h.calib_b)
        self.names = [n for n in heads if n != "flag"]
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for c, name in enumerate(self.names):
            h = heads[name]
            rows.append(h.hashed_idx.astype(np.int64))
            vals.append(h.hashed_val.astype(np.float64))
            cols.append(np.full(len(h.hashed_idx), c))
            known = [(2 * N_HASH + dense_index[k], v) for k, v in h.dense.items()
                     if k in dense_index]
            if known:
                r, v = zip(*known, strict=True)
                rows.append(np.array(r, dtype=np.int64))
                vals.append(np.array(v, dtype=np.float64))
                cols.append(np.full(len(r), c))
        self.W = None
        if self.names:
            # CSR, as the notes' matrix: `X @ W` with a CSC operand converts it on every call.
            self.W = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(n_rows, len(self.names)))
        self.b = np.array([heads[n].intercept for n in self.names])
        self.a = np.array([heads[n].calib_a for n in self.names])
        self.c = np.array([heads[n].calib_b for n in self.names])

    def flag_proba(self, X: sp.csr_matrix) -> np.ndarray | None:
        if self.flag is None:
            return None
        w, b, a, c = self.flag
        z = X @ w + b
        return 1.0 / (1.0 + np.exp(-(a * z + c)))

    def label_proba(self, X: sp.csr_matrix) -> np.ndarray:
        """Calibrated probabilities of the label heads, shape (n_notes, len(self.names))."""
        if self.W is None or X.shape[0] == 0:
            return np.zeros((X.shape[0], len(self.names)))
        z = (X @ self.W).toarray() + self.b
        return 1.0 / (1.0 + np.exp(-(self.a * z + self.c)))
