"""The type stubs (_featpipe.pyi) describe the module as built: every public
class, method, property and function of the extension is in them, with the
same keyword parameters, and every documented name has a docstring."""
import ast
import inspect
import pathlib

import featpipe as fp
from featpipe import _featpipe

STUB = pathlib.Path(_featpipe.__file__).with_name("_featpipe.pyi")


def stub_tree():
    tree = ast.parse(STUB.read_text())
    classes, functions = {}, {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            functions[node.name] = node
    return classes, functions


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_") or n in ("__call__", "__init__", "__next__", "__iter__",
                                                                   "__len__", "__enter__", "__exit__")}


def test_every_public_name_has_a_stub_and_a_docstring():
    classes, functions = stub_tree()
    for name in ("Pipeline", "Stream", "MapIterator"):
        cls = getattr(_featpipe, name)
        assert name in classes, name
        assert cls.__doc__, name
        members = public(cls) - {n for n in dir(object)} | ({"__init__"} if name == "Pipeline" else set())
        for m in members:
            assert m in classes[name], f"{name}.{m} missing from {STUB.name}"
        for m in members - {"__iter__", "__next__", "__len__", "__enter__", "__exit__", "__init__", "__call__"}:
            assert getattr(cls, m).__doc__, f"{name}.{m} has no docstring"
    for name in ("stages", "stage", "plugin_folder"):
        assert name in functions and getattr(_featpipe, name).__doc__


def test_keyword_parameters_match():
    classes, functions = stub_tree()

    def stub_params(fn):
        a = fn.args
        return [x.arg for x in a.args + a.kwonlyargs if x.arg != "self"]

    def doc_params(obj):
        # pybind11 puts the signature on the docstring's first line.
        first = obj.__doc__.splitlines()[0]
        inner = first[first.index("(") + 1:first.rindex(")")]
        names = []
        for part in inner.split(","):
            part = part.strip()
            if part and part != "*":
                names.append(part.split(":")[0].strip())
        return [n for n in names if n != "self"]

    p = classes["Pipeline"]
    assert stub_params(p["__call__"]) == doc_params(fp.Pipeline.__call__)
    assert stub_params(p["map"]) == doc_params(fp.Pipeline.map)
    assert stub_params(p["stream"]) == doc_params(fp.Pipeline.stream)
    assert stub_params(p["from_yaml"]) == doc_params(fp.Pipeline.from_yaml)
    assert stub_params(functions["stages"]) == doc_params(fp.stages)
    assert stub_params(functions["stage"]) == doc_params(fp.stage)
