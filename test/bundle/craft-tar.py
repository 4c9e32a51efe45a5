"""Make a damaged copy of a bundle tarball, for the verify corruption matrix.

usage: craft-tar.py SRC DST CASE [SIZE]
Everything but the damage is copied entry by entry, so each case breaks exactly one rule. DST ending in .tar.gz is
written through gzip. Some cases write raw header blocks, the way a hostile archive would: a PAX or GNU long name
that says another thing than the ustar header after it.
"""
import hashlib
import io
import sys
import tarfile

src, dst, case = sys.argv[1:4]
size = int(sys.argv[4]) if len(sys.argv) > 4 else 0
FILE = 'repos/files/a.bin'
SMUGGLED = b'echo smuggled\n'


class Zeros(io.RawIOBase):
    """`size` zero bytes, read in pieces: a big member without a big buffer."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def regular_named_like_a_folder(top):
    """A regular-file header whose ustar name ends in '/': a reader that takes its type from that name sees a folder."""
    info = tarfile.TarInfo(f'{top}/repos/')
    info.type = tarfile.REGTYPE
    info.size = len(SMUGGLED)
    return info.tobuf(format=tarfile.USTAR_FORMAT) + SMUGGLED + bytes(-len(SMUGGLED) % 512)


def raw(tout, data):
    tout.fileobj.write(data)
    tout.offset += len(data)


with tarfile.open(src) as tin, tarfile.open(dst, 'w:gz' if dst.endswith('.gz') else 'w', format=tarfile.PAX_FORMAT) as tout:
    members = tin.getmembers()
    top = members[0].name.rstrip('/')
    data = {m.name: (tin.extractfile(m).read() if m.isfile() else None) for m in members}
    if case == 'dup-sums':
        # A second line for a.bin with another digest; bundle.yaml vouches for the new SHA256SUMS.
        old = data[f'{top}/SHA256SUMS']
        new = old + f'{"0" * 64}  {FILE}\n'.encode()
        data[f'{top}/SHA256SUMS'] = new
        data[f'{top}/bundle.yaml'] = data[f'{top}/bundle.yaml'].replace(hashlib.sha256(old).hexdigest().encode(), hashlib.sha256(new).hexdigest().encode())
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
    if case == 'pax-path':
        raw(tout, tarfile.TarInfo._create_pax_generic_header({'path': f'{top}/repos/files/smuggled.sh'}, tarfile.XHDTYPE, 'utf-8'))
        raw(tout, regular_named_like_a_folder(top))
    if case == 'gnu-longname':
        raw(tout, tarfile.TarInfo._create_gnu_long_header(f'{top}/repos/files/smuggled.sh', tarfile.GNUTYPE_LONGNAME, 'utf-8', 'surrogateescape'))
        raw(tout, regular_named_like_a_folder(top))
    if case == 'unlisted-bomb':
        bomb = tarfile.TarInfo(f'{top}/repos/files/bomb')
        bomb.size = size
        tout.addfile(bomb, io.BufferedReader(Zeros(size)))
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
