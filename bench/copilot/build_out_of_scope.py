#!/usr/bin/env python3
"""Build bench/copilot/out-of-scope.json: questions nobody here wrote, none of which asks
what the copilot answers about a ticket (how to resolve it, the customer's history, its
SLA), for the copilot's scope check.

- `fit`: the Python FAQ's questions (python3.11-doc, the Python documentation, PSF
  License Version 2): the scope check's floor is fitted on them and on our `fit`
  questions in bench/src/copilot_eval.rs.
- `evaluate`: the Debian GNU/Linux FAQ's questions (debian-faq, Copyright (C)
  1996-2003 Software in the Public Interest; verbatim and modified copies permitted
  with its notice, which the file carries): the refusal rate is reported on them.

A question is a section heading that ends with "?" (the FAQ's own questions).

    apt-get download python3.11-doc debian-faq
    dpkg-deb -x python3.11-doc_*.deb /tmp/pydoc && dpkg-deb -x debian-faq_*.deb /tmp/dfaq
    python3 bench/copilot/build_out_of_scope.py /tmp/pydoc /tmp/dfaq

The output is deterministic for given package versions (recorded in the file).
"""

import html
import json
import re
import sys
from pathlib import Path


def python_faq(root: Path) -> list[str]:
    out = []
    for f in sorted((root / "usr/share/doc/python3.11/html/_sources/faq").glob("*.rst.txt")):
        lines = f.read_text(encoding="utf-8").split("\n")
        for line, under in zip(lines, lines[1:]):
            line, under = line.strip(), under.strip()
            if line.endswith("?") and under and set(under) <= set("=-~^\"'") and len(under) >= len(line) - 2:
                out.append(re.sub(r"\s+", " ", line))
    return out


def debian_faq(root: Path) -> list[str]:
    out = []
    for f in sorted((root / "usr/share/doc/debian/FAQ").glob("*.html")):
        text = f.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"<h[23][^>]*>(.*?)</h[23]>", text, re.S):
            q = html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()
            q = re.sub(r"\s+", " ", re.sub(r"^[\d.]+\s*", "", q))
            if q.endswith("?"):
                out.append(q.replace("`", "'"))
    return out


def version(root: Path, doc: str) -> str:
    changelog = root / f"usr/share/doc/{doc}/changelog.Debian.gz"
    if not changelog.exists():
        changelog = root / f"usr/share/doc/{doc}/changelog.gz"
    import gzip

    first = gzip.open(changelog, "rt", encoding="utf-8").readline()
    return first.split("(")[1].split(")")[0] if "(" in first else "unknown"


def unique(xs: list[str]) -> list[str]:
    seen, out = set(), []
    for x in xs:
        if x.lower() not in seen:
            seen.add(x.lower())
            out.append(x)
    return out


def main() -> None:
    pydoc, dfaq = Path(sys.argv[1]), Path(sys.argv[2])
    notice = (dfaq / "usr/share/doc/debian-faq/copyright").read_text(encoding="utf-8")
    start = notice.index("Copyright (C) 1996")
    end = notice.index("Free Software Foundation", start)
    out = {
        "about": "Questions no one at ATUM Desk wrote that do not ask about a ticket; see build_out_of_scope.py.",
        "fit_source": {
            "package": "python3.11-doc",
            "version": version(pydoc, "python3.11-doc"),
            "document": "Python Frequently Asked Questions",
            "licence": "PSF License Version 2",
        },
        "evaluate_source": {
            "package": "debian-faq",
            "version": version(dfaq, "debian-faq"),
            "document": "The Debian GNU/Linux FAQ",
            "licence_notice": re.sub(r"\s+", " ", notice[start : end + len("Free Software Foundation")]) + ".",
        },
        "fit": unique(python_faq(pydoc)),
        "evaluate": unique(debian_faq(dfaq)),
    }
    path = Path(__file__).with_name("out-of-scope.json")
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(out['fit'])} questions to fit, {len(out['evaluate'])} to evaluate: {path}")


if __name__ == "__main__":
    main()
