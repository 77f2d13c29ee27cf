//! Cutting sources into passages a retriever (and, later, a small embedding model with
//! a 256-token window) can handle: an article by its Markdown sections, then by
//! paragraphs up to about [`MAX_WORDS`] words; a solved ticket as one passage — what
//! was asked and the public reply that answered it.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation as _;

use crate::markdown;

/// About 180 words stay within a MiniLM-class model's 256 tokens with room to spare.
pub const MAX_WORDS: usize = 180;
/// A ticket's description is cut to this many characters: the question, not the logs.
pub const MAX_QUESTION_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The source's title, with the section's heading when there is one.
    pub title: String,
    pub body: String,
}

impl Chunk {
    /// The hash of what would be embedded: an unchanged chunk keeps its vector.
    pub fn hash(&self) -> Vec<u8> {
        let mut h = Sha256::new();
        h.update(self.title.as_bytes());
        h.update([0]);
        h.update(self.body.as_bytes());
        h.finalize().to_vec()
    }
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// An article as passages: each heading starts a section; a section longer than
/// [`MAX_WORDS`] is split between paragraphs (a single longer paragraph, between
/// words). The text is the article's as a reader sees it, without its Markdown: a
/// link is its words, emphasis marks are gone, a code block is its code (so a `#`
/// line in one is not a heading). An article with no text is one passage of its
/// title.
pub fn article(title: &str, markdown: &str) -> Vec<Chunk> {
    let out: Vec<Chunk> = sections(markdown)
        .into_iter()
        .flat_map(|(heading, paragraphs)| {
            let title = match &heading {
                Some(h) if !h.is_empty() => format!("{title} — {h}"),
                _ => title.to_owned(),
            };
            passages(title, &paragraphs)
        })
        .collect();
    if out.is_empty() {
        return vec![Chunk { title: title.to_owned(), body: String::new() }];
    }
    out
}

/// The paragraphs of a section as passages of at most [`MAX_WORDS`] words.
fn passages(title: String, paragraphs: &[String]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut body = String::new();
    for p in paragraphs.iter().flat_map(|p| split_long(p)) {
        if !body.is_empty() && words(&body) + words(&p) > MAX_WORDS {
            out.push(Chunk { title: title.clone(), body: std::mem::take(&mut body) });
        }
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&p);
    }
    if !body.is_empty() {
        out.push(Chunk { title, body });
    }
    out
}

/// Between a table's cells.
const CELL: &str = " | ";

/// The article's plain text, as (heading, paragraphs) per section; text before the
/// first heading is a section without one. A list, a table or a code block is one
/// paragraph, a line per item, row or line.
fn sections(markdown: &str) -> Vec<(Option<String>, Vec<String>)> {
    let mut sections: Vec<(Option<String>, Vec<String>)> = vec![(None, Vec::new())];
    let mut text = String::new();
    let mut heading: Option<String> = None;
    // Lists, block quotes and tables being read: a paragraph inside one ends a line,
    // not the paragraph.
    let mut depth = 0usize;
    let flush = |text: &mut String, sections: &mut Vec<(Option<String>, Vec<String>)>| {
        let p = text.trim();
        if !p.is_empty()
            && let Some(last) = sections.last_mut()
        {
            last.1.push(p.to_owned());
        }
        text.clear();
    };
    for event in Parser::new_ext(markdown, markdown::options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                flush(&mut text, &mut sections);
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap_or_default();
                sections.push((Some(h.trim().to_owned()), Vec::new()));
            }
            Event::Text(t) | Event::Code(t) => match heading.as_mut() {
                Some(h) => h.push_str(&t),
                None => text.push_str(&t),
            },
            Event::SoftBreak | Event::HardBreak => match heading.as_mut() {
                Some(h) => h.push(' '),
                None => text.push('\n'),
            },
            Event::Start(Tag::List(_) | Tag::BlockQuote(_) | Tag::Table(_)) => {
                if depth == 0 {
                    flush(&mut text, &mut sections);
                }
                depth += 1;
            }
            Event::End(TagEnd::List(_) | TagEnd::BlockQuote(_) | TagEnd::Table) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    flush(&mut text, &mut sections);
                }
            }
            Event::Start(Tag::CodeBlock(_)) if depth == 0 => flush(&mut text, &mut sections),
            Event::End(TagEnd::Paragraph | TagEnd::CodeBlock) if depth == 0 => flush(&mut text, &mut sections),
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableHead | TagEnd::TableRow | TagEnd::CodeBlock) => {
                if let Some(row) = text.strip_suffix(CELL) {
                    text.truncate(row.len());
                }
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            Event::End(TagEnd::TableCell) => text.push_str(CELL),
            Event::Rule => flush(&mut text, &mut sections),
            _ => {}
        }
    }
    flush(&mut text, &mut sections);
    sections
}

