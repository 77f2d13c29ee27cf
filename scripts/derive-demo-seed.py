#!/usr/bin/env python3
"""Derives seed/demo-tickets.csv from the Bitext customer-support sample.

Run once from the repository root; the output is committed, so `atum up` never needs
the source file. Rows are sampled with a fixed seed, placeholders such as
{{Website Name}} are filled with demo values, and each ticket gets a status,
priority, channel, requester, assignee and age that a real help desk would show.

Source: bitext/customer-support-llm-chatbot-training-dataset (CDLA-Sharing-1.0),
see seed/NOTICE.
"""
import csv
import random
import re
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/bitext-customer-support-sample.csv"
OUT = "seed/demo-tickets.csv"
COUNT = 300

FILL = {
    "Website Name": "demo.atum.test",
    "Website URL": "https://demo.atum.test",
    "website": "demo.atum.test",
    "Company Name": "Demo Company",
    "Customer Support Phone Number": "+1 555 0100",
    "Support Phone Number": "+1 555 0100",
    "Customer Service Phone Number": "+1 555 0100",
    "Customer Support Email": "support@demo.atum.test",
    "Customer Support Email Address": "support@demo.atum.test",
    "Customer Support Availability": "Monday to Friday, 8:00 to 18:00",
    "Customer Support Hours": "Monday to Friday, 8:00 to 18:00",
    "Customer Service Hours": "Monday to Friday, 8:00 to 18:00",
    "Live Chat": "live chat",
    "number of days": "14",
}


def fill(text, rng):
    def sub(m):
        key = m.group(1)
        if key in FILL:
            return FILL[key]
        if "Anonymized" in key or "Number" in key:
            return str(rng.randrange(10_000_000, 99_999_999))
        return key
    return re.sub(r"\{\{([^}]+)\}\}", sub, text)


def subject(instruction):
    first = re.split(r"(?<=[.?!])\s", instruction.strip(), maxsplit=1)[0]
    first = first[0].upper() + first[1:] if first else "Question"
    return first if len(first) <= 90 else first[:87].rsplit(" ", 1)[0] + "..."


def main():
    rng = random.Random(2026)
    with open(SOURCE, newline="") as f:
        rows = list(csv.DictReader(f))
    rows = rng.sample(rows, COUNT)
    statuses = ["new"] * 3 + ["open"] * 4 + ["pending"] * 2 + ["on_hold"] + ["solved"] * 5 + ["closed"] * 3
    priorities = ["low"] * 3 + ["normal"] * 6 + ["high"] * 3 + ["urgent"]
    channels = ["email"] * 5 + ["portal"] * 3 + ["web"] * 2 + ["chat"] + ["phone"]
    with open(OUT, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["subject", "description", "category", "intent", "status", "priority", "channel",
                    "requester", "assignee", "age_hours", "reply"])
        for row in rows:
            instruction = fill(row["instruction"], rng)
            status = rng.choice(statuses)
            complaint = row["intent"] in ("complaint", "payment_issue")
            priority = rng.choice(["high", "urgent"]) if complaint else rng.choice(priorities)
            answered = status not in ("new",)
            w.writerow([
                subject(instruction),
                instruction,
                row["category"].lower(),
                row["intent"],
                status,
                priority,
                rng.choice(channels),
                rng.randrange(6),
                "" if status == "new" else rng.randrange(2),
                rng.randrange(1, 24 * 30),
                fill(row["response"], rng) if answered else "",
            ])


if __name__ == "__main__":
    main()
