//! A recursive-descent parser for filters and PATCH paths.
//!
//! Grammar (RFC 7644 section 3.4.2.2, with the lenient extensions documented on the module):
//! ```text
//! filter     = or EOF
//! or         = and *("or" and)
//! and        = unary *("and" unary)
//! unary      = "not" "(" or ")" / "(" or ")" / attrExp
//! attrExp    = attrPath "pr" / attrPath compareOp compValue
//!            / attrPath "[" or "]" ["." subAttr ("pr" / compareOp compValue)]
//! patchPath  = attrPath / attrPath "[" or "]" ["." subAttr]
//! ```
//! Inside `[...]`, paths are plain sub-attribute names and further brackets are rejected. `and`/`or` chains are
//! parsed with loops; only parentheses, `not` and brackets recurse, and they count against `MAX_FILTER_DEPTH`.

use crate::error::ScimError;
use crate::filter::lexer::{Token, TokenKind, tokenize};
use crate::filter::{CompareOperator, CompareValue, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, PatchPath};
use crate::path::{AttributePath, parse_attribute_path};

/// Parses a filter (the `filter` query parameter or search body field). Errors are [`ScimError::InvalidFilter`];
/// input longer than [`MAX_FILTER_LENGTH`] or nested deeper than [`MAX_FILTER_DEPTH`] is rejected, and no input
/// makes the parser panic.
pub fn parse(text: &str) -> Result<Filter, ScimError> {
    parse_filter(text).map_err(ScimError::InvalidFilter)
}

/// Parses a PATCH path such as `members[value eq "2819"]` or `emails[type eq "work"].value`. Errors are
/// [`ScimError::InvalidPath`]. The same limits as [`parse`] apply.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, ScimError> {
    patch_path(text).map_err(ScimError::InvalidPath)
}

impl PatchPath {
    /// Parses a PATCH path. Errors are [`ScimError::InvalidPath`].
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        parse_patch_path(text)
    }
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let mut parser = Parser::new(text)?;
    if parser.tokens.is_empty() {
        return Err("empty filter".to_owned());
    }
    let filter = parser.parse_or(Scope::Resource, 0)?;
    parser.expect_end()?;
    Ok(filter)
}

fn patch_path(text: &str) -> Result<PatchPath, String> {
    let mut parser = Parser::new(text)?;
    let (attribute, offset) = match parser.next() {
        Some(Token { kind: TokenKind::Word(word), offset }) => (word, offset),
        Some(other) => {
            return Err(format!(
                "expected an attribute path at byte {}, found {}",
                other.offset,
                other.kind.describe()
            ));
        }
        None => return Err("empty path".to_owned()),
    };
    let mut attribute = parse_attribute_path(&attribute).map_err(|message| format!("{message} (byte {offset})"))?;
    let mut value_filter = None;
    if parser.peek_is(&TokenKind::LeftBracket) {
        if attribute.sub_attribute.is_some() {
            return Err(format!("a value filter cannot follow the sub-attribute in {text:?}"));
        }
        parser.next();
        let inner = parser.parse_or(Scope::ValueFilter, 1)?;
        parser.expect(&TokenKind::RightBracket)?;
        value_filter = Some(inner);
        if parser.peek_is(&TokenKind::Dot) {
            parser.next();
            attribute.sub_attribute = Some(parser.expect_sub_attribute()?);
        }
    }
    parser.expect_end()?;
    Ok(PatchPath { attribute, value_filter })
}

/// Where a path appears: at the top level of a filter, or inside `[...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Resource,
    ValueFilter,
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    length: usize,
}

