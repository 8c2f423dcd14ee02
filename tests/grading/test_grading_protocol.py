"""The plain-data protocol and the authenticated report channel (no sandbox needed)."""

import collections
import dataclasses
import io
import json
import os
import re

import numpy as np
import pytest

from emlib.grading import protocol
from emlib.grading.sandboxed import plain_data as plain
from emlib.grading.sandboxed import report_channel as channel


@dataclasses.dataclass
class Params:
    pi: np.ndarray
    mu: np.ndarray


def test_round_trip_keeps_types_and_values():
    Pair = collections.namedtuple("Pair", "resp ll")
    value = {
        "array": np.arange(6.0).reshape(2, 3), "ints": np.array([1, 2], dtype=np.int32),
        "scalar": np.float64(2.5), "float": 1.5, "nan": float("nan"), "inf": float("-inf"),
        "int": 7, "bool": True, "none": None, "text": "é", "tuple": (1, "a"), "set": {"a", "c"},
        "list": [1.0, [2, 3]], 3: "int key", "pair": Pair(np.ones(2), -1.25),
        "ellipsis": ..., "complex": 1 + 2j, "strings": np.array(["a", "bc"]),
    }
    back = plain.loads(plain.dumps(value))
    assert back.keys() == value.keys()
    np.testing.assert_array_equal(back["array"], value["array"])
    assert back["ints"].dtype == np.int32
    assert isinstance(back["scalar"], np.float64) and back["scalar"] == 2.5
    assert np.isnan(back["nan"]) and back["inf"] == float("-inf")
    assert back["tuple"] == (1, "a") and back["set"] == {"a", "c"} and back["list"] == [1.0, [2, 3]]
    assert back[3] == "int key" and back["ellipsis"] is Ellipsis and back["complex"] == 1 + 2j
    assert back["pair"].ll == -1.25 and back["pair"]._fields == ("resp", "ll")
    assert list(back["strings"]) == ["a", "bc"]


def test_objects_travel_as_read_only_attributes():
    back = plain.loads(plain.dumps(Params(np.array([0.5, 0.5]), np.zeros((2, 1)))))
    assert isinstance(back, plain.PlainObject)
    np.testing.assert_array_equal(back.pi, [0.5, 0.5])
    with pytest.raises(AttributeError, match=re.escape("a PlainObject is read-only")):
        back.pi = 1
    with pytest.raises(AttributeError, match=re.escape("Params object has no attribute 'Sigma'")):
        _ = back.Sigma


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array([object()], dtype=object), "an array of dtype object is not plain data"),
        (lambda x: x, "a function is not plain data"),
        (os, "a module is not plain data"),
        ((i for i in range(3)), "a generator is not plain data"),
    ],
)
def test_refuses_what_is_not_plain_data(value, message):
    with pytest.raises(plain.PlainDataError, match=re.escape(message)):
        plain.dumps(value)


