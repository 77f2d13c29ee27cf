#!/usr/bin/env python3
"""Build bench/copilot/flows.json: troubleshooting flows for the copilot's evaluation,
from the GNOME Help pages (gnome-user-docs, CC BY-SA 3.0 Unported), beside the
Bitext-derived articles of bench/retrieval/retrieval-set.json.

Each article is one GNOME Help page as Markdown: its title, its paragraphs, a `##`
heading per section or per cause of a problem page, numbered steps. Editors' comments
and the page's metadata are left out; a cross-reference with no words of its own is
dropped with the "See … for more information." around it. The customer messages are
ours (written for this set, three per page, in a customer's words rather than the
page's) and carry the page they are about.

    apt-get download gnome-user-docs && dpkg-deb -x gnome-user-docs_*.deb /tmp/gud
    python3 bench/copilot/build_flows.py /tmp/gud/usr/share/help/C/gnome-help

The output is deterministic for a given package version (recorded in the file).
"""

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

M = "{http://projectmallard.org/1.0/}"

# page id -> customer messages about it (ours, CC0).
FLOWS = {
    "net-wireless-noconnection": [
        "I typed the wifi password exactly as it is written on the router and it still refuses to connect.",
        "My laptop keeps saying the wireless password is wrong but I am sure it is right. What else can I try?",
        "Cannot join our office wireless network even though I entered the correct passphrase.",
    ],
    "net-wireless-disconnecting": [
        "My wifi drops every few minutes and then reconnects, which kills my video calls.",
        "The wireless connection keeps disconnecting when I sit in the back room.",
        "Why does my computer lose the wireless network all the time?",
    ],
    "net-slow": [
        "The internet is extremely slow every evening, pages take ages to load.",
        "Browsing has become really slow since this morning. What could cause it?",
        "Downloads crawl and websites load slowly on my connection.",
    ],
    "printing-paperjam": [
        "The printer has a sheet stuck inside and shows a paper jam error.",
        "Paper got jammed in the printer halfway through my document, how do I get it out?",
        "My printer stopped with a jam and will not continue printing.",
    ],
    "printing-streaks": [
        "My printouts have streaks and lines across every page.",
        "The colours on my prints are wrong and the text looks faded.",
        "Printed pages come out with jagged lines and poor quality.",
    ],
    "printing-cancel-job": [
        "I sent a 300 page document to the printer by mistake, how do I stop it?",
        "A print job is stuck in the queue and I want to cancel it.",
        "How can I pause a print job that is waiting to print?",
    ],
    "power-willnotturnon": [
        "My computer will not turn on at all when I press the power button.",
        "The PC beeps several times and then switches itself off.",
        "The fans spin when I switch the computer on but the screen stays black.",
    ],
    "power-suspendfail": [
        "After I suspended my laptop it does not wake up any more.",
        "I closed the lid to suspend and now the computer will not resume.",
        "The screen stays black when I try to wake the computer from suspend.",
    ],
    "power-hotcomputer": [
        "My laptop gets really hot on my lap after an hour of use.",
        "The desktop computer feels hot to the touch, is it overheating?",
        "Is it normal that my computer becomes so warm?",
    ],
    "sound-nosound": [
        "I cannot hear any sound from my computer, not even music.",
        "The speakers are silent, no audio plays at all.",
        "There is no sound when I play a video, what should I check?",
    ],
    "sound-crackle": [
        "I hear a crackling noise from the speakers whenever sound plays.",
        "There is a buzzing sound in my headphones while music is playing.",
        "Audio crackles and hisses through the speaker cable.",
    ],
    "mouse-problem-notmoving": [
        "The mouse pointer does not move when I move the mouse.",
        "My wireless mouse stopped working, the cursor is frozen.",
        "The USB mouse is plugged in but the pointer will not move.",
    ],
    "bluetooth-problem-connecting": [
        "I cannot connect my Bluetooth headset to the computer.",
        "My phone will not pair with the laptop over Bluetooth.",
        "The computer does not recognise my Bluetooth adapter.",
    ],
    "files-recover": [
        "I deleted an important file by accident, can I get it back?",
        "How do I restore a document I removed yesterday?",
        "A folder disappeared after I deleted it, can it be recovered from the trash?",
    ],
    "user-changepassword": [
        "How do I change the password of my account on the computer?",
        "I want to set a new login password for my user.",
        "Please tell me how to change my password, I think someone knows it.",
    ],
    "power-batteryslow": [
        "My laptop becomes slow as soon as I unplug the charger.",
        "Why does the computer run slower on battery power?",
        "Performance drops when the laptop is running on battery.",
    ],
}

