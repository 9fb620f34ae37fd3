# conv.py SRC OUT [FILE|OLD|NEW ...]: copies SRC/*.cu, *.cuh into OUT, replacing check.cuh by
# the emulator (emu.hpp, found via -I tools/cuda_emu) and each
# kernel<<<g, b, smem, st>>>(args) by emu::launch(g, b, lambda, args); registers every
# __shared__ array so the emulator poisons it before each block.
import re, sys, os, glob
src_dir, out_dir = sys.argv[1], sys.argv[2]
subs = {}  # file -> [(old, new)] emulation-only substitutions (grid caps)
for a in sys.argv[3:]:
    f, old, new = a.split('|')
    subs.setdefault(f, []).append((old, new))
pat = re.compile(r'([A-Za-z_][\w:]*(?:<[^;<>]*>)?)\s*<<<(.*?)>>>\((.*?)\);', re.S)
sh = re.compile(r'__shared__\s+([\w:]+)\s+(\w+)((?:\[[^\]]+\])+);')
def rep(m):
    k, cfg, args = m.group(1), m.group(2), m.group(3)
    parts = []; d = 0; cur = ''
    for ch in cfg:
        if ch in '(<': d += 1
        if ch in ')>': d -= 1
        if ch == ',' and d == 0: parts.append(cur.strip()); cur = ''
        else: cur += ch
    parts.append(cur.strip())
    return '::emu::launch(%s, %s, [&](auto&&... pn_a) { %s(pn_a...); }, %s);' % (parts[0], parts[1], k, args)
def write(name, text):  # unchanged files keep their time stamps: incremental builds stay incremental
    out = os.path.join(out_dir, name)
    if not os.path.exists(out) or open(out).read() != text:
        open(out, 'w').write(text)
for path in glob.glob(os.path.join(src_dir, '*.cu')) + glob.glob(os.path.join(src_dir, '*.cuh')):
    name = os.path.basename(path)
    if name == 'check.cuh':
        write(name, '#pragma once\n#include "emu.hpp"\n'); continue
    s = open(path).read()
    for old, new in subs.get(name, []):
        assert old in s, (name, old)
        s = s.replace(old, new)
    s = pat.sub(rep, s)
    s = sh.sub(lambda m: 'static %s %s%s; ::emu::reg_shared(%s, sizeof(%s));' % (m.group(1), m.group(2), m.group(3), m.group(2), m.group(2)), s)
    assert '<<<' not in s, name
    write(name, s)
