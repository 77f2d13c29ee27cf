//! Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009): each retriever's ranked
//! list gives an item `1 / (k + rank)`, summed over the lists that contain it. It needs
//! no score calibration between retrievers, which is the point: a BM25-like rank, a
//! trigram similarity and a cosine do not share a scale.

use std::{collections::HashMap, hash::Hash};

/// The constant of the original paper; it damps the weight of the very first ranks.
pub const K: f64 = 60.0;

/// One fused result: the item, its fused score and which lists (by index) found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused<T> {
    pub item: T,
    pub score: f64,
    pub found_by: Vec<usize>,
}

/// Fuses ranked lists (best first) into one, best first; ties keep the order in which
/// items were first met (list by list), so the result is deterministic.
pub fn fuse<T: Clone + Eq + Hash>(lists: &[Vec<T>], k: f64) -> Vec<Fused<T>> {
    let mut at: HashMap<T, usize> = HashMap::new();
    let mut out: Vec<Fused<T>> = Vec::new();
    for (list_index, list) in lists.iter().enumerate() {
        for (rank, item) in list.iter().enumerate() {
            let gain = 1.0 / (k + rank as f64 + 1.0);
            match at.get(item) {
                Some(&i) => {
                    let f = &mut out[i];
                    if !f.found_by.contains(&list_index) {
                        f.score += gain;
                        f.found_by.push(list_index);
                    }
                }
                None => {
                    at.insert(item.clone(), out.len());
                    out.push(Fused { item: item.clone(), score: gain, found_by: vec![list_index] });
                }
            }
        }
    }
    // A stable sort keeps first-met order among equal scores.
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_found_by_two_retrievers_outranks_one_found_first_by_only_one() {
        let fused = fuse(&[vec!["a", "b", "c"], vec!["b", "d"]], K);
        assert_eq!(fused[0].item, "b");
        assert_eq!(fused[0].found_by, [0, 1]);
        assert!((fused[0].score - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-12);
        assert_eq!(fused.iter().map(|f| f.item).collect::<Vec<_>>(), ["b", "a", "d", "c"]);
    }

    #[test]
    fn equal_scores_keep_the_order_first_met_and_empty_lists_add_nothing() {
        let fused = fuse(&[vec!["x"], vec![], vec!["y"]], K);
        assert_eq!(
            fused.iter().map(|f| (f.item, f.found_by.clone())).collect::<Vec<_>>(),
            [("x", vec![0]), ("y", vec![2])]
        );
        assert!(fuse::<&str>(&[], K).is_empty());
    }

    #[test]
    fn an_item_twice_in_one_list_counts_once_at_its_best_rank() {
        let fused = fuse(&[vec!["a", "a"]], K);
        assert_eq!(fused.len(), 1);
        assert!((fused[0].score - 1.0 / 61.0).abs() < 1e-12);
    }
}
