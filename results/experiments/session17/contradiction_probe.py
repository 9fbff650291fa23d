#!/usr/bin/python3
"""Whether the blocks textured on both sides that disagree at the verifier's placement (a
contradiction, not an overlay: an overlay is textured on one side) tell the tune split's false
accepts from its copies.  Reads contradiction_probe's output for each tune seed's candidate pairs
(/tmp/vprobe_quality-tune*.txt from /tmp/contradiction_probe BUILD/WORK/verify_pairs.manifest
BUILD/WORK/verify_pairs.pairs) and the job outputs for cosines and truth.
    /usr/bin/python3 results/experiments/session17/contradiction_probe.py > contradiction_probe.txt
"""
import h5py,numpy as np,sys,os
sys.path.insert(0,os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..','..','python'))
from dgtools.imagebench import Truth, truth_table
rows=[]
for w in ['quality-tune','quality-tune-seed2','quality-tune-seed3']:
    work=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..','..','build',w)
    with h5py.File(work+'/run.h5','r') as f:
        emb=f['embeddings'][:]; paths=[p.decode() for p in f['items/path'][:]]
    t=Truth(truth_table(work+'/corpus',paths))
    e=emb/np.linalg.norm(emb,axis=1,keepdims=True)
    d=np.loadtxt('/tmp/vprobe_%s.txt'%w)
    i=d[:,0].astype(int); j=d[:,1].astype(int)
    cos=(e[i]*e[j]).sum(1)
    same=t.group[i]==t.group[j]
    orig=(t.original[j]==i)|(t.original[i]==j)
    for k in range(len(d)):
        rows.append((w,i[k],j[k],cos[k],same[k],orig[k],*d[k,2:],t.transform[j[k]] if t.original[j[k]]==i[k] else t.transform[i[k]], t.group[i[k]], t.group[j[k]]))
import collections
R=rows
def acc(r):
    sc,dd=r[6],r[7]
    return (sc>=0.55 and dd<=0.35) or (r[3]>=0.7 and sc>=0.5)
A=[r for r in R if acc(r)]
print('accepted',len(A),'false',sum(1 for r in A if not r[4]),'orig pairs',sum(1 for r in A if r[5]))
# contradiction: c6 = both textured disagree (index 8+6=14), c5 both agree (13)
def stats(r):
    out,fa,fd,pt,rt,ba,bd=r[8:15]
    return ba,bd
for lab,sel in [('true orig',lambda r:r[5]),('false',lambda r:not r[4])]:
    S=[r for r in A if sel(r)]
    bd=np.array([r[14] for r in S]); ba=np.array([r[13] for r in S])
    share=bd/np.maximum(1,ba+bd)
    print(lab,len(S),'bd quantiles',np.percentile(bd,[50,90,99,100]),'share q',np.round(np.percentile(share,[50,90,95,99]),3))
# false group pairs and their contradiction
fg=collections.defaultdict(list)
for r in A:
    if not r[4]: fg[(r[0],min(r[-2],r[-1]),max(r[-2],r[-1]))].append(r)
print('false group pairs',len(fg))
for k,v in sorted(fg.items()):
    bd=np.array([x[14] for x in v]); ba=np.array([x[13] for x in v]); sh=bd/np.maximum(1,ba+bd)
    print(k,len(v),'bd med',np.median(bd),'ba med',np.median(ba),'share med %.2f'%np.median(sh), 'min share %.2f'%sh.min())
