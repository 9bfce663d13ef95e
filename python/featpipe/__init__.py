"""featpipe: feature pipelines for speech and image classifiers.

The same YAML pipelines as the `featpipe` command, run in-process with the
same C++ engine and the same results, bit for bit::

    import featpipe as fp
    pipe = fp.Pipeline("pipelines/speech-logmel.yaml")
    x = pipe("clip.wav")                      # float32 [frame, mel]
    x = pipe(samples, sample_rate=16000)      # int16/float32 [time] or [time, channel]
    for item in pipe.map(paths, jobs=4):      # C++ threads, input order kept
        item.path, item.features, item.error
    with pipe.stream(sample_rate=48000) as s: # live capture
        s.push(chunk); frames = s.pull()

featpipe.torch has a Dataset and a padding collate function for PyTorch.
"""
from ._types import Error, InputError, Item, PipelineError
from ._featpipe import MapIterator, Pipeline, Stream, __version__, plugin_folder, stage, stages

__all__ = [
    "Pipeline", "Stream", "MapIterator", "Item",
    "Error", "PipelineError", "InputError",
    "stages", "stage", "plugin_folder", "__version__",
]
