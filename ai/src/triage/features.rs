//! What the linear model sees of a ticket besides its sentence vector: its words, its
//! word pairs and its words' character trigrams, hashed into a fixed number of
//! columns (the hashing trick: no vocabulary to store, new words land somewhere). A
//! product name, an error code or a misspelling reaches the model through these even
//! when the sentence vector blurs it.

/// Columns of the hashed features.
pub const LEXICAL_DIM: usize = 1024;

/// FNV-1a: stable across processes and releases, which a stored model relies on.
fn hash(kind: u8, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    eat(kind);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            eat(b' ');
        }
        p.bytes().for_each(&mut eat);
    }
    h
}

/// The hashed features of `text`, [`LEXICAL_DIM`] values of unit length (all zero
/// for a text without a word). Counts are damped (log 1 + n) so a repeated word does
/// not drown the rest; each feature's sign comes from its hash, so collisions cancel
/// out on average instead of adding up.
pub fn lexical(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; LEXICAL_DIM];
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut add = |h: u64| {
        let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
        v[(h % LEXICAL_DIM as u64) as usize] += sign;
    };
    for (i, w) in words.iter().enumerate() {
        add(hash(b'w', &[w]));
        if let Some(next) = words.get(i + 1) {
            add(hash(b'b', &[w, next]));
        }
        let padded: Vec<char> = std::iter::once(' ').chain(w.chars()).chain(std::iter::once(' ')).collect();
        for t in padded.windows(3) {
            let t: String = t.iter().collect();
            add(hash(b'c', &[&t]));
        }
    }
    for x in &mut v {
        *x = x.signum() * x.abs().ln_1p();
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn features_are_unit_length_and_the_same_for_the_same_words() {
        let a = lexical("Refund for order 1234, please!");
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert_eq!(a, lexical("refund FOR order 1234 please"), "case and punctuation do not matter");
        assert!(lexical("?!").iter().all(|x| *x == 0.0), "no words, no features");
    }

    #[test]
    fn a_misspelt_word_stays_closer_than_an_unrelated_one() {
        let right = lexical("invoice");
        assert!(cosine(&right, &lexical("invoise")) > cosine(&right, &lexical("password")) + 0.2);
    }
}
