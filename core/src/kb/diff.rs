//! What changed between two versions of an article: the title, and the body line by
//! line (the `similar` crate's diff; Markdown is line-oriented, so lines read well).

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::version;
use crate::{auth::Principal, error::Result};
use deadpool_postgres::GenericClient;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equal,
    Insert,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Line {
    pub op: Op,
    /// The line, without its line break.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Diff {
    pub from: i32,
    pub to: i32,
    /// Both titles when it changed.
    pub title: Option<[String; 2]>,
    pub lines: Vec<Line>,
    pub inserted: usize,
    pub deleted: usize,
}

/// The body of `before` turned into `after`, line by line.
pub fn lines(before: &str, after: &str) -> Vec<Line> {
    TextDiff::from_lines(before, after)
        .iter_all_changes()
        .map(|c| Line {
            op: match c.tag() {
                ChangeTag::Equal => Op::Equal,
                ChangeTag::Insert => Op::Insert,
                ChangeTag::Delete => Op::Delete,
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

/// The diff from version `from` to version `to` of an article (staff).
pub async fn between(db: &impl GenericClient, who: &Principal, id: i64, from: i32, to: i32) -> Result<Diff> {
    let (a, b) = (version(db, who, id, from).await?, version(db, who, id, to).await?);
    let lines = lines(&a.body, &b.body);
    Ok(Diff {
        from,
        to,
        title: (a.title != b.title).then_some([a.title, b.title]),
        inserted: lines.iter().filter(|l| l.op == Op::Insert).count(),
        deleted: lines.iter().filter(|l| l.op == Op::Delete).count(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_a_deletion_and_an_insertion_among_equal_lines() {
        let d = lines("one\ntwo\nthree\n", "one\n2\nthree\nfour");
        let ops: Vec<(Op, &str)> = d.iter().map(|l| (l.op.clone(), l.text.as_str())).collect();
        assert_eq!(
            ops,
            [(Op::Equal, "one"), (Op::Delete, "two"), (Op::Insert, "2"), (Op::Equal, "three"), (Op::Insert, "four")]
        );
    }
}
