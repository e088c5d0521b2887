"""HEIC/HEIF and AVIF photos (what iPhones save), which OpenCV does not read: decoded with PyAV (FFmpeg).

FFmpeg hands over each coded picture of the file as a stream of its own, numbered by its HEIF item. A phone's
photo is a grid of 512 px tiles (a 12-megapixel one: 48 of them), so the photo is put together here from the
file's own description: the primary item (`pitm`), its type (`iinf`), the tiles it is made of in order (`iref`
`dimg`), the grid's rows, columns and size (its data, `iloc`/`idat`), and the turn and mirroring to show it by
(`irot`, `imir`, in the order the file lists them). Its colour profile (`colr`), which a phone's photo has (Display
P3), is kept for the annotated copy (`heif_profile`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

MAX_PIXELS = 1 << 30  # a larger grid is not put together (OpenCV's own limit for the pictures it reads)
# `irot`: quarter turns counter-clockwise, as OpenCV turns a picture.
_COUNTER_CLOCKWISE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


@dataclass
class Primary:
    """What the file says of its primary picture."""

    item: int = 0
    kind: bytes = b""  # b"grid", b"hvc1" (HEVC), b"av01" (AV1), ...
    tiles: list[int] = field(default_factory=list)  # the item numbers of a grid's tiles, row by row
    grid: bytes = b""  # a grid's data: rows, columns and its size
    # How to show it, in the order the file lists them: ("irot", quarter turns counter-clockwise) and ("imir", 1:
    # left and right swapped, 0: top and bottom).
    transforms: list[tuple[bytes, int]] = field(default_factory=list)
    profile: bytes = b""  # its ICC colour profile (`colr` of type `prof`), if the file gives one


def read_heif(file: Path) -> np.ndarray | None:
    """The primary picture of an HEIF or AVIF file as BGR, tiles joined and turned to be shown; None if unreadable."""
    import av

    try:
        primary = describe(file.read_bytes())
        if primary.kind == b"grid" and np.prod(grid_layout(primary.grid)[2:], dtype=np.int64) > MAX_PIXELS:
            return None
        with av.open(str(file)) as container:
            wanted = set(primary.tiles) if primary.kind == b"grid" else {primary.item}
            streams = [s for s in container.streams.video if s.id in wanted] or container.streams.video[:1]
            pictures = {packet.stream.id: frame.to_ndarray(format="bgr24")
                        for packet in container.demux(*streams) for frame in packet.decode()}
    except (av.FFmpegError, OSError, ValueError, struct.error, IndexError, KeyError, StopIteration):
        return None
    if primary.kind == b"grid":
        image = join_tiles(primary, pictures)
    else:
        image = next(iter(pictures.values()), None)
    if image is None:
        return None
    for kind, value in primary.transforms:
        if kind == b"irot" and value in _COUNTER_CLOCKWISE:
            image = cv2.rotate(image, _COUNTER_CLOCKWISE[value])
        elif kind == b"imir":  # (as libheif and Apple read it: 1 swaps left and right, 0 top and bottom)
            image = cv2.flip(image, 1 if value == 1 else 0)
    return image


def heif_profile(file: Path) -> bytes | None:
    """The ICC colour profile an HEIF or AVIF file gives its primary picture (or, for a grid, its first tile); None
    where it gives none or cannot be read."""
    try:
        return describe(file.read_bytes()).profile or None
    except (OSError, ValueError, struct.error, IndexError, KeyError, StopIteration):
        return None


def grid_layout(grid: bytes) -> tuple[int, int, int, int]:
    """A grid's rows, columns, width and height (its item data: ImageGrid of ISO/IEC 23008-12)."""
    _, flags, rows, columns = grid[:4]
    width, height = struct.unpack(">II" if flags & 1 else ">HH", grid[4:12 if flags & 1 else 8])
    return rows + 1, columns + 1, width, height


def join_tiles(primary: Primary, pictures: dict[int, np.ndarray]) -> np.ndarray | None:
    """A grid's tiles, row by row, in one picture cut to the grid's size."""
    rows, columns, width, height = grid_layout(primary.grid)
    tiles = [pictures.get(item) for item in primary.tiles]
    if len(tiles) != rows * columns or any(tile is None for tile in tiles):
        return None
    rows_of_tiles = [np.hstack(tiles[row * columns:(row + 1) * columns]) for row in range(rows)]
    return np.ascontiguousarray(np.vstack(rows_of_tiles)[:height, :width])


def boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, body start, body end) of each ISO-BMFF box in data[start:end]."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        body = start + 8
        if size == 1:
            size, body = struct.unpack(">Q", data[start + 8:start + 16])[0], start + 16
        elif size == 0:
            size = end - start
        if size < body - start:
            return
        yield kind, body, min(start + size, end)
        start += size


