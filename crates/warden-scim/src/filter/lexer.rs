//! Splits filter and PATCH path text into tokens.

use crate::path::{is_word_char, is_word_start};

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// An attribute path, operator, logical keyword or `true` / `false` / `null`; the parser decides which.
    Word(String),
    /// A JSON string literal, decoded.
    String(String),
    /// A JSON number literal.
    Number(serde_json::Number),
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    /// A `.` that does not belong to a word: only valid right after `]`.
    Dot,
}

impl TokenKind {
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Word(word) => format!("{word:?}"),
            TokenKind::String(text) => format!("string {:?}", text),
            TokenKind::Number(number) => format!("number {number}"),
            TokenKind::LeftParen => "'('".to_owned(),
            TokenKind::RightParen => "')'".to_owned(),
            TokenKind::LeftBracket => "'['".to_owned(),
            TokenKind::RightBracket => "']'".to_owned(),
            TokenKind::Dot => "'.'".to_owned(),
        }
    }
}

/// Tokenizes `text`. The caller bounds the length first.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(offset, c)) = chars.peek() {
        if c.is_ascii_whitespace() {
            chars.next();
            continue;
        }
        let kind = match c {
            '(' => single(&mut chars, TokenKind::LeftParen),
            ')' => single(&mut chars, TokenKind::RightParen),
            '[' => single(&mut chars, TokenKind::LeftBracket),
            ']' => single(&mut chars, TokenKind::RightBracket),
            '.' => single(&mut chars, TokenKind::Dot),
            '"' => {
                let end = string_end(text, offset).ok_or_else(|| format!("unterminated string at byte {offset}"))?;
                let literal = &text[offset..end];
                let decoded: String = serde_json::from_str(literal)
                    .map_err(|error| format!("invalid string literal at byte {offset}: {error}"))?;
                // No attribute can hold it (the store refuses it too), so a filter naming it is a mistake.
                if decoded.contains('\0') {
                    return Err(format!("the string literal at byte {offset} contains the NUL character (U+0000)"));
                }
                while chars.peek().is_some_and(|&(position, _)| position < end) {
                    chars.next();
                }
                TokenKind::String(decoded)
            }
            '-' | '0'..='9' => {
                let mut end = offset;
                while let Some(&(position, next)) = chars.peek() {
                    if next.is_ascii_digit() || matches!(next, '-' | '+' | '.' | 'e' | 'E') {
                        end = position + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let literal = &text[offset..end];
                TokenKind::Number(
                    parse_number(literal).ok_or_else(|| format!("invalid number {literal:?} at byte {offset}"))?,
                )
            }
            c if is_word_start(c) => {
                let mut end = offset;
                while let Some(&(position, next)) = chars.peek() {
                    if is_word_char(next) {
                        end = position + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                TokenKind::Word(text[offset..end].to_owned())
            }
            other => return Err(format!("unexpected character {other:?} at byte {offset}")),
        };
        tokens.push(Token { kind, offset });
    }
    Ok(tokens)
}

/// A JSON number. serde_json checks the grammar; decimals are then re-read with the standard library's correctly
/// rounded parser, so that printing and re-parsing a filter yields the same number.
fn parse_number(literal: &str) -> Option<serde_json::Number> {
    let number: serde_json::Number = serde_json::from_str(literal).ok()?;
    if number.is_i64() || number.is_u64() {
        return Some(number);
    }
    literal.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
}

fn single(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, kind: TokenKind) -> TokenKind {
    chars.next();
    kind
}

/// The byte offset just past the closing quote of the string literal starting at `start`.
fn string_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index + 1),
            _ => index += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).unwrap().into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn splits_words_strings_numbers_and_punctuation() {
        assert_eq!(
            kinds(r#"emails[type eq "wo\"rk"].value gt -1.5e3"#),
            vec![
                TokenKind::Word("emails".to_owned()),
                TokenKind::LeftBracket,
                TokenKind::Word("type".to_owned()),
                TokenKind::Word("eq".to_owned()),
                TokenKind::String("wo\"rk".to_owned()),
                TokenKind::RightBracket,
                TokenKind::Dot,
                TokenKind::Word("value".to_owned()),
                TokenKind::Word("gt".to_owned()),
                TokenKind::Number(serde_json::from_str("-1.5e3").unwrap()),
            ]
        );
    }

    #[test]
    fn decodes_unicode_escapes() {
        assert_eq!(kinds(r#""\u00e9\ud83d\ude00""#), vec![TokenKind::String("é😀".to_owned())]);
    }

    #[test]
    fn reports_bad_input() {
        assert!(tokenize(r#""open"#).is_err());
        assert!(tokenize(r#""bad \x escape""#).is_err());
        assert!(tokenize("a # b").is_err());
        assert!(tokenize("1.2.3").is_err());
        assert!(tokenize("\"trailing backslash\\").is_err());
        assert!(tokenize("1e400").is_err());
        assert!(tokenize(r#"userName eq "a\u0000b""#).is_err());
        assert!(tokenize("userName eq \"a\u{0}b\"").is_err());
    }
}
