#!/usr/bin/python3
"""How far each tune screenshot's content box is from the pasted photo: the photo's rectangle
recomputed from dg-mkbench's layout (src/bench/compose.c: dg_compose_screenshot and draw_chrome,
from the original's size and the copy's photo_width and panel), scaled to the decoded image, and
its IoU with the box that results/experiments/session15/overlay_probe.c prints (columns 4-7).
    ls $PWD/build/quality-tune{,-seed2,-seed3}/corpus/images/*/*.jpg > list
    OVERLAY_PROBE list > boxes.txt
    /usr/bin/python3 results/experiments/session17/screenshot_boxes.py boxes.txt > screenshot_boxes.txt
Last line: boxes with IoU >= 0.8 per strength.
"""
import sys, os, csv
from PIL import Image
def fit(w,h,aw,ah):
    # dg_fit_size: largest size of w:h inside aw x ah
    if w*ah <= h*aw:  # height bound
        ph=ah; pw=max(1,int(round(w*ah/h)))
    else:
        pw=aw; ph=max(1,int(round(h*aw/w)))
    return pw,ph
def truth(orig_size, frac, panel):
    iw,ih=orig_size; side=max(iw,ih); W=side; H=max(1,side*10//16)
    tb=max(10,H//22); tool=max(12,H//16); status=max(6,H//36)
    cx=0; cy=tb+tool; cw=W; ch=H-cy-status
    if panel:
        pw=cw//4; cx+=pw; cw-=pw
    margin=max(2,cw//40)
    aw=int(cw*frac); ah=ch-2*margin
    if panel: ah=ah*3//4
    pw,ph=fit(iw,ih,aw,ah)
    px=cx+(cw-pw)//2; py=cy+margin
    return (px,py,px+pw,py+ph),(W,H)
def iou(a,b):
    x0=max(a[0],b[0]);y0=max(a[1],b[1]);x1=min(a[2],b[2]);y1=min(a[3],b[3])
    i=max(0,x1-x0)*max(0,y1-y0)
    u=(a[2]-a[0])*(a[3]-a[1])+(b[2]-b[0])*(b[3]-b[1])-i
    return i/u if u>0 else 0
boxes={}
for l in open(sys.argv[1]):
    f=l.split(); boxes[f[0]]=(int(f[1]),int(f[2]),tuple(map(int,f[3:7])))
out=[]
for corp in sorted({p.split('/corpus/')[0] for p in boxes}):
    for r in csv.DictReader(open(corp+'/corpus/truth.csv')):
        if r['transform']!='screenshot': continue
        p=corp+'/corpus/'+r['path']
        par=dict(kv.split('=') for kv in r['params'].split(';'))
        osz=Image.open(os.path.join(corp,'corpus',os.path.dirname(r['path']),'original.jpg')).size
        t,(W,H)=truth(osz,float(par['photo_width']),int(par['panel']))
        w,h,b=boxes[p]; sx=W/w; sy=H/h
        tb=(t[0]/sx,t[1]/sy,t[2]/sx,t[3]/sy)
        out.append((p.split('/build/')[1], r['strength'], iou(b,tb), b, tuple(round(v) for v in tb)))
for o in out: print(f'{o[0]} {o[1]} {o[2]:.3f} box {o[3]} truth {o[4]}')
import collections
c=collections.Counter((o[1], o[2]>=0.8) for o in out); print(dict(c))
