//! The tone of a customer's message, from VADER's lexicon and rules (the
//! `vader_sentiment` crate): no model, microseconds a message, and it reads
//! negations, intensifiers, capitals and exclamation marks.

use atum_core::models::{Sentiment, SentimentLabel};
use vader_sentiment::SentimentIntensityAnalyzer;

/// VADER's own cut-offs on its compound score.
const POSITIVE: f64 = 0.05;
const NEGATIVE: f64 = -0.05;

pub struct Analyzer {
    vader: SentimentIntensityAnalyzer<'static>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer { vader: SentimentIntensityAnalyzer::new() }
    }
}

impl Analyzer {
    pub fn score(&self, text: &str) -> Sentiment {
        let compound = self.vader.polarity_scores(text).get("compound").copied().unwrap_or(0.0);
        let label = if compound >= POSITIVE {
            SentimentLabel::Positive
        } else if compound <= NEGATIVE {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        Sentiment { score: compound.clamp(-1.0, 1.0) as f32, label }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_angry_message_is_negative_and_a_thankful_one_positive() {
        let a = Analyzer::default();
        let angry = a.score("This is the THIRD time I write. Your service is terrible and nobody helps me!");
        assert_eq!(angry.label, SentimentLabel::Negative, "{angry:?}");
        let thanks = a.score("Thank you so much, that fixed it. Great support!");
        assert_eq!(thanks.label, SentimentLabel::Positive, "{thanks:?}");
        assert!(angry.score < 0.0 && thanks.score > 0.0);
    }

    #[test]
    fn a_negation_turns_the_tone() {
        let a = Analyzer::default();
        assert!(a.score("The new invoice is not good").score < a.score("The new invoice is good").score);
    }
}
