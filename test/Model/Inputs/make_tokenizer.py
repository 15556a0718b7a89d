#!/usr/bin/env python3
"""Writes a llama2.c tokenizer.bin with the given pieces (score 0 each):

usage: make_tokenizer.py OUT PIECE...   (use '<sp>' for a single space)
"""
import struct
import sys

out, pieces = sys.argv[1], [" " if p == "<sp>" else p for p in sys.argv[2:]]
with open(out, "wb") as f:
    f.write(struct.pack("<i", max(len(p.encode()) for p in pieces)))
    for p in pieces:
        b = p.encode()
        f.write(struct.pack("<fi", 0.0, len(b)) + b)
