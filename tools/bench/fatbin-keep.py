#!/usr/bin/env python3
"""Keeps the GPU code of the given compute capabilities in a CUDA shared library and zeroes the rest.

Usage: fatbin-keep.py SOURCE.so DEST.so 90[,100,...]

A CUDA library's .nv_fatbin section holds one fat binary per translation unit, each with one entry (a header and a
payload: a cubin or PTX) per architecture it was built for. This walks those entries and overwrites with zeros the
payload of every entry whose architecture is not kept, leaving every header as it was, so the file keeps its size and
layout (nothing is relinked) and the driver still finds, for a kept architecture, the entry it would have picked.
The zeros compress to almost nothing, which is the point: ONNX Runtime's CUDA provider is 284 MB, 142 MB of it code
for architectures other than 9.0. A device of another architecture must not load the result (its entries are zeros).
"""
import re
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50


def main() -> None:
    source, dest, keep = sys.argv[1], sys.argv[2], {int(a) for a in sys.argv[3].split(",")}
    sections = subprocess.run(["readelf", "-S", "-W", source], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\.nv_fatbin\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    if not match:
        sys.exit(f"{source} has no .nv_fatbin section")
    start, size = int(match.group(1), 16), int(match.group(2), 16)
    data = bytearray(open(source, "rb").read())
    position, end, kept, zeroed = start, start + size, 0, 0
    while position < end:
        magic, _, header_size, fat_size = struct.unpack_from("<IHHQ", data, position)
        if magic != FATBIN_MAGIC:  # padding between fat binaries (8-byte aligned)
            position += 8
            continue
        entry, fat_end = position + header_size, position + header_size + fat_size
        while entry < fat_end:
            _, _, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
            arch = struct.unpack_from("<I", data, entry + 28)[0]
            if arch in keep:
                kept += payload
            else:
                data[entry + entry_header:entry + entry_header + payload] = bytes(payload)
                zeroed += payload
            entry += entry_header + payload
        position = fat_end
    if kept == 0:
        sys.exit(f"no GPU code for {sorted(keep)} in {source}")
    open(dest, "wb").write(data)
    print(f"kept {kept / 1e6:.1f} MB for {sorted(keep)}, zeroed {zeroed / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
