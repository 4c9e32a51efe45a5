"""Make a hostile copy of a delta bundle: its SHA256SUMS lists more files "from the base", and its bundle.yaml's
sha256sums is made to match, so the delta still verifies. What it lists is what a hostile delta would: paths that
leave the folder the delta is unpacked into.

usage: craft-delta.py SRC DST LINE...   (each LINE "<sha256>  <path>", appended to SHA256SUMS)
Entries are copied in order, with the same headers; only SHA256SUMS and bundle.yaml change.
"""
import hashlib
import io
import re
import sys
import tarfile

src, dst, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
with tarfile.open(src) as t:
    members = t.getmembers()
    sums_member = next(m for m in members if m.name.endswith('/SHA256SUMS'))
    sums = t.extractfile(sums_member).read() + ''.join(line + '\n' for line in lines).encode()
    digest = hashlib.sha256(sums).hexdigest().encode()
    with tarfile.open(dst, 'w', format=tarfile.GNU_FORMAT) as out:
        for m in members:
            if not m.isfile():
                out.addfile(m)
                continue
            data = t.extractfile(m).read()
            if m is sums_member:
                data = sums
            elif m.name.endswith('/bundle.yaml'):
                # The top-level key only: the base's own sha256sums (indented under base:) stays.
                data, n = re.subn(rb'(?m)^sha256sums: [0-9a-f]{64}$', b'sha256sums: ' + digest, data)
                assert n == 1, 'bundle.yaml has no top-level sha256sums'
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