/// A paragraph longer than [`MAX_WORDS`] as pieces of at most that many words.
fn split_long(p: &str) -> Vec<String> {
    if words(p) <= MAX_WORDS {
        return vec![p.to_owned()];
    }
    // A list's items (a line each), then a line's sentences, then — for a sentence
    // longer than a passage — its words: a passage never starts in the middle of a
    // sentence that fits in one, so a sentence quoted from it reads as its author wrote it.
    let mut pieces: Vec<(String, &str)> = Vec::new();
    for line in p.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if words(line) <= MAX_WORDS {
            pieces.push((line.to_owned(), "\n"));
            continue;
        }
        for sentence in line.unicode_sentences().map(str::trim).filter(|s| !s.is_empty()) {
            if words(sentence) <= MAX_WORDS {
                pieces.push((sentence.to_owned(), " "));
            } else {
                let all: Vec<&str> = sentence.split_whitespace().collect();
                pieces.extend(all.chunks(MAX_WORDS).map(|w| (w.join(" "), " ")));
            }
        }
        // The line ends where its last sentence does.
        if let Some(last) = pieces.last_mut() {
            last.1 = "\n";
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut joiner = "";
    for (piece, after) in pieces {
        if !current.is_empty() && words(&current) + words(&piece) > MAX_WORDS {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(joiner);
        }
        current.push_str(&piece);
        joiner = after;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A solved ticket as one passage: the subject, the question (cut), and the reply.
pub fn ticket(subject: &str, description: &str, reply: &str) -> Chunk {
    let question: String = description.trim().chars().take(MAX_QUESTION_CHARS).collect();
    let body = if question.is_empty() { reply.trim().to_owned() } else { format!("{question}\n\n{}", reply.trim()) };
    Chunk { title: subject.trim().to_owned(), body }
}

/// Where the reply begins in a solved ticket's passage (a byte offset of `body`),
/// given the ticket's description: after the question [`ticket`] put first. 0 when
/// the passage does not begin with it (the ticket changed since it was indexed).
pub fn ticket_reply_start(description: &str, body: &str) -> usize {
    let question: String = description.trim().chars().take(MAX_QUESTION_CHARS).collect();
    if question.is_empty() {
        return 0;
    }
    match body.strip_prefix(question.as_str()).and_then(|rest| rest.strip_prefix("\n\n")) {
        Some(_) => question.len() + 2,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_is_cut_at_its_headings_and_each_passage_names_its_section() {
        let chunks = article("VPN", "Intro line.\n\n# Reset\n\nOpen settings.\n\nPress reset.\n\n## Why\nBecause.\n");
        let got: Vec<(&str, &str)> = chunks.iter().map(|c| (c.title.as_str(), c.body.as_str())).collect();
        assert_eq!(
            got,
            [("VPN", "Intro line."), ("VPN — Reset", "Open settings.\n\nPress reset."), ("VPN — Why", "Because.")]
        );
    }

    #[test]
    fn a_passage_is_the_text_a_reader_sees_not_its_markdown() {
        let md = "Press **reset**, then see [the guide](https://example.com/g) or `vpn --reset`.\n\n\
                  ```sh\n# not a heading\nvpn reset\n```\n\n\
                  - first *step*\n- second step\n\n\
                  | key | value |\n|---|---|\n| a | b |\n\n\
                  Last words.";
        let chunks = article("VPN", md);
        assert_eq!(chunks.len(), 1, "a # line in a code block starts no section: {chunks:?}");
        assert_eq!(
            chunks[0].body,
            "Press reset, then see the guide or vpn --reset.\n\n# not a heading\nvpn reset\n\n\
             first step\nsecond step\n\nkey | value\na | b\n\nLast words."
        );
    }

    #[test]
    fn a_heading_keeps_only_its_words() {
        let chunks = article("VPN", "## Reset the *token*\nBody.\n\nSetext heading\n---\nMore.");
        let titles: Vec<&str> = chunks.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["VPN — Reset the token", "VPN — Setext heading"]);
    }

    #[test]
    fn a_long_section_is_split_between_paragraphs_and_a_sentence_longer_than_a_passage_between_words() {
        let para = "word ".repeat(100);
        let chunks = article("T", &format!("{para}\n\n{para}\n\n{}", "w ".repeat(400)));
        assert!(chunks.iter().all(|c| words(&c.body) <= MAX_WORDS), "{chunks:?}");
        assert_eq!(chunks.len(), 2 + 3, "two paragraphs of 100 apart, then 400 words in three");
    }

    #[test]
    fn a_long_list_is_split_between_items_and_a_long_item_between_sentences() {
        let sentence = |n: usize| format!("Step {n} {}done.", "and more ".repeat(10));
        let items: Vec<String> = (0..12).map(|n| format!("- {} {}", sentence(n), sentence(n + 100))).collect();
        let chunks = article("List", &items.join("\n"));
        assert!(chunks.len() > 1, "{chunks:?}");
        for c in &chunks {
            assert!(words(&c.body) <= MAX_WORDS, "{c:?}");
            assert!(c.body.starts_with("Step "), "a passage starts with an item: {:?}", c.body);
            assert!(c.body.ends_with("done."), "and ends with a sentence: {:?}", c.body);
        }
        // A single item longer than a passage is cut between its sentences.
        let long = format!("- {}", (0..20).map(sentence).collect::<Vec<_>>().join(" "));
        let chunks = article("Long item", &long);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.body.starts_with("Step ") && c.body.ends_with("done.")), "{chunks:?}");
    }

    #[test]
    fn an_empty_article_is_one_passage_of_its_title_and_the_hash_follows_the_text() {
        let chunks = article("Only a title", "");
        assert_eq!(chunks, [Chunk { title: "Only a title".into(), body: String::new() }]);
        let a = ticket("Printer", "It jams", "Clean the roller");
        assert_eq!(a.body, "It jams\n\nClean the roller");
        assert_eq!(a.hash(), ticket("Printer", " It jams ", "Clean the roller").hash());
        assert_ne!(a.hash(), ticket("Printer", "It jams", "Replace the roller").hash());
    }

    #[test]
    fn a_solved_tickets_reply_starts_after_its_question() {
        let c = ticket("Printer", " It jams ", "Clean the roller");
        let at = ticket_reply_start(" It jams ", &c.body);
        assert_eq!(&c.body[at..], "Clean the roller");
        assert_eq!(ticket_reply_start("", &ticket("P", "", "Reply").body), 0);
        assert_eq!(ticket_reply_start("Another question", &c.body), 0, "a changed ticket quotes all of it");
    }
}
