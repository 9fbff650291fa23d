#!/usr/bin/python3
"""Whether blurring a copy helps the verifier: each tune (original, copy) pair of one transform and
strength (dg-mkbench seeds 1-3 in build/quality-tune*), the copy blurred by PIL at SIGMA pixels of
its own size (0: as it is) and saved losslessly, scored by build/dg-verify-pairs; prints how many
pass at verify.threshold 0.55 and max_detail_diff 0.35 (the stricter rule, without agree_above).
    /usr/bin/python3 blur_probe.py TRANSFORM STRENGTH SIGMA [list]
"""
import csv, subprocess, sys, os
from PIL import Image, ImageFilter
sig = float(sys.argv[3])
rows = []
man, pairs = [], []
for wd in ['build/quality-tune', 'build/quality-tune-seed2', 'build/quality-tune-seed3']:
    truth = list(csv.DictReader(open(wd + '/corpus/truth.csv')))
    for t in truth:
        if t['transform'] == sys.argv[1] and t['strength'] == sys.argv[2]:
            c = os.path.join(wd, 'corpus', t['path']); o = os.path.join(os.path.dirname(c), 'original.jpg')
            out = '/tmp/blur/%s_%s.png' % (wd.split('/')[-1], t['path'].replace('/', '_'))
            im = Image.open(c)
            if sig > 0: im = im.filter(ImageFilter.GaussianBlur(sig))
            im.save(out)
            man += [os.path.abspath(o), out]; pairs.append((len(man) - 2, len(man) - 1, wd.split('/')[-1] + '/' + t['path']))
open('/tmp/blur/m.txt', 'w').write('\n'.join(man) + '\n')
open('/tmp/blur/p.txt', 'w').write(''.join('%d %d\n' % (a, b) for a, b, _ in pairs))
out = subprocess.run(['build/dg-verify-pairs', '/tmp/blur/m.txt', '/tmp/blur/p.txt'], capture_output=True, text=True).stdout.split('\n')
res = {(int(l.split()[0]), int(l.split()[1])): (float(l.split()[2]), float(l.split()[3])) for l in out if l.strip()}
ok = 0
for a, b, name in pairs:
    s, d = res[(a, b)]
    good = s >= 0.55 and d <= 0.35
    ok += good
    if len(sys.argv) > 4: print('%s score %.3f detail %.3f %s' % (name, s, d, '' if good else 'FAIL'))
print(sys.argv[1:4], 'pass (0.55/0.35)', ok, 'of', len(pairs))
