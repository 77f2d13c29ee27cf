//! What a file may be called: the name an uploader gives is shown to people and sent
//! back in `Content-Disposition`, so it must not carry a path, control characters or
//! characters that change the direction of the text ("invoice\u{202E}fdp.exe" reads as
//! "invoiceexe.pdf"). A name that breaks a rule is refused, not repaired: the uploader
//! sees why and the name they see later is the one they gave.

/// The longest name, in bytes (what common file systems allow).
pub const MAX_BYTES: usize = 255;

/// The name as stored (surrounding spaces trimmed), or why it is refused.
pub fn check(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a file needs a name");
    }
    if name.len() > MAX_BYTES {
        return Err("a file name is at most 255 bytes");
    }
    if name == "." || name == ".." {
        return Err("a file name cannot be . or ..");
    }
    if name.contains(['/', '\\']) {
        return Err("a file name cannot contain a path (/ or \\)");
    }
    if name.chars().any(char::is_control) {
        return Err("a file name cannot contain control characters");
    }
    if name.chars().any(changes_direction) {
        return Err("a file name cannot contain characters that change the direction of the text");
    }
    Ok(name.to_owned())
}

/// The bidirectional controls (embeddings, overrides, isolates and marks) that can make
/// a name read differently from what it is.
fn changes_direction(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_with_their_spaces_trimmed() {
        assert_eq!(check(" screen shot 2.png ").unwrap(), "screen shot 2.png");
        assert_eq!(check("Résumé – final.pdf").unwrap(), "Résumé – final.pdf");
        assert_eq!(check("日本語.txt").unwrap(), "日本語.txt");
        assert_eq!(check(".env").unwrap(), ".env");
    }

    #[test]
    fn paths_controls_direction_changes_and_empty_or_long_names_are_refused() {
        for bad in ["../etc/passwd", "a/b.txt", "..\\win.ini", "..", ".", "", "   ", "a\0b", "a\nb.txt", "a\u{7f}"] {
            assert!(check(bad).is_err(), "{bad:?} passed");
        }
        assert!(check("invoice\u{202E}fdp.exe").is_err());
        assert!(check("\u{2067}x.txt").is_err());
        assert!(check(&"a".repeat(256)).is_err());
        assert!(check(&"a".repeat(255)).is_ok());
        // 128 two-byte characters are 256 bytes.
        assert!(check(&"é".repeat(128)).is_err());
    }
}
