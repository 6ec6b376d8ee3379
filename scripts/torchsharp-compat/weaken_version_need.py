# Sets VER_FLG_WEAK on one version requirement (vernaux) of an ELF64 little-endian shared object.
# Usage: weaken_version_need.py LIB VERSION   e.g. libLibTorchSharp.so GLIBCXX_3.4.32
import struct, sys
path, want = sys.argv[1], sys.argv[2].encode()
data = bytearray(open(path, 'rb').read())
assert data[:4] == b'\x7fELF' and data[4] == 2 and data[5] == 1  # 64-bit little-endian
e_shoff, = struct.unpack_from('<Q', data, 0x28)
e_shentsize, e_shnum, e_shstrndx = struct.unpack_from('<HHH', data, 0x3A)
secs = []
for i in range(e_shnum):
    o = e_shoff + i * e_shentsize
    name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from('<IIQQQQIIQQ', data, o)
    secs.append((name, typ, off, size, link, info))
verneed = [s for s in secs if s[1] == 0x6ffffffe][0]
strtab = secs[verneed[4]]
def cstr(off):
    end = data.index(b'\0', strtab[2] + off)
    return bytes(data[strtab[2] + off:end])
off = verneed[2]
count = verneed[5]
done = 0
for _ in range(count):
    vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from('<HHIII', data, off)
    aux = off + vn_aux
    for _ in range(vn_cnt):
        vna_hash, vna_flags, vna_other, vna_name, vna_next = struct.unpack_from('<IHHII', data, aux)
        if cstr(vna_name) == want:
            struct.pack_into('<H', data, aux + 4, vna_flags | 0x2)  # VER_FLG_WEAK
            done += 1
            print(f"weakened {want.decode()} needed from {cstr(vn_file).decode()}")
        if vna_next == 0: break
        aux += vna_next
    if vn_next == 0: break
    off += vn_next
assert done, "version not found"
open(path, 'wb').write(data)
