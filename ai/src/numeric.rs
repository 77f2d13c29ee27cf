//! Small numeric pieces the models and the API share: 8-bit vector codes (a quarter
//! of f32's memory, for the vectors scanned by cosine) and a softmax.

/// A vector as 8-bit codes and the scale that maps them back (`x ≈ code * scale`):
/// the largest component becomes ±127. For unit vectors of a few hundred components
/// the cosine of a query with the codes stays within about 0.01 of the exact one.
pub fn quantise(v: &[f32], codes: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    codes.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
    scale
}

/// The dot product of two code vectors. Written as independent lanes so the compiler
/// turns it into SIMD multiply-adds; integer sums are exact, so lanes change nothing.
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 32;
    let mut acc = [0i32; LANES];
    let (a_main, a_rest) = a.split_at(a.len() - a.len() % LANES);
    let (b_main, b_rest) = b.split_at(a_main.len());
    for (x, y) in a_main.chunks_exact(LANES).zip(b_main.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    acc.iter().sum::<i32>() + a_rest.iter().zip(b_rest).map(|(x, y)| i32::from(*x) * i32::from(*y)).sum::<i32>()
}

/// Probabilities from scores, in place; the largest score is subtracted first, so
/// large scores do not overflow.
pub fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for z in row.iter_mut() {
        *z = (*z - max).exp();
        sum += *z;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|z| *z *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_dot_product_is_exact_for_any_length() {
        for len in [0, 1, 31, 32, 33, 384, 385] {
            let a: Vec<i8> = (0..len).map(|i| ((i * 37) % 255) as i8).collect();
            let b: Vec<i8> = (0..len).map(|i| ((i * 11) % 255) as i16 as i8).collect();
            let want: i32 = a.iter().zip(&b).map(|(x, y)| i32::from(*x) * i32::from(*y)).sum();
            assert_eq!(dot(&a, &b), want, "length {len}");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_survives_large_scores() {
        let mut row = vec![1000.0, 1001.0, 999.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[0] && row[0] > row[2]);
    }
}
