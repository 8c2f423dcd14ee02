"""The harness's report channel: authenticated frames on a pipe, from the sandbox to the grader.

The harness writes each report (the notebook's run, then one result per exercise, then "done")
as a frame on its standard output, a pipe that only the grader reads::

    EMLIB-FRAME <kind> <seq> <length> <mac>\\n<payload: a plain-data document of <length> bytes>

``mac`` is HMAC-SHA256, keyed with a secret that the grader gives the harness on its standard
input (read before the student's kernel starts), over the header fields and the payload. The
grader accepts frames only in order (``seq`` = 0, 1, 2, ...), each with a valid MAC; the first bad
frame ends the stream and is reported. So a report cannot be forged, replayed from another
submission, or reordered by code that lacks the key — see :mod:`.harness` for why the student's
code never holds it. Each frame's kind and value are those of :data:`.protocol.FRAME_KINDS`.

Standard library and :mod:`.plain_data` only: this module is copied into the sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

try:  # inside the sandbox the modules sit side by side, outside they are a package
    from . import plain_data
except ImportError:  # pragma: no cover - exercised inside the sandbox
    import plain_data

MAGIC = b"EMLIB-FRAME "
_HEADER = re.compile(rb"EMLIB-FRAME ([a-z-]{1,32}) (\d{1,9}) (\d{1,12}) ([0-9a-f]{64})\n")
MAX_FRAME = plain_data.MAX_BYTES + 32 * 2**20


def _mac(key: bytes, kind: str, seq: int, payload: bytes) -> str:
    msg = f"{kind} {seq} {len(payload)}\n".encode() + payload
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


class FrameWriter:
    """Writes frames to a file descriptor with a key; ``seq`` counts up from 0."""

    def __init__(self, fd: int, key: bytes):
        self.fd, self.key, self.seq = fd, key, 0

    def send(self, kind: str, value) -> None:
        payload = plain_data.dumps(value)
        head = f"{kind} {self.seq} {len(payload)} {_mac(self.key, kind, self.seq, payload)}\n"
        data = MAGIC + head.encode() + payload
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.seq += 1


@dataclass(frozen=True)
class Frame:
    kind: str
    value: object


def read_frames(data: bytes, key: bytes) -> tuple[list[Frame], str | None]:
    """The authentic frames at the start of ``data``, and why reading stopped (None at the end).

    Reading stops at the first frame that is malformed, out of order, fails its MAC or does not
    decode as plain data; the frames before it are kept.
    """
    frames: list[Frame] = []
    pos, seq = 0, 0
    while pos < len(data):
        m = _HEADER.match(data, pos)
        if m is None:
            return frames, f"unexpected bytes at offset {pos} of the harness's output"
        kind, n, length, mac = m.group(1).decode(), int(m.group(2)), int(m.group(3)), m.group(4)
        start = m.end()
        payload = data[start : start + length]
        if n != seq or length > MAX_FRAME or len(payload) != length:
            return frames, f"frame {n} is out of order or truncated"
        if not hmac.compare_digest(_mac(key, kind, n, payload).encode(), mac):
            return frames, f"frame {n} ({kind}) failed authentication"
        try:
            value = plain_data.loads(payload)
        except plain_data.PlainDataError as exc:
            return frames, f"frame {n} ({kind}) is not plain data: {exc}"
        frames.append(Frame(kind, value))
        pos, seq = start + length, seq + 1
    return frames, None
