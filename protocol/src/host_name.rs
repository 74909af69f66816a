//! What a host name may be. Names are shown in lobbies, so besides length and control characters
//! they may not carry invisible or direction-changing characters (U+200B zero width space, U+202E
//! right-to-left override, …: "Cf", format characters) nor stacks of combining marks, with which
//! one name can pass for another.

use std::fmt;

/// Longest host name, in characters, after trimming.
pub const MAX_HOST_NAME_CHARS: usize = 64;

/// Combining marks in a row that a name may carry (enough for any real script's accents).
const MAX_COMBINING_RUN: usize = 2;

/// Why a host name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostNameError {
    Empty,
    TooLong,
    ControlCharacter,
    InvisibleCharacter,
    CombiningMarks,
}

impl fmt::Display for HostNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostNameError::Empty => "host name is empty",
            HostNameError::TooLong => "host name is longer than 64 characters",
            HostNameError::ControlCharacter => "host name contains control characters",
            HostNameError::InvisibleCharacter => "host name contains invisible or text-direction characters",
            HostNameError::CombiningMarks => "host name starts with or stacks combining marks",
        })
    }
}

impl std::error::Error for HostNameError {}

/// The name as it is registered and listed: trimmed, 1 to 64 characters, no control, format
/// (invisible, bidi) characters, no leading combining mark nor more than two in a row.
pub fn host_name(raw: &str) -> Result<&str, HostNameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(HostNameError::Empty);
    }
    if name.chars().count() > MAX_HOST_NAME_CHARS {
        return Err(HostNameError::TooLong);
    }
    let mut run = 0;
    for (i, c) in name.chars().enumerate() {
        if c.is_control() {
            return Err(HostNameError::ControlCharacter);
        }
        if is_format(c) {
            return Err(HostNameError::InvisibleCharacter);
        }
        if is_combining(c) {
            run += 1;
            if i == 0 || run > MAX_COMBINING_RUN {
                return Err(HostNameError::CombiningMarks);
            }
        } else {
            run = 0;
        }
    }
    Ok(name)
}

/// Unicode general category Cf (format characters), plus the invisible separators and fillers
/// that render as nothing (U+115F, U+1160, U+3164, U+FFA0 Hangul fillers; U+2800 braille blank).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}'
        | '\u{08E2}' | '\u{115F}' | '\u{1160}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// The script-independent combining blocks (diacritics that stack on any letter; "Zalgo" text).
/// Marks that belong to a script (Devanagari vowel signs, Thai tone marks, …) are not counted.
fn is_combining(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_trimmed() {
        assert_eq!(host_name("  room  "), Ok("room"));
        assert_eq!(host_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        assert_eq!(
            host_name("Cafe\u{301} 東京 नमस्ते"),
            Ok("Cafe\u{301} 東京 नमस्ते"),
            "one combining accent, other scripts"
        );
        assert_eq!(
            host_name("Vie\u{323}\u{302}t"),
            Ok("Vie\u{323}\u{302}t"),
            "two stacked marks (Vietnamese, decomposed)"
        );
    }

    #[test]
    fn refused_names_say_why() {
        let cases: &[(&str, HostNameError)] = &[
            ("", HostNameError::Empty),
            (" \t ", HostNameError::Empty),
            ("a\nb", HostNameError::ControlCharacter),
            ("a\u{0}b", HostNameError::ControlCharacter),
            ("room\u{200B}", HostNameError::InvisibleCharacter),
            ("\u{202E}moor", HostNameError::InvisibleCharacter),
            ("ro\u{2066}om", HostNameError::InvisibleCharacter),
            ("tag\u{E0041}", HostNameError::InvisibleCharacter),
            ("\u{3164}", HostNameError::InvisibleCharacter),
            ("\u{301}room", HostNameError::CombiningMarks),
            ("ro\u{301}\u{302}\u{303}om", HostNameError::CombiningMarks),
        ];
        for (name, why) in cases {
            assert_eq!(host_name(name), Err(*why), "{name:?}");
        }
        assert_eq!(host_name(&"x".repeat(65)), Err(HostNameError::TooLong));
        assert_eq!(HostNameError::TooLong.to_string(), "host name is longer than 64 characters");
    }

    proptest::proptest! {
        /// Any string is answered; an accepted name is trimmed, 1..=64 characters, and carries
        /// no control, format or leading combining character.
        #[test]
        fn any_string_is_answered_and_accepted_names_keep_the_rules(raw in "\\PC{0,80}|[\\u{0}-\\u{3ff}\\u{200b}-\\u{206f}\\u{fe00}-\\u{feff} a-z]{0,80}") {
            if let Ok(name) = host_name(&raw) {
                proptest::prop_assert_eq!(name, name.trim());
                let count = name.chars().count();
                proptest::prop_assert!((1..=MAX_HOST_NAME_CHARS).contains(&count));
                proptest::prop_assert!(!name.chars().any(|c| c.is_control() || is_format(c)));
                proptest::prop_assert!(!is_combining(name.chars().next().unwrap()));
            }
        }
    }
}
