//! [`Operator`]: who performs an audited action. Every operation that changes what governance decided (a
//! suppression, an alert's acknowledgement, a SCIM connection's token) takes one, and the audit log and alert
//! histories record it as [`Operator::recorded_name`].

use std::fmt;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operator {
    /// A person at the command line, who named themselves (`--by NAME`).
    CommandLine(OperatorName),
    /// warden itself: governance after a sync, resolving alerts whose condition cleared, background jobs.
    Warden,
}

impl Operator {
    /// What the audit log and alert histories store: the person's name, or `warden`.
    pub fn recorded_name(&self) -> &str {
        match self {
            Operator::CommandLine(name) => name.as_str(),
            Operator::Warden => WARDEN,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.recorded_name())
    }
}

/// How warden's own actions are recorded; no person may take the name.
pub const WARDEN: &str = "warden";

/// A person's name as they give it: trimmed, not empty, at most 200 characters, without control characters, and
/// not warden's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorName(String);

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorNameError {
    #[error("the operator's name may not be empty")]
    Empty,
    #[error("the operator's name is longer than 200 characters")]
    TooLong,
    #[error("the operator's name may not contain control characters")]
    ControlCharacter,
    #[error("\"warden\" is how warden records its own actions; name the person acting")]
    Reserved,
}

impl OperatorName {
    pub fn parse(text: &str) -> Result<OperatorName, OperatorNameError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(OperatorNameError::Empty);
        }
        if name.chars().count() > 200 {
            return Err(OperatorNameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(OperatorNameError::ControlCharacter);
        }
        if name.eq_ignore_ascii_case(WARDEN) {
            return Err(OperatorNameError::Reserved);
        }
        Ok(OperatorName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(OperatorName::parse("  alice ").unwrap().as_str(), "alice");
        assert_eq!(OperatorName::parse(" "), Err(OperatorNameError::Empty));
        assert_eq!(OperatorName::parse("Warden"), Err(OperatorNameError::Reserved));
        assert_eq!(OperatorName::parse("a\u{0}b"), Err(OperatorNameError::ControlCharacter));
        assert_eq!(OperatorName::parse(&"x".repeat(201)), Err(OperatorNameError::TooLong));
    }

    #[test]
    fn operators_are_recorded_by_name() {
        let alice = Operator::CommandLine(OperatorName::parse("alice").unwrap());
        assert_eq!(alice.recorded_name(), "alice");
        assert_eq!(Operator::Warden.recorded_name(), WARDEN);
    }
}
