# Used by Tests/Fuzz/mutated-schema-check.sh.
# Flips a few random bytes in (or cuts short) every packet of a classic pcap, keeping record framing valid.
import sys, random, struct
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
data = open(src, 'rb').read()
magic = data[:4]
end = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
out = bytearray(data[:24])
off = 24
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack(end + 'IIII', data[off:off+16])
    b = bytearray(data[off+16:off+16+incl])
    off += 16 + incl
    if b:
        m = rnd.random()
        if m < 0.6:
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif m < 0.8:
            b = b[:rnd.randrange(len(b))]
    out += struct.pack(end + 'IIII', sec, usec, len(b), max(orig, len(b))) + b
open(dst, 'wb').write(out)