def describe(data: bytes) -> Primary:
    """The primary picture of an HEIF file's `meta` box."""
    meta = next((body, end) for kind, body, end in boxes(data) if kind == b"meta")
    children = {kind: (body, end) for kind, body, end in boxes(data, meta[0] + 4, meta[1])}  # (full box: +4)
    primary = Primary()
    body, _ = children[b"pitm"]
    primary.item = struct.unpack(">H" if data[body] == 0 else ">I", data[body + 4:body + (6 if data[body] == 0 else 8)])[0]
    primary.kind = _item_types(data, *children[b"iinf"]).get(primary.item, b"")
    if primary.kind == b"grid":
        primary.tiles = _references(data, *children[b"iref"]).get(primary.item, [])
        primary.grid = _item_data(data, children, primary.item)
    if b"iprp" in children:
        properties = _properties(data, *children[b"iprp"], primary.item)
        primary.transforms = [(kind, data[at] & (3 if kind == b"irot" else 1)) for kind, at, _ in properties
                              if kind in (b"irot", b"imir")]
        # The primary item's profile, else (a grid whose file gives it its tiles only) the first tile's
        places = [properties, *(_properties(data, *children[b"iprp"], tile) for tile in primary.tiles[:1])]
        primary.profile = next((data[at + 4:end] for found in places for kind, at, end in found
                                if kind == b"colr" and data[at:at + 4] in (b"prof", b"rICC")), b"")
    return primary


def _item_types(data: bytes, body: int, end: int) -> dict[int, bytes]:
    version = data[body]
    start = body + 4 + (2 if version == 0 else 4)
    types = {}
    for kind, entry, entry_end in boxes(data, start, end):
        if kind == b"infe" and data[entry] >= 2:
            wide = data[entry] >= 3
            item = struct.unpack(">I" if wide else ">H", data[entry + 4:entry + (8 if wide else 6)])[0]
            at = entry + (8 if wide else 6) + 2  # (item_protection_index)
            types[item] = data[at:at + 4]
    return types


def _references(data: bytes, body: int, end: int) -> dict[int, list[int]]:
    """`dimg` references: each derived item's source items, in order."""
    size = 2 if data[body] == 0 else 4
    unit = ">H" if size == 2 else ">I"
    found = {}
    for kind, at, _ in boxes(data, body + 4, end):
        if kind == b"dimg":
            source = struct.unpack(unit, data[at:at + size])[0]
            count = struct.unpack(">H", data[at + size:at + size + 2])[0]
            first = at + size + 2
            found[source] = [struct.unpack(unit, data[first + i * size:first + (i + 1) * size])[0] for i in range(count)]
    return found


def _item_data(data: bytes, children: dict, item: int) -> bytes:
    """An item's bytes, as `iloc` places them: in the file, or in `idat` (construction method 1)."""
    body, _ = children[b"iloc"]
    version = data[body]
    offset_size, length_size = data[body + 4] >> 4, data[body + 4] & 15
    base_size, index_size = data[body + 5] >> 4, (data[body + 5] & 15) if version in (1, 2) else 0
    at = body + 6
    count_size = 2 if version < 2 else 4

    def number(size: int) -> int:
        nonlocal at
        value = int.from_bytes(data[at:at + size], "big") if size else 0
        at += size
        return value

    for _ in range(number(count_size)):
        this = number(2 if version < 2 else 4)
        method = number(2) & 15 if version in (1, 2) else 0
        number(2)  # data_reference_index
        base = number(base_size)
        extents = []
        for _ in range(number(2)):
            number(index_size)
            extents.append((base + number(offset_size), number(length_size)))
        if this == item:
            origin = children[b"idat"][0] if method == 1 else 0
            return b"".join(data[origin + offset:origin + offset + length] for offset, length in extents)
    raise ValueError(f"item {item} has no data")


def _properties(data: bytes, body: int, end: int, item: int) -> list[tuple[bytes, int, int]]:
    """(type, body start, body end) of each property of `item` (`ipco` boxes, as `ipma` gives them), in the file's
    order: `irot` (quarter turns counter-clockwise), `imir` (mirror axis), `colr` (colours) among them."""
    parts = {kind: (at, part_end) for kind, at, part_end in boxes(data, body, end)}
    properties = list(boxes(data, *parts[b"ipco"]))
    at, version, flags = parts[b"ipma"][0], data[parts[b"ipma"][0]], data[parts[b"ipma"][0] + 3]
    at += 4
    (entries,) = struct.unpack(">I", data[at:at + 4])
    at += 4
    found = []
    for _ in range(entries):
        size = 2 if version < 1 else 4
        this = int.from_bytes(data[at:at + size], "big")
        count = data[at + size]
        at += size + 1
        for _ in range(count):
            wide = flags & 1
            index = int.from_bytes(data[at:at + (2 if wide else 1)], "big") & (0x7FFF if wide else 0x7F)
            at += 2 if wide else 1
            if this == item and 0 < index <= len(properties):
                found.append(properties[index - 1])
    return found
