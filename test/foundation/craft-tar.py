"""Make a damaged copy of a bundle tarball, for the verify corruption matrix.

usage: craft-tar.py SRC DST CASE
Everything but the damage is copied entry by entry, so each case breaks exactly one rule.
"""
import hashlib
import io
import sys
import tarfile

src, dst, case = sys.argv[1:4]
FILE = 'repos/files/a.bin'

with tarfile.open(src) as tin, tarfile.open(dst, 'w', format=tarfile.PAX_FORMAT) as tout:
    members = tin.getmembers()
    top = members[0].name.rstrip('/')
    data = {m.name: (tin.extractfile(m).read() if m.isfile() else None) for m in members}
    for m in members:
        body = data[m.name]
        rel = m.name[len(top) + 1:]
        if case == 'changed' and rel == FILE:
            body = bytes([body[0] ^ 1]) + body[1:]
        if case == 'missing' and rel == FILE:
            continue
        if case == 'sums' and rel == FILE:
            body = bytes([body[0] ^ 1]) + body[1:]
        if case == 'sums' and rel == 'SHA256SUMS':
            old = hashlib.sha256(data[f'{top}/{FILE}']).hexdigest()
            new = hashlib.sha256(bytes([data[f'{top}/{FILE}'][0] ^ 1]) + data[f'{top}/{FILE}'][1:]).hexdigest()
            body = body.replace(old.encode(), new.encode())
        if case == 'version-escape' and rel == 'bundle.yaml':
            body = body.replace(b'version: 1.0.0', b'version: /../../victim')
        if case == 'no-name' and rel == 'bundle.yaml':
            body = b''.join(l for l in body.splitlines(True) if not l.startswith((b'name:', b'version:')))
        if body is not None:
            m.size = len(body)
            tout.addfile(m, io.BytesIO(body))
        else:
            tout.addfile(m)
    extra = None
    if case == 'unlisted':
        extra = tarfile.TarInfo(f'{top}/repos/files/smuggled.sh')
    if case == 'absolute':
        extra = tarfile.TarInfo('/tmp/ks-bundle-evil-absolute')
    if case == 'dotdot':
        extra = tarfile.TarInfo(f'{top}/../ks-bundle-evil-dotdot')
    if extra is not None:
        payload = b'echo pwned\n'
        extra.size = len(payload)
        tout.addfile(extra, io.BytesIO(payload))
    if case in ('symlink', 'hardlink'):
        link = tarfile.TarInfo(f'{top}/repos/files/evil-link')
        link.type = tarfile.SYMTYPE if case == 'symlink' else tarfile.LNKTYPE
        link.linkname = '../../../../../../etc/passwd' if case == 'symlink' else '/etc/passwd'
        tout.addfile(link)