impl Parser {
    fn new(text: &str) -> Result<Self, String> {
        if text.len() > MAX_FILTER_LENGTH {
            return Err(format!("longer than {MAX_FILTER_LENGTH} bytes"));
        }
        Ok(Parser { tokens: tokenize(text)?, position: 0, length: text.len() })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn peek_is(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|token| &token.kind == kind)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Word(word), .. }) if word.eq_ignore_ascii_case(keyword))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        if token.is_some() {
            self.position += 1;
        }
        token
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.length, |token| token.offset)
    }

    fn expect(&mut self, kind: &TokenKind) -> Result<(), String> {
        match self.next() {
            Some(token) if &token.kind == kind => Ok(()),
            Some(token) => {
                Err(format!("expected {} at byte {}, found {}", kind.describe(), token.offset, token.kind.describe()))
            }
            None => Err(format!("expected {} at end of input", kind.describe())),
        }
    }

    fn expect_end(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(token) => Err(format!("unexpected {} at byte {}", token.kind.describe(), token.offset)),
        }
    }

    fn expect_sub_attribute(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token { kind: TokenKind::Word(word), offset }) => {
                let path = parse_attribute_path(&word).map_err(|message| format!("{message} (byte {offset})"))?;
                if path.urn.is_some() || path.sub_attribute.is_some() {
                    return Err(format!("expected a sub-attribute name at byte {offset}, found {word:?}"));
                }
                Ok(path.name)
            }
            Some(token) => {
                Err(format!("expected a sub-attribute name at byte {}, found {}", token.offset, token.kind.describe()))
            }
            None => Err("expected a sub-attribute name at end of input".to_owned()),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), String> {
        if depth > MAX_FILTER_DEPTH {
            Err(format!("nested deeper than {MAX_FILTER_DEPTH} levels at byte {}", self.here()))
        } else {
            Ok(())
        }
    }

    fn parse_or(&mut self, scope: Scope, depth: usize) -> Result<Filter, String> {
        self.check_depth(depth)?;
        let mut left = self.parse_and(scope, depth)?;
        while self.peek_keyword("or") {
            self.next();
            let right = self.parse_and(scope, depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self, scope: Scope, depth: usize) -> Result<Filter, String> {
        let mut left = self.parse_unary(scope, depth)?;
        while self.peek_keyword("and") {
            self.next();
            let right = self.parse_unary(scope, depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self, scope: Scope, depth: usize) -> Result<Filter, String> {
        if self.peek_keyword("not")
            && self.tokens.get(self.position + 1).is_some_and(|token| token.kind == TokenKind::LeftParen)
        {
            self.next();
            self.next();
            let inner = self.parse_or(scope, depth + 1)?;
            self.expect(&TokenKind::RightParen)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek_is(&TokenKind::LeftParen) {
            self.next();
            let inner = self.parse_or(scope, depth + 1)?;
            self.expect(&TokenKind::RightParen)?;
            return Ok(inner);
        }
        self.parse_attribute_expression(scope, depth)
    }

    fn parse_attribute_expression(&mut self, scope: Scope, depth: usize) -> Result<Filter, String> {
        let (word, offset) = match self.next() {
            Some(Token { kind: TokenKind::Word(word), offset }) => (word, offset),
            Some(token) => {
                return Err(format!(
                    "expected an attribute path at byte {}, found {}",
                    token.offset,
                    token.kind.describe()
                ));
            }
            None => return Err("expected an attribute path at end of input".to_owned()),
        };
        let path = parse_attribute_path(&word).map_err(|message| format!("{message} (byte {offset})"))?;
        if scope == Scope::ValueFilter && (path.urn.is_some() || path.sub_attribute.is_some()) {
            return Err(format!("inside a value filter, {word:?} at byte {offset} must be a plain sub-attribute name"));
        }
        if !self.peek_is(&TokenKind::LeftBracket) {
            return self.parse_condition(path);
        }
        if scope == Scope::ValueFilter {
            return Err(format!("value filters cannot be nested (byte {})", self.here()));
        }
        if path.sub_attribute.is_some() {
            return Err(format!("a value filter cannot follow the sub-attribute in {word:?} (byte {offset})"));
        }
        self.next();
        let inner = self.parse_or(Scope::ValueFilter, depth + 1)?;
        self.expect(&TokenKind::RightBracket)?;
        let filter = if self.peek_is(&TokenKind::Dot) {
            // Entra ID: `emails[type eq "work"].value eq "x"` == `emails[type eq "work" and value eq "x"]`.
            self.next();
            let sub_attribute = self.expect_sub_attribute()?;
            let condition = self.parse_condition(AttributePath::new(&sub_attribute))?;
            Filter::And(Box::new(inner), Box::new(condition))
        } else {
            inner
        };
        Ok(Filter::ValuePath { path, filter: Box::new(filter) })
    }

    /// `pr` or `op value` after a path.
    fn parse_condition(&mut self, path: AttributePath) -> Result<Filter, String> {
        let (keyword, offset) = match self.next() {
            Some(Token { kind: TokenKind::Word(word), offset }) => (word, offset),
            Some(token) => {
                return Err(format!(
                    "expected an operator after {path} at byte {}, found {}",
                    token.offset,
                    token.kind.describe()
                ));
            }
            None => return Err(format!("expected an operator after {path} at end of input")),
        };
        if keyword.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let operator = CompareOperator::from_keyword(&keyword)
            .ok_or_else(|| format!("unknown operator {keyword:?} at byte {offset}"))?;
        let value = match self.next() {
            Some(Token { kind: TokenKind::String(text), .. }) => CompareValue::String(text),
            Some(Token { kind: TokenKind::Number(number), .. }) => CompareValue::Number(number),
            Some(Token { kind: TokenKind::Word(word), offset }) => {
                if word.eq_ignore_ascii_case("true") {
                    CompareValue::Boolean(true)
                } else if word.eq_ignore_ascii_case("false") {
                    CompareValue::Boolean(false)
                } else if word.eq_ignore_ascii_case("null") {
                    CompareValue::Null
                } else {
                    return Err(format!(
                        "expected a value (string, number, true, false or null) at byte {offset}, found {word:?}"
                    ));
                }
            }
            Some(token) => {
                return Err(format!("expected a value at byte {}, found {}", token.offset, token.kind.describe()));
            }
            None => return Err(format!("expected a value after {path} {operator} at end of input")),
        };
        Ok(Filter::Compare { path, operator, value })
    }
}
