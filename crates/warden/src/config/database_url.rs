//! The database URL: it may carry a password, so it is only ever shown redacted.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `sqlite://PATH` (the default, `sqlite://warden.db`) or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(SecretString::from(url.into()))
    }

    /// The URL with its password; only for handing to the database driver.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The URL with any password replaced by `***`: safe to log and to show.
    pub fn redacted(&self) -> String {
        let url = self.expose();
        let Some(scheme_end) = url.find("://").map(|index| index + 3) else {
            return url.to_owned();
        };
        let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |index| scheme_end + index);
        let authority = &url[scheme_end..authority_end];
        let Some(at) = authority.rfind('@') else {
            return url.to_owned();
        };
        let user_info = &authority[..at];
        match user_info.find(':') {
            Some(colon) => {
                format!("{}{}:***{}", &url[..scheme_end], &user_info[..colon], &url[scheme_end + at..])
            }
            None => url.to_owned(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.expose().starts_with("sqlite:")
    }
}

impl Default for DatabaseUrl {
    fn default() -> DatabaseUrl {
        DatabaseUrl::new("sqlite://warden.db")
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DatabaseUrl, D::Error> {
        String::deserialize(deserializer).map(DatabaseUrl::new)
    }
}

/// Serializes redacted: serialized config is for people to read.
impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_everywhere_they_are_shown() {
        let url = DatabaseUrl::new("postgres://warden:hunter2@db.internal:5432/warden?sslmode=require");
        assert_eq!(url.redacted(), "postgres://warden:***@db.internal:5432/warden?sslmode=require");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!url.to_string().contains("hunter2"));
        assert_eq!(url.expose(), "postgres://warden:hunter2@db.internal:5432/warden?sslmode=require");
    }

    #[test]
    fn urls_without_a_password_are_shown_as_they_are() {
        for url in ["postgres://postgres@127.0.0.1:5432/test", "sqlite://warden.db", "sqlite::memory:"] {
            assert_eq!(DatabaseUrl::new(url).redacted(), url);
        }
        assert_eq!(DatabaseUrl::new("postgres://u:p@ss@h/db").redacted(), "postgres://u:***@h/db");
    }
}
