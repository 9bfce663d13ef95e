"""PyTorch glue: a map-style Dataset over files, and a collate function that
pads variable-length features. torch is imported here only.

    from torch.utils.data import DataLoader
    from featpipe.torch import FeatureDataset, pad_collate

    ds = FeatureDataset("pipelines/speech-logmel.yaml", paths, labels)
    dl = DataLoader(ds, batch_size=16, num_workers=2, collate_fn=pad_collate)
    for feats, lengths, labels in dl:   # [batch, frame, mel], [batch], [batch]
        ...

The pipeline loads once, in the main process; DataLoader workers (fork or
spawn) use it as they get it, with their own sessions.
"""
from __future__ import annotations

import os
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from ._featpipe import Pipeline

__all__ = ["FeatureDataset", "pad_collate"]

PathLike = Union[str, "os.PathLike[str]"]


class FeatureDataset(Dataset):
    """Features of files, computed on access: dataset[i] is
    (features as a torch.float32 tensor, label) with labels, else the tensor.

    pipeline: a Pipeline or a pipeline file's path.
    files: the inputs, in order. labels: one per file (any type), or None.
    transform: applied to the features tensor (augmentation), or None.
    A file that fails raises featpipe.InputError naming it, so a bad file
    stops the epoch with its name instead of training on something else.
    """

    def __init__(self, pipeline: Union[Pipeline, PathLike], files: Sequence[PathLike],
                 labels: Optional[Sequence[Any]] = None,
                 transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None):
        self.pipeline = pipeline if isinstance(pipeline, Pipeline) else Pipeline(pipeline)
        self.files = [os.fspath(f) for f in files]
        if labels is not None and len(labels) != len(self.files):
            raise ValueError(f"{len(labels)} labels for {len(self.files)} files")
        self.labels = list(labels) if labels is not None else None
        self.transform = transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        x = torch.from_numpy(self.pipeline(self.files[index]))  # shares the array's buffer
        if self.transform is not None:
            x = self.transform(x)
        return x if self.labels is None else (x, self.labels[index])


def pad_collate(batch: List[Any], axis: int = 0, value: float = 0.0):
    """Stacks features of different lengths along `axis` (the frame axis:
    0 for [frame, ...] features), padding the end with `value`.

    batch: items of a FeatureDataset: tensors, or (tensor, label) pairs.
    Returns (features [batch, ...], lengths int64 [batch]) without labels,
    (features, lengths, labels) with; labels are stacked by torch's
    default_collate (numbers become a tensor).
    """
    with_labels = isinstance(batch[0], tuple)
    feats = [b[0] if with_labels else b for b in batch]
    feats = [torch.as_tensor(f) for f in feats]
    rank = feats[0].dim()
    if any(f.dim() != rank for f in feats):
        raise ValueError("pad_collate: features of different ranks in one batch")
    ax = axis % rank
    lengths = torch.tensor([f.shape[ax] for f in feats], dtype=torch.int64)
    shape = list(feats[0].shape)
    for f in feats:
        for k in range(rank):
            if k != ax and f.shape[k] != shape[k]:
                raise ValueError(f"pad_collate: features differ on axis {k} ({f.shape[k]} vs {shape[k]}), "
                                 f"which is not the padded axis {ax}")
    shape[ax] = int(lengths.max()) if len(feats) else 0
    out = feats[0].new_full([len(feats)] + shape, value)
    for i, f in enumerate(feats):
        index = [i] + [slice(None)] * rank
        index[1 + ax] = slice(0, f.shape[ax])
        out[tuple(index)] = f
    if not with_labels:
        return out, lengths
    labels = torch.utils.data.default_collate([b[1] for b in batch])
    return out, lengths, labels