BLOCK = {"p", "item", "title", "note", "example", "code", "screen", "desc"}
SKIP = {"info", "comment", "media", "figure"}


def text_of(el):
    """The words of an inline run: a cross-reference with no words of its own is
    empty, every other element is its text."""
    out = [el.text or ""]
    for child in el:
        tag = child.tag.replace(M, "")
        if tag in SKIP:
            pass
        elif tag == "keyseq":
            out.append("+".join(text_of(k) for k in child))
        elif tag == "link" and not "".join(child.itertext()).strip():
            out.append("\u0000")
        else:
            out.append(text_of(child))
        out.append(child.tail or "")
    return "".join(out)


def clean(s):
    s = re.sub(r"\s+", " ", s).strip()
    # "See <xref/> for more information." with the xref gone says nothing.
    s = re.sub(r"\s*(?:—\s*)?[Ss]ee\s*\u0000[^.]*\.", ".", s)
    s = s.replace("\u0000", "")
    s = re.sub(r"\s+([.,;:])", r"\1", s)
    s = re.sub(r"\.\.+", ".", s)
    s = re.sub(r"\(\s*\)", "", s)
    return s.strip()


def blocks(el, out, depth=0):
    for child in el:
        tag = child.tag.replace(M, "")
        if tag in SKIP:
            continue
        if tag == "section" or (tag == "item" and child.find(M + "title") is not None):
            title = child.find(M + "title")
            if title is not None:
                out.append("## " + clean(text_of(title)))
            blocks([c for c in child if c is not title], out, depth)
        elif tag in ("steps", "list", "terms", "tree"):
            numbered = tag == "steps"
            for i, item in enumerate(child.findall(M + "item"), 1):
                if item.find(M + "title") is not None:
                    blocks([item], out, depth)
                    continue
                # An item's first paragraph is often a line without a full stop
                # ("Try the hex or ASCII pass key"): it ends a sentence here.
                paragraphs = [clean(text_of(p)) for p in item if p.tag.replace(M, "") == "p"]
                words = " ".join(p if p[-1:] in ".?!:" else p + "." for p in paragraphs if p) or clean(text_of(item))
                if words:
                    out.append(f"{i}. {words}" if numbered else f"- {words}")
        elif tag in BLOCK and tag != "title":
            words = clean(text_of(child))
            if words:
                out.append(words)
        else:
            blocks(child, out, depth + 1)


def page(path):
    root = ET.parse(path).getroot()
    title = clean(text_of(root.find(M + "title")))
    out = []
    blocks([c for c in root if c.tag != M + "title"], out)
    credits = [
        "".join(n.itertext()).strip()
        for c in root.iter(M + "credit")
        if (n := c.find(M + "name")) is not None
    ]
    return title, "\n\n".join(out), credits


def main():
    src = Path(sys.argv[1])
    version = sys.argv[2] if len(sys.argv) > 2 else "43.0-2"
    articles, queries = [], []
    for pid, messages in FLOWS.items():
        title, body, credits = page(src / f"{pid}.page")
        articles.append(
            {
                "flow": pid,
                "title": title,
                "body": body,
                "source": f"GNOME Help, page {pid} (gnome-user-docs {version})",
                "authors": sorted(set(credits)),
            }
        )
        queries += [{"flow": pid, "text": m} for m in messages]
    out = {
        "licence": "Articles: adapted from GNOME Help (gnome-user-docs), "
        "Creative Commons Attribution-ShareAlike 3.0 Unported, "
        "https://creativecommons.org/licenses/by-sa/3.0/ ; this adaptation is under the same licence. "
        "Customer messages: written for ATUM Desk, CC0.",
        "articles": articles,
        "queries": queries,
    }
    dest = Path(__file__).with_name("flows.json")
    dest.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(articles)} articles, {len(queries)} messages -> {dest}")


if __name__ == "__main__":
    main()
