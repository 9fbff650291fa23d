#!/usr/bin/python3
"""The other side of blur_probe.py: each tune copy of one transform and strength, blurred at SIGMA,
against the originals of the other groups cut from the same source photo (the hard negatives: tiles
and pan crops of one photo); prints how many the verifier accepts at 0.55 / 0.35.
    /usr/bin/python3 blur_neg.py TRANSFORM STRENGTH SIGMA
"""
import csv, subprocess, sys, os
from PIL import Image, ImageFilter
sig = float(sys.argv[3])
man, pairs = [], []
for wd in ['build/quality-tune', 'build/quality-tune-seed2', 'build/quality-tune-seed3']:
    truth = list(csv.DictReader(open(wd + '/corpus/truth.csv')))
    src = {}
    for t in truth: src.setdefault(t['original'], set()).add(t['group'])
    origs = {t['group']: os.path.join(wd, 'corpus', os.path.dirname(t['path']), 'original.jpg') for t in truth}
    for t in truth:
        if t['transform'] == sys.argv[1] and t['strength'] == sys.argv[2]:
            c = os.path.join(wd, 'corpus', t['path'])
            out = '/tmp/blur/n_%s_%s.png' % (wd.split('/')[-1], t['path'].replace('/', '_'))
            im = Image.open(c)
            if sig > 0: im = im.filter(ImageFilter.GaussianBlur(sig))
            im.save(out)
            man.append(out); ci = len(man) - 1
            for g in src[t['original']]:
                if g != t['group']:
                    man.append(os.path.abspath(origs[g])); pairs.append((ci, len(man) - 1))
open('/tmp/blur/m.txt', 'w').write('\n'.join(man) + '\n')
open('/tmp/blur/p.txt', 'w').write(''.join('%d %d\n' % p for p in pairs))
out = subprocess.run(['build/dg-verify-pairs', '/tmp/blur/m.txt', '/tmp/blur/p.txt'], capture_output=True, text=True).stdout.split('\n')
acc = sum(1 for l in out if l.strip() and float(l.split()[2]) >= 0.55 and float(l.split()[3]) <= 0.35)
print(sys.argv[1:4], 'hard-negative pairs', len(pairs), 'accepted (0.55/0.35)', acc)
