//! Cutting sources into passages a retriever (and, later, a small embedding model with
//! a 256-token window) can handle: an article by its Markdown sections, then by
//! paragraphs up to about [`MAX_WORDS`] words; a solved ticket as one passage — what
//! was asked and the public reply that answered it.

use sha2::{Digest, Sha256};

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

/// An article as passages: each `#`-heading starts a section; a section longer than
/// [`MAX_WORDS`] is split between paragraphs (a single longer paragraph, between
/// words). An article with no text is one passage of its title.
pub fn article(title: &str, markdown: &str) -> Vec<Chunk> {
    let mut sections: Vec<(Option<String>, Vec<String>)> = vec![(None, Vec::new())];
    let mut paragraph = String::new();
    let flush = |paragraph: &mut String, sections: &mut Vec<(Option<String>, Vec<String>)>| {
        let p = paragraph.trim();
        if !p.is_empty()
            && let Some(last) = sections.last_mut()
        {
            last.1.push(p.to_owned());
        }
        paragraph.clear();
    };
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with(' ') {
            flush(&mut paragraph, &mut sections);
            sections.push((Some(trimmed.trim_start_matches('#').trim().to_owned()), Vec::new()));
        } else if trimmed.is_empty() {
            flush(&mut paragraph, &mut sections);
        } else {
            paragraph.push_str(line.trim());
            paragraph.push('\n');
        }
    }
    flush(&mut paragraph, &mut sections);

    let mut out = Vec::new();
    for (heading, paragraphs) in sections {
        let title = match &heading {
            Some(h) if !h.is_empty() => format!("{title} — {h}"),
            _ => title.to_owned(),
        };
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
    }
    if out.is_empty() {
        out.push(Chunk { title: title.to_owned(), body: String::new() });
    }
    out
}

/// A paragraph longer than [`MAX_WORDS`] as pieces of at most that many words.
fn split_long(p: &str) -> Vec<String> {
    if words(p) <= MAX_WORDS {
        return vec![p.to_owned()];
    }
    p.split_whitespace().collect::<Vec<_>>().chunks(MAX_WORDS).map(|w| w.join(" ")).collect()
}

/// A solved ticket as one passage: the subject, the question (cut), and the reply.
pub fn ticket(subject: &str, description: &str, reply: &str) -> Chunk {
    let question: String = description.trim().chars().take(MAX_QUESTION_CHARS).collect();
    let body = if question.is_empty() { reply.trim().to_owned() } else { format!("{question}\n\n{}", reply.trim()) };
    Chunk { title: subject.trim().to_owned(), body }
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
    fn a_long_section_is_split_between_paragraphs_and_a_long_paragraph_between_words() {
        let para = "word ".repeat(100);
        let chunks = article("T", &format!("{para}\n\n{para}\n\n{}", "w ".repeat(400)));
        assert!(chunks.iter().all(|c| words(&c.body) <= MAX_WORDS), "{chunks:?}");
        assert_eq!(chunks.len(), 2 + 3, "two paragraphs of 100 apart, then 400 words in three");
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
}
