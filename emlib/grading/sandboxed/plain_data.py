"""The plain-data protocol between the student's kernel, the harness and the grader.

Everything that crosses the sandbox's wall is plain data: one ``.npz`` file (numpy's zip of
``.npy`` arrays) read with ``allow_pickle=False``. Its member ``__tree__`` holds a UTF-8 JSON
document; arrays are members of their own, referenced from the JSON. Nothing is ever unpickled,
so an answer cannot smuggle code into the grader.

JSON nodes
----------
``null``, ``true``/``false``, integers, finite floats and strings stand for themselves; a JSON
list is a Python list. Every JSON object is a tagged node ``{"$": tag, ...}``:

========== ====================================================================
tag        Python value
========== ====================================================================
float      a non-finite float, ``"v"`` in ``"nan"``, ``"inf"``, ``"-inf"``
complex    ``"v": [real, imag]``
tuple      ``"v": [...]``
set        ``"v": [...]`` (decoded as a ``set``)
dict       ``"v": [[key, value], ...]`` (keys: any hashable plain node)
array      ``"v": "<member name>"``, an ndarray of kind b, i, u, f, c or U
scalar     ``"v": "<member name>"``, a 0-d array decoded as a numpy scalar
ellipsis   ``...``, the student edition's "not given yet"
namedtuple ``"type"``, ``"fields"``, ``"v": [...]``
object     ``"type"``, ``"v": {attribute: node}`` (a dataclass or an object's public
           attributes), decoded as a read-only :class:`PlainObject`
========== ====================================================================

Anything else (object arrays, functions, modules, generators, deeper than :data:`MAX_DEPTH`,
more than :data:`MAX_NODES` nodes, arrays larger than :data:`MAX_BYTES` in all) is refused with
:class:`PlainDataError`, on the way in and on the way out.

This module is copied into the sandbox next to the harness and its encoder runs inside the
student's kernel too, so it imports nothing but the standard library and numpy. The grader reads
the same documents with it outside.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import json
import math
import types
import zipfile

import numpy as np

MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_BYTES = 64 * 2**20
_KINDS = "biufcU"
_TREE = "__tree__"
# Bound once, at import: inside the student's kernel this module is loaded before the notebook
# runs, so a notebook that monkeypatches numpy or json cannot break the transport of its answers.
_ndarray, _generic, _savez, _load = np.ndarray, np.generic, np.savez, np.load
_asarray, _array, _frombuffer, _uint8 = np.asarray, np.array, np.frombuffer, np.uint8
_json_dumps, _json_loads, _BytesIO = json.dumps, json.loads, io.BytesIO


class PlainDataError(ValueError):
    """A value that is not plain data, or a file that is not a valid plain-data document."""


class PlainObject:
    """An object sent as plain data: its attributes, read-only, and the name of its type."""

    __slots__ = ("_attrs", "_type")

    def __init__(self, type_name: str, attrs: dict):
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_attrs", dict(attrs))

    def __getattr__(self, name):
        try:
            return self._attrs[name]
        except KeyError:
            raise AttributeError(f"{self._type} object has no attribute {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("a PlainObject is read-only")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._attrs.items())
        return f"{self._type}({inner})"


class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.nodes = 0
        self.nbytes = 0

    def array(self, tag: str, arr: np.ndarray) -> dict:
        if arr.dtype.kind not in _KINDS or arr.dtype.names is not None:
            raise PlainDataError(f"an array of dtype {arr.dtype} is not plain data")
        self.nbytes += arr.nbytes
        if self.nbytes > MAX_BYTES:
            raise PlainDataError(f"more than {MAX_BYTES // 2**20} MB of arrays")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = _array(arr, order="C")  # a copy: 0-d stays 0-d
        return {"$": tag, "v": key}

    def node(self, x, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise PlainDataError(f"the value is too large or too deep (> {MAX_NODES} nodes "
                                 f"or > {MAX_DEPTH} levels)")
        d = depth + 1
        if x is None or isinstance(x, (bool, str)) or type(x) is int:
            return x
        if type(x) is float:
            return x if math.isfinite(x) else {"$": "float", "v": repr(x)}
        if type(x) is complex:
            return {"$": "complex", "v": [self.node(x.real, d), self.node(x.imag, d)]}
        if x is Ellipsis:
            return {"$": "ellipsis"}
        if isinstance(x, _ndarray):
            return self.array("array", x)
        if isinstance(x, _generic):
            return self.array("scalar", _asarray(x))
        if isinstance(x, tuple) and hasattr(type(x), "_fields"):
            return {"$": "namedtuple", "type": type(x).__name__, "fields": list(x._fields),
                    "v": [self.node(v, d) for v in x]}
        if type(x) is list:
            return [self.node(v, d) for v in x]
        if type(x) is tuple:
            return {"$": "tuple", "v": [self.node(v, d) for v in x]}
        if type(x) in (set, frozenset):
            items = [self.node(v, d) for v in x]
            return {"$": "set", "v": sorted(items, key=lambda n: _json_dumps(n, sort_keys=True))}
        if type(x) is dict:
            return {"$": "dict", "v": [[self.node(k, d), self.node(v, d)] for k, v in x.items()]}
        if isinstance(x, (int, float)):  # subclasses (e.g. an IntEnum, a bool-like) as the base
            return self.node(float(x) if isinstance(x, float) else int(x), depth)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            attrs = {f.name: getattr(x, f.name) for f in dataclasses.fields(x)}
            return self.obj(x, attrs, d)
        if hasattr(x, "__dict__") and not callable(x) and not isinstance(x, (type, types.ModuleType)):
            attrs = {k: v for k, v in vars(x).items() if not k.startswith("_") and not callable(v)}
            return self.obj(x, attrs, d)
        raise PlainDataError(f"a {type(x).__name__} is not plain data (send numbers, arrays, "
                             f"strings, lists, tuples, sets or dicts of them)")

    def obj(self, x, attrs: dict, depth: int) -> dict:
        return {"$": "object", "type": type(x).__name__,
                "v": {str(k): self.node(v, depth) for k, v in attrs.items()}}


def dumps(value) -> bytes:
    """``value`` as the bytes of a plain-data ``.npz`` document."""
    enc = _Encoder()
    tree = _json_dumps(enc.node(value), allow_nan=False, separators=(",", ":")).encode()
    buf = _BytesIO()
    _savez(buf, **{_TREE: _frombuffer(tree, dtype=_uint8)}, **enc.arrays)
    return buf.getvalue()


def _no_constant(name):
    raise PlainDataError(f"JSON constant {name} is not allowed")


class _Decoder:
    def __init__(self, arrays):
        self.arrays = arrays
        self.nodes = 0

    def node(self, n, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise PlainDataError("the document is too large or too deep")
        d = depth + 1
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            return [self.node(v, d) for v in n]
        if not isinstance(n, dict) or "$" not in n:
            raise PlainDataError("a JSON object without a '$' tag")
        tag, v = n["$"], n.get("v")
        if tag == "float" and v in ("nan", "inf", "-inf"):
            return float(v)
        if tag == "complex" and isinstance(v, list) and len(v) == 2:
            return complex(self.node(v[0], d), self.node(v[1], d))
        if tag == "ellipsis":
            return Ellipsis
        if tag in ("array", "scalar"):
            arr = self.arrays.get(v) if isinstance(v, str) and v != _TREE else None
            if arr is None:
                raise PlainDataError(f"reference to a missing array {v!r}")
            return arr[()] if tag == "scalar" and arr.ndim == 0 else arr
        if tag in ("tuple", "set") and isinstance(v, list):
            items = [self.node(x, d) for x in v]
            return tuple(items) if tag == "tuple" else self.hashable_set(items)
        if tag == "dict" and isinstance(v, list):
            out = {}
            for pair in v:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise PlainDataError("a dict entry is not a [key, value] pair")
                key = self.node(pair[0], d)
                try:
                    out[key] = self.node(pair[1], d)
                except TypeError:
                    raise PlainDataError("an unhashable dict key") from None
            return out
        if tag == "namedtuple" and isinstance(v, list):
            fields, name = n.get("fields"), n.get("type")
            if not (isinstance(name, str) and name.isidentifier() and isinstance(fields, list)
                    and all(isinstance(f, str) and f.isidentifier() for f in fields)
                    and len(fields) == len(v)):
                raise PlainDataError("a malformed namedtuple")
            try:
                cls = collections.namedtuple(name, fields)
            except ValueError as exc:
                raise PlainDataError(f"a malformed namedtuple ({exc})") from None
            return cls(*(self.node(x, d) for x in v))
        if tag == "object" and isinstance(v, dict) and isinstance(n.get("type"), str):
            return PlainObject(n["type"], {str(k): self.node(x, d) for k, x in v.items()})
        raise PlainDataError(f"an unknown or malformed node tagged {tag!r}")

    @staticmethod
    def hashable_set(items):
        try:
            return set(items)
        except TypeError:
            raise PlainDataError("a set of unhashable items") from None


def loads(data: bytes):
    """The value of a plain-data document; :class:`PlainDataError` for anything else."""
    try:
        with _load(_BytesIO(data), allow_pickle=False) as npz:
            if _TREE not in npz.files:
                raise PlainDataError("not a plain-data document (no __tree__ member)")
            total = 0
            arrays = {}
            for name in npz.files:
                arr = npz[name]
                if arr.dtype.kind not in _KINDS or arr.dtype.names is not None:
                    raise PlainDataError(f"member {name!r} has dtype {arr.dtype}")
                total += arr.nbytes
                if total > MAX_BYTES + 64 * 2**20:
                    raise PlainDataError("the document's arrays are too large")
                arrays[name] = arr
    except PlainDataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise PlainDataError(f"not a valid plain-data .npz ({type(exc).__name__}: {exc})") from None
    tree = arrays.pop(_TREE)
    if tree.dtype != np.uint8 or tree.ndim != 1:
        raise PlainDataError("the __tree__ member is not a byte string")
    try:
        doc = _json_loads(tree.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlainDataError(f"the __tree__ member is not JSON ({exc})") from None
    return _Decoder(arrays).node(doc)
