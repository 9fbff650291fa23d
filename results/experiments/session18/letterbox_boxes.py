#!/usr/bin/python3
"""How far each letterbox strong copy's content box is from the photo: the photo's rectangle
recomputed from dg-mkbench's layout (src/bench/compose.c: dg_compose_letterbox, the original fitted
centred into a canvas of the copy's aspect), scaled to the decoded image, and its IoU with the box
results/experiments/session15/overlay_probe.c prints (columns 4-7).  Lines: "split N iou>=0.8 K",
then the 15 worst of each split.
    /usr/bin/python3 letterbox_boxes.py BOXES
"""
import sys, os
from PIL import Image
def fit(w,h,aw,ah):
    if w*ah <= h*aw: ph=ah; pw=max(1,int(round(w*ah/h)))
    else: pw=aw; ph=max(1,int(round(h*aw/w)))
    return pw,ph
import csv
rows=[]
for line in open(sys.argv[1]):
    p,w,h,x0,y0,x1,y1,*_=line.split(); w,h,x0,y0,x1,y1=map(int,(w,h,x0,y0,x1,y1))
    root=p.split('/images/')[0]; rel='images/'+p.split('/images/')[1]
    rows.append((p,w,h,x0,y0,x1,y1,root,rel))
truths={}
res={}
for p,w,h,x0,y0,x1,y1,root,rel in rows:
    if root not in truths: truths[root]={r['path']:r for r in csv.DictReader(open(root+'/truth.csv'))}
    t=truths[root][rel]
    aspect=float(dict(kv.split('=') for kv in t['params'].split(';'))['aspect'])
    ow,oh=Image.open(os.path.join(root,os.path.dirname(rel),'original.jpg')).size
    side=max(ow,oh)
    cw= side if aspect>=1 else max(1,round(side*aspect)); ch= max(1,round(side/aspect)) if aspect>=1 else side
    pw,ph=fit(ow,oh,cw,ch); px=(cw-pw)//2; py=(ch-ph)//2
    sx=w/cw; sy=h/ch
    T=(px*sx,py*sy,(px+pw)*sx,(py+ph)*sy)
    ix=max(0,min(x1,T[2])-max(x0,T[0])); iy=max(0,min(y1,T[3])-max(y0,T[1]))
    inter=ix*iy; iou=inter/((x1-x0)*(y1-y0)+(T[2]-T[0])*(T[3]-T[1])-inter)
    split='heldout' if 'heldout' in root else 'tune'
    res.setdefault(split,[]).append((iou,rel,(x0,y0,x1,y1),tuple(round(v,1) for v in T),w,h))
for s,v in res.items():
    print(s,len(v),'iou>=0.8',sum(i>=0.8 for i,*_ in v))
    for r in sorted(v)[:15]: print('  %.2f %s box %s true %s size %dx%d'%r)