def test_refuses_too_deep_values():
    deep = []
    for _ in range(plain.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(plain.PlainDataError, match="too large or too deep"):
        plain.dumps(deep)


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_loads_rejects_pickles_and_foreign_files():
    with pytest.raises(plain.PlainDataError, match=re.escape("not a valid plain-data .npz")):
        plain.loads(b'{"json": "is not npz"}')
    with pytest.raises(plain.PlainDataError, match=re.escape("no __tree__ member")):
        plain.loads(_npz(a=np.ones(2)))
    pickled = _npz(__tree__=np.frombuffer(b"null", np.uint8), a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(plain.PlainDataError, match="Object arrays cannot be loaded"):
        plain.loads(pickled)
    bad_json = _npz(__tree__=np.frombuffer(b'{"no tag": 1}', np.uint8))
    with pytest.raises(plain.PlainDataError, match=re.escape("a JSON object without a '$' tag")):
        plain.loads(bad_json)
    nan_json = _npz(__tree__=np.frombuffer(b"NaN", np.uint8))
    with pytest.raises(plain.PlainDataError, match=re.escape("JSON constant NaN is not allowed")):
        plain.loads(nan_json)
    missing = _npz(__tree__=np.frombuffer(json.dumps({"$": "array", "v": "a9"}).encode(), np.uint8))
    with pytest.raises(plain.PlainDataError, match=re.escape("reference to a missing array 'a9'")):
        plain.loads(missing)


def _frames(key, *items):
    r, w = os.pipe()
    writer = channel.FrameWriter(w, key)
    for kind, value in items:
        writer.send(kind, value)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        return fh.read()


def test_frames_round_trip_in_order():
    key = os.urandom(32)
    data = _frames(key, ("notebook", {"valid": True}), ("result", {"id": "x", "cases": []}))
    frames, problem = channel.read_frames(data, key)
    assert problem is None
    assert [f.kind for f in frames] == ["notebook", "result"]
    assert frames[1].value == {"id": "x", "cases": []}


def test_a_forged_or_replayed_frame_is_rejected():
    key = os.urandom(32)
    good = _frames(key, ("notebook", {"valid": True}))
    forged = _frames(os.urandom(32), ("result", {"id": "03.e-step", "cases": [{"status": "ok"}]}))
    frames, problem = channel.read_frames(good + forged, key)
    assert len(frames) == 1
    assert problem == "frame 0 is out of order or truncated"  # a second "frame 0"
    frames, problem = channel.read_frames(forged, key)
    assert frames == [] and problem == "frame 0 (result) failed authentication"
    tampered = good.replace(b"valid", b"VALID")
    assert channel.read_frames(tampered, key) == ([], "frame 0 (notebook) failed authentication")
    frames, problem = channel.read_frames(good + b"junk", key)
    assert len(frames) == 1 and problem == f"unexpected bytes at offset {len(good)} of the harness's output"


# -- the grading protocol: ids, statuses, reports ---------------------------------------------


def test_one_grammar_for_exercise_ids_and_four_ways_to_name_one():
    assert all(protocol.is_exercise_id(i) for i in ("03.e-step", "01.kl-nonneg", "12.a1"))
    assert not any(protocol.is_exercise_id(i) for i in
                   ("3.e-step", "00.x", "03.E-step", "03.e--step", "03.e-step-", 3))
    source = ('# exercise: 04.lloyd-step\nx = 1\ncheck("03.e-step", e_step)\n'
              'raise NotImplementedError("05.m-step: your code here")\ncheck("03.e-stepper")')
    assert protocol.ids_in_cell(source, ["exercise:06.bic", "solution"]) == [
        "06.bic", "04.lloyd-step", "03.e-step", "03.e-stepper", "05.m-step"]
    assert protocol.ids_in_cell('check("03.e-step"', ["exercise:not an id"]) == ["03.e-step"]
    assert protocol.stub_message("03.e-step") == "03.e-step: your code here"


def test_the_statuses_are_spelt_once():
    from emlib.exercises import STATUSES

    assert STATUSES is protocol.VERDICT_STATUSES and "not-attempted" in STATUSES
    assert set(protocol.CASE_STATUSES) < set(protocol.EXERCISE_STATUSES)
    assert all("_" not in s for s in protocol.EXERCISE_STATUSES + protocol.CELL_STATUSES)


def test_a_report_survives_the_wire_and_anything_else_reads_as_an_error():
    case = protocol.CaseReport("ok", output={"r": np.ones(2)}, has_output=True,
                               forbidden=("emlib.gmm.e_step",), seconds=0.5)
    back = protocol.CaseReport.from_wire(plain.loads(plain.dumps(case.to_wire())))
    assert back.status == "ok" and back.has_output and back.forbidden == ("emlib.gmm.e_step",)
    np.testing.assert_array_equal(back.output["r"], np.ones(2))
    assert protocol.CaseReport.from_wire("junk") == protocol.CaseReport("error")
    odd = protocol.CaseReport.from_wire({"status": "full-marks", "ename": 7, "forbidden": [1, "x"],
                                         "tracer_removed": "yes", "evalue": "e" * 5000})
    assert (odd.status, odd.ename, odd.forbidden, odd.tracer_removed) == ("error", "", ("x",), False)
    assert len(odd.evalue) == protocol.TEXT_LIMIT
    assert protocol.CaseReport.from_wire({"status": "ok", "output": 1}).has_output is False
    nb = protocol.NotebookReport(True, cells=(protocol.CellReport(2, "died", cause="memory"),))
    again = protocol.NotebookReport.from_wire(plain.loads(plain.dumps(nb.to_wire())))
    assert again == nb
    plan = protocol.Plan(protocol.KernelLimits(cell_timeout=5), "/tmp/work", True,
                         (protocol.ExercisePlan("03.e-step", "function", "e_step", 8,
                                                forbidden=("emlib.gmm.e_step",)),))
    assert protocol.Plan.from_wire(json.loads(json.dumps(plan.to_wire()))) == plan
