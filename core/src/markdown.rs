//! Markdown as the desk reads and shows it (the knowledge base's articles, the
//! retrieval index's passages, search snippets).
//!
//! To HTML that is safe to put in a page: pulldown-cmark renders, ammonia keeps only
//! harmless tags and attributes. An author's raw HTML (`<script>`, event handlers,
//! `javascript:` links) never reaches a reader.

use pulldown_cmark::{Options, Parser, html};

/// The Markdown an article may use: CommonMark with tables, strikethrough and task
/// lists (the retrieval index reads articles with the same options).
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The article body as sanitised HTML.
pub fn to_html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&raw).to_string()
}

/// Where a search match starts and ends in text from `ts_headline`: control
/// characters no article contains (writes refuse them in titles and bodies).
pub(crate) const MARK_START: char = '\u{1}';
pub(crate) const MARK_END: char = '\u{2}';

/// A search snippet as HTML: everything escaped, the matches in `<mark>`.
pub fn highlight(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            MARK_START => out.push_str("<mark>"),
            MARK_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `ts_headline` options that mark matches with [`MARK_START`] and [`MARK_END`].
pub(crate) fn headline_options() -> String {
    format!(
        "StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=\" … \""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_with_its_structure() {
        let html = to_html("# Reset\n\n1. Open **Settings**\n2. Press `Reset`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Reset</h1>"), "{html}");
        assert!(html.contains("<li>Open <strong>Settings</strong></li>"), "{html}");
        assert!(html.contains("<code>Reset</code>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
    }

    #[test]
    fn an_authors_script_handlers_and_javascript_links_do_not_survive() {
        let html = to_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n\n<a href=\"https://example.com\" onclick=\"x()\">ok</a>",
        );
        for bad in ["<script", "onerror", "javascript:", "onclick", "alert(1)"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""), "{html}");
    }

    #[test]
    fn a_snippet_is_escaped_except_for_its_marks() {
        let s = format!("use {MARK_START}<reset>{MARK_END} & \"go\"");
        assert_eq!(highlight(&s), "use <mark>&lt;reset&gt;</mark> &amp; &quot;go&quot;");
    }
}
