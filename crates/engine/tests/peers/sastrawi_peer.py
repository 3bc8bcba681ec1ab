"""PySastrawi (the Python port of Sastrawi) stemming every word of a list over a given root
dictionary; prints {word: stem} as JSON. Usage: sastrawi_peer.py ROOTS WORDS"""
import json
import sys

from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


stemmer = Stemmer(ArrayDictionary(lines(sys.argv[1])))
print(json.dumps({w: stemmer.stem(w) for w in lines(sys.argv[2])}))
