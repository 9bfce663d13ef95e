"""featpipe's exceptions and the items of Pipeline.map.

The engine raises them with its own message text (the same as the command
line prints); they split it into fields a program can use.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

import numpy as np

__all__ = ["Error", "PipelineError", "InputError", "Item"]


class Error(Exception):
    """Base of featpipe's exceptions."""


class PipelineError(Error):
    """A pipeline that does not load: a YAML mistake, an unknown stage or
    parameter, a wrong type, shapes that do not chain, a plugin that fails.

    file, line, column: where (line and column are 1-based; None when the
    error has no place in the file, e.g. a missing file).
    message: what is wrong, without the place.
    str(error) is the text `featpipe validate` prints.
    """

    def __init__(self, text: str, file: Optional[str] = None):
        super().__init__(text)
        self.text = text
        self.file = file
        self.line: Optional[int] = None
        self.column: Optional[int] = None
        self.message = text
        rest = text[len(file) + 1:] if file and text.startswith(file + ":") else None
        if rest is None:
            m = re.match(r"^(.+?):(\d+):(\d+): ", text)
            if m:
                self.file, rest = m.group(1), text[len(m.group(1)) + 1:]
        if rest is not None:
            m = re.match(r"^(\d+):(\d+): (.*)$", rest, re.S)
            if m:
                self.line, self.column, self.message = int(m.group(1)), int(m.group(2)), m.group(3)
            else:
                self.message = rest.lstrip()

    def __reduce__(self):
        return (type(self), (self.text, self.file))


class InputError(Error):
    """An input the pipeline could not process: a corrupt, truncated or empty
    file, audio shorter than a frame, an image over the pixel limit, NaN
    samples...

    input: the path (or "<array>", "<stream>").
    step: the 1-based step at fault and stage its name (None when the
    input was refused before any step, e.g. a missing file).
    message: what is wrong. str(error) is "input: step N 'stage': message",
    as `featpipe run` reports it.
    """

    def __init__(self, text: str, input: Optional[str] = None):
        # Without `input` (e.g. re-raised from a DataLoader worker, which
        # passes the whole message) the text stands alone.
        super().__init__(text if input is None else f"{input}: {text}")
        self.text = text
        self.input = input
        self.step: Optional[int] = None
        self.stage: Optional[str] = None
        self.message = text
        m = re.match(r"^step (\d+) '([^']*)'(?: \([^)]*\))?: (.*)$", text, re.S)
        if m:
            self.step, self.stage, self.message = int(m.group(1)), m.group(2), m.group(3)

    def __reduce__(self):
        return (type(self), (self.text, self.input))


class Item(NamedTuple):
    """One input's result from Pipeline.map: features, or the error."""

    path: str
    features: Optional[np.ndarray]
    error: Optional[InputError]

    @property
    def ok(self) -> bool:
        return self.error is None
