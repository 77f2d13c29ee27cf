//! Whether a sentence a model wrote is backed by the text it cites. Checked in code,
//! sentence by sentence, so a model that invents, contradicts or follows an
//! instruction planted in the customer's text is caught whatever its prompt said:
//!
//! - most of the sentence's content words are in the cited text ([`MIN_RECALL`]; words
//!   compared by their first five letters, a stemmer that needs no language);
//! - every number, e-mail address, link, ticket id and product code in the sentence is
//!   in the cited text as written;
//! - the sentence and the cited sentence closest to it agree on negation.

use unicode_segmentation::UnicodeSegmentation;

/// The share of a sentence's content words its cited text must have. A rewording
/// keeps most of its source's words; a sentence about something else keeps few.
pub const MIN_RECALL: f32 = 0.6;

/// Why a sentence is not backed by what it cites.
#[derive(Debug, Clone, PartialEq)]
pub enum Unsupported {
    NoContent,
    FewWords { recall: f32 },
    Identifier(String),
    Negation,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsupported::NoContent => f.write_str("it says nothing its sources say"),
            Unsupported::FewWords { recall } => {
                write!(
                    f,
                    "{:.0}% of its words are in what it cites (at least {:.0}% needed)",
                    recall * 100.0,
                    MIN_RECALL * 100.0
                )
            }
            Unsupported::Identifier(s) => write!(f, "\"{s}\" is not in what it cites"),
            Unsupported::Negation => f.write_str("it negates what it cites, or the other way round"),
        }
    }
}

const STOPWORDS: &[&str] = &[
    // English
    "the", "and", "for", "are", "but", "not", "you", "your", "yours", "with", "this", "that", "these", "those", "from",
    "have", "has", "had", "was", "were", "will", "would", "can", "could", "should", "may", "might", "must", "shall",
    "been", "being", "into", "onto", "then", "than", "there", "here", "their", "they", "them", "our", "ours", "its",
    "also", "just", "some", "any", "all", "each", "every", "more", "most", "very", "too", "out", "over", "under",
    "about", "again", "once", "only", "own", "same", "such", "what", "which", "who", "whom", "when", "where", "why",
    "how", "does", "did", "doing", "done", "get", "got", "let", "please", "so", "if", "or", "of", "to", "in", "on",
    "at", "by", "an", "as", "is", "it", "be", "do", "we", "us", "me", "my", "he", "she", "his", "her", "him", "yes",
    "no", "none", "nor", "off", "up", "down", "via", "per", "one", "now", "use", "using", "used", "need", "needs",
    // German, French, Spanish, Portuguese, Italian, Dutch: the commonest
    "der", "die", "das", "und", "ist", "ein", "eine", "den", "dem", "des", "mit", "sie", "ihr", "ihre", "auf", "les",
    "des", "une", "est", "pour", "que", "qui", "dans", "sur", "vous", "votre", "avec", "los", "las", "una", "por",
    "para", "con", "que", "del", "sus", "uma", "com", "não", "het", "een", "van", "voor", "met", "zijn", "della",
    "che", "per", "con", "non", "sono",
];

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nothing", "nobody", "cannot", "without", "neither", "nor", "nicht", "kein", "keine",
    "keinen", "nie", "niemals", "pas", "jamais", "aucun", "aucune", "nunca", "nada", "non", "nao", "não", "niet",
    "geen", "nooit",
];

fn stem(word: &str) -> String {
    word.chars().take(5).collect()
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.unicode_words().map(str::to_lowercase)
}

/// A content word: not a stopword, at least three letters, not a number (numbers are
/// identifiers, checked exactly).
fn content(word: &str) -> bool {
    word.chars().count() >= 3 && !word.chars().any(|c| c.is_ascii_digit()) && !STOPWORDS.contains(&word)
}

fn negated(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .map(str::to_lowercase)
        .any(|w| NEGATIONS.contains(&w.as_str()) || w.ends_with("n't") || w.ends_with("n’t"))
}

/// The tokens that must be in the cited text exactly: anything with a digit, an
/// e-mail address, a link, a path.
pub fn identifiers(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|t| {
            t.trim_matches(|c: char| {
                matches!(
                    c,
                    '.' | ','
                        | ';'
                        | ':'
                        | '!'
                        | '?'
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '"'
                        | '\''
                        | '“'
                        | '”'
                        | '‘'
                        | '’'
                        | '<'
                        | '>'
                        | '*'
                        | '_'
                )
            })
        })
        .filter(|t| {
            t.chars().any(|c| c.is_ascii_digit())
                || t.contains('@')
                || t.contains("://")
                || t.starts_with("www.")
                || (t.contains('/') && t.len() > 1)
        })
        .map(str::to_owned)
        .collect()
}

/// Checks one sentence against the text it cites (its sources' quoted text, joined).
pub fn check(sentence: &str, cited: &str) -> Result<(), Unsupported> {
    let cited_lower = cited.to_lowercase();
    for id in identifiers(sentence) {
        if !cited_lower.contains(&id.to_lowercase()) {
            return Err(Unsupported::Identifier(id));
        }
    }
    let mine: Vec<String> = words(sentence).filter(|w| content(w)).map(|w| stem(&w)).collect();
    if mine.is_empty() {
        return Err(Unsupported::NoContent);
    }
    let theirs: std::collections::HashSet<String> = words(cited).filter(|w| content(w)).map(|w| stem(&w)).collect();
    let recall = |of: &[String], against: &std::collections::HashSet<String>| {
        of.iter().filter(|w| against.contains(*w)).count() as f32 / of.len() as f32
    };
    let r = recall(&mine, &theirs);
    if r < MIN_RECALL {
        return Err(Unsupported::FewWords { recall: r });
    }
    // The cited sentence that shares most of this one's words says whether it is negated.
    let closest = cited
        .unicode_sentences()
        .max_by(|a, b| {
            let score = |s: &str| {
                let set: std::collections::HashSet<String> =
                    words(s).filter(|w| content(w)).map(|w| stem(&w)).collect();
                recall(&mine, &set)
            };
            score(a).total_cmp(&score(b))
        })
        .unwrap_or(cited);
    if negated(sentence) != negated(closest) {
        return Err(Unsupported::Negation);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Open the security page of your account and choose the VPN tab. \
        Press the reset token button and confirm with your password. \
        Write to vpn@example.com if the button is missing. Tokens last 30 days.";

    #[test]
    fn a_rewording_of_its_source_is_backed() {
        assert_eq!(check("In short, open your account's security page and choose the VPN tab.", SOURCE), Ok(()));
        assert_eq!(check("Then press the reset token button and confirm it with your password.", SOURCE), Ok(()));
        assert_eq!(check("Each token lasts 30 days.", SOURCE), Ok(()));
    }

    #[test]
    fn a_sentence_about_something_else_or_with_a_new_fact_is_not() {
        assert!(matches!(
            check("We have refunded your last invoice in full.", SOURCE),
            Err(Unsupported::FewWords { .. })
        ));
        assert_eq!(
            check("Write to help@evil.example if the button is missing.", SOURCE),
            Err(Unsupported::Identifier("help@evil.example".into()))
        );
        assert_eq!(check("Tokens last 90 days.", SOURCE), Err(Unsupported::Identifier("90".into())));
        assert_eq!(
            check("Do not press the reset token button or confirm with your password.", SOURCE),
            Err(Unsupported::Negation)
        );
        assert!(matches!(check("Thanks for your patience!", SOURCE), Err(Unsupported::FewWords { .. })));
        assert_eq!(check("Yes, do it now.", SOURCE), Err(Unsupported::NoContent));
    }
}
