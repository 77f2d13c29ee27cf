#!/usr/bin/env python3
"""The fixed triage split of the shared Bitext sample, made once.

Every intent's messages are shuffled with one seed and a fifth of them (rounded)
goes to the test file, the rest to the training file. Only the customer's message and
its two labels (category, intent) are kept. `atum ai eval` reads the two files.

    python3 bench/triage/split.py ../shared/datasets/bitext-customer-support-sample.csv

Data: Bitext customer-support sample, CDLA-Sharing-1.0, (c) Bitext Innovations.
"""
import csv
import os
import random
import sys

SEED = 20261201
TEST_SHARE = 0.2

source = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/bitext-customer-support-sample.csv"
here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(source, newline="", encoding="utf-8")))
by_intent = {}
for r in rows:
    by_intent.setdefault(r["intent"], []).append(r)
rng = random.Random(SEED)
train, test = [], []
for intent in sorted(by_intent):
    mine = by_intent[intent]
    rng.shuffle(mine)
    held = round(len(mine) * TEST_SHARE)
    test.extend(mine[:held])
    train.extend(mine[held:])
rng.shuffle(train)
rng.shuffle(test)
for name, part in (("train.csv", train), ("test.csv", test)):
    with open(os.path.join(here, name), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "category", "intent"])
        for r in part:
            w.writerow([r["instruction"].strip(), r["category"], r["intent"]])
print(f"{len(train)} training rows, {len(test)} test rows")
