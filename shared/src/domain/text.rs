//! Identifiers and names that end up in CSV exports, logs, certificates and screens:
//! no control characters, no line breaks, no invisible bidirectional formatting.

/// Why such a text is refused.
pub const PLAIN_TEXT_REASON: &str =
    "must not contain control characters, line breaks or bidirectional formatting characters";

/// Whether `c` may appear in an identifier or a name: not a C0 or C1 control (NUL, tab,
/// line breaks, DEL included), not a line or paragraph separator (U+2028, U+2029), not a
/// bidirectional mark, embedding, override or isolate (U+200E, U+200F, U+202A–U+202E,
/// U+2061–U+2069 range's isolates U+2066–U+2069), nor a byte order mark (U+FEFF).
pub fn is_plain_char(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        ))
}

/// `Ok` when every character of `s` is [plain](is_plain_char).
pub fn check_plain(s: &str) -> Result<(), &'static str> {
    if s.chars().all(is_plain_char) {
        Ok(())
    } else {
        Err(PLAIN_TEXT_REASON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_breaks_and_bidi_formatting_are_refused() {
        for bad in [
            "a\0b",
            "a\nb",
            "a\rb",
            "a\tb",
            "\u{1b}[31m",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}",
            "a\u{2028}b",
            "a\u{2029}",
            "\u{202E}gpj.exe",
            "\u{202A}",
            "\u{2066}x\u{2069}",
            "\u{200E}",
            "\u{200F}",
            "\u{FEFF}id",
        ] {
            assert!(check_plain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn letters_digits_punctuation_and_symbols_are_accepted() {
        for good in [
            "trip-000123",
            "Trajet n°42 — Zoé",
            "李",
            "Covoit'Île-de-France (test) #1",
            "usr_p.8841@op",
            "Ελλάδα",
            "مرحبا",
            "🚗 emoji",
            "a b", // a plain space
            "a\u{a0}b",
        ] {
            assert!(check_plain(good).is_ok(), "{good:?}");
        }
    }
}
