"""featpipe.torch: the Dataset gives the same tensors under a DataLoader
with two workers (fork, and spawn through pickling) as with none, and
pad_collate pads and reports lengths."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import featpipe as fp
from featpipe.torch import FeatureDataset, pad_collate
from conftest import PIPELINES, SAMPLES, pipeline


def files(media):
    return sorted(media.values()) + sorted((SAMPLES / "audio").glob("*.wav"))


def epoch(ds, workers, context=None):
    dl = DataLoader(ds, batch_size=3, num_workers=workers, collate_fn=pad_collate,
                    multiprocessing_context=context if workers else None)
    return [(f.clone(), n.clone(), y.clone()) for f, n, y in dl]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_equal_no_workers(media, context):
    paths = files(media)
    ds = FeatureDataset(pipeline("speech-logmel"), paths, labels=list(range(len(paths))))
    serial = epoch(ds, 0)
    parallel = epoch(ds, 2, context)
    assert len(serial) == len(parallel) == (len(paths) + 2) // 3
    for (f0, n0, y0), (f1, n1, y1) in zip(serial, parallel):
        assert torch.equal(f0, f1) and torch.equal(n0, n1) and torch.equal(y0, y1)
    # And each item equals the pipeline on its file, padded with zeros.
    pipe = pipeline("speech-logmel")
    k = 0
    for f, n, y in serial:
        for b in range(f.shape[0]):
            want = torch.from_numpy(pipe(paths[k]))
            assert y[b] == k and n[b] == want.shape[0]
            assert torch.equal(f[b, :n[b]], want) and bool((f[b, n[b]:] == 0).all())
            k += 1


def test_dataset_from_a_path_with_transform_and_a_bad_file(media, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\0" * 500)
    ds = FeatureDataset(PIPELINES / "kaldi-fbank.yaml", [media["mono16k"], bad], transform=lambda x: x * 2)
    x = ds[0]
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
    assert torch.equal(x, torch.from_numpy(pipeline("kaldi-fbank")(media["mono16k"])) * 2)
    with pytest.raises(fp.InputError, match="bad.wav"):
        ds[1]
    # Under workers, the DataLoader re-raises it, still an InputError naming the file.
    dl = DataLoader(ds, batch_size=1, num_workers=2, collate_fn=pad_collate)
    with pytest.raises(fp.InputError, match="bad.wav"):
        list(dl)
    with pytest.raises(ValueError, match="labels"):
        FeatureDataset(ds.pipeline, [media["mono16k"]], labels=[1, 2])


def test_pad_collate_other_axis_and_mistakes():
    a, b = torch.ones(3, 4), torch.ones(3, 6) * 2
    out, lengths = pad_collate([a, b], axis=1, value=-1.0)
    assert out.shape == (2, 3, 6) and lengths.tolist() == [4, 6]
    assert bool((out[0, :, 4:] == -1).all()) and bool((out[1] == 2).all())
    with pytest.raises(ValueError, match="axis 0"):
        pad_collate([torch.ones(3, 4), torch.ones(2, 5)], axis=1)


def test_cnn_pipeline_in_forked_workers_after_the_parent_ran_it():
    # OpenCV DNN ran in the parent before the fork; the workers' results
    # must still equal the parent's (no deadlock, no stale state).
    pipe = pipeline("image-embedding")
    files = sorted((SAMPLES / "images").glob("*.jpg")) * 3
    want = torch.stack([torch.from_numpy(pipe(f)) for f in files])
    dl = DataLoader(FeatureDataset(pipe, files), batch_size=2, num_workers=2, multiprocessing_context="fork")
    got = torch.cat(list(dl))
    assert torch.equal(got, want)
