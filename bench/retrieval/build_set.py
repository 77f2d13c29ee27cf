"""Builds retrieval-set.json, the retrieval evaluation set, from the shared Bitext
sample (../shared/datasets/bitext-customer-support-sample.csv), once, with a fixed seed.

For each of the 27 intents, an article: a title named after the intent and, as its
body, three of the agents' replies to that intent. The queries are other customers'
messages of the same intent, held back (never in an article). A few queries get
deterministic typos, to measure typo tolerance on its own.

    python3 bench/retrieval/build_set.py ../shared/datasets/bitext-customer-support-sample.csv \\
        > bench/retrieval/retrieval-set.json

`atum-bench retrieval-eval` loads the set into a fresh organisation and asks the
product's own search (GET /api/v1/kb/search) with each retriever alone and all fused.
`atum-bench reply-eval` files each query as a ticket and compares the product's draft
reply with the agent's real reply to that message (`reply`).
The Bitext wording is templated, so these figures are optimistic; report them so.
"""

import csv
import json
import random
import re
import sys

SEED = 20261130
REPLIES_PER_ARTICLE = 3
QUERIES_PER_INTENT = 12
TYPO_QUERIES = 40

rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
rng = random.Random(SEED)
by_intent = {}
for r in rows:
    by_intent.setdefault(r["intent"], []).append(r)


def clean(text):
    # The dataset's placeholders ({{Order Number}}) read as plain words in an article.
    return re.sub(r"\{\{([^}]*)\}\}", lambda m: m.group(1).lower(), text).strip()


def typo(text, r):
    # Two edits in words of five letters or more: a swap of neighbours, a dropped letter.
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for kind in ("swap", "drop"):
        if not long:
            break
        i = r.choice(long)
        w = words[i]
        j = r.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if kind == "swap" else w[:j] + w[j + 1 :]
        long.remove(i)
    return " ".join(words)


articles, queries = [], []
for intent in sorted(by_intent):
    items = by_intent[intent][:]
    rng.shuffle(items)
    body = "\n\n".join(clean(r["response"]) for r in items[:REPLIES_PER_ARTICLE])
    articles.append({"intent": intent, "title": intent.replace("_", " ").capitalize(), "body": body})
    for r in items[REPLIES_PER_ARTICLE : REPLIES_PER_ARTICLE + QUERIES_PER_INTENT]:
        # The agent's real reply to it: what a draft reply is compared with.
        queries.append({"intent": intent, "text": clean(r["instruction"]), "typo": False, "reply": clean(r["response"])})

for q in rng.sample(queries, TYPO_QUERIES):
    queries.append({"intent": q["intent"], "text": typo(q["text"], rng), "typo": True, "reply": q["reply"]})

json.dump(
    {
        "source": "bitext-customer-support-sample.csv (CDLA-Sharing-1.0, (c) Bitext Innovations)",
        "seed": SEED,
        "articles": articles,
        "queries": queries,
    },
    sys.stdout,
    ensure_ascii=False,
    indent=1,
)
sys.stdout.write("\n")
