//! Which language a ticket is written in (the `whatlang` crate: trigram profiles of
//! 69 languages, no model files). Used to greet a customer in their language and to
//! route by it.

use atum_core::models::Language;

/// Below this many letters the guess is noise ("ok", "thx").
const MIN_LETTERS: usize = 12;
/// whatlang's confidence (its margin over the next language) below which there is no answer.
const MIN_CONFIDENCE: f64 = 0.5;

pub fn detect(text: &str) -> Option<Language> {
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(text)?;
    // A narrow margin over the runner-up is a guess: English full of loanwords
    // ("renew my garage parking permit") reads as French at 0.33. (whatlang's own
    // `is_reliable` is stricter still: it refuses plain English sentences at 0.7.)
    if info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    Some(Language { code: info.lang().code().to_owned(), confidence: info.confidence().clamp(0.0, 1.0) as f32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_german_and_french_tickets_are_told_apart() {
        let code = |t: &str| detect(t).map(|l| l.code);
        assert_eq!(code("I cannot log in to my account since yesterday, please help").as_deref(), Some("eng"));
        assert_eq!(code("Ich kann mich seit gestern nicht mehr in mein Konto einloggen").as_deref(), Some("deu"));
        assert_eq!(code("Je ne peux plus me connecter à mon compte depuis hier soir").as_deref(), Some("fra"));
    }

    #[test]
    fn a_few_letters_are_too_few_to_tell() {
        assert_eq!(detect("ok thx"), None);
    }

    #[test]
    fn an_unreliable_guess_is_no_answer() {
        let t = "Parking permit renewal\n\nHow do I renew my Harbour garage parking permit? It expires next week.";
        assert_ne!(detect(t).map(|l| l.code).as_deref(), Some("fra"));
    }
}
