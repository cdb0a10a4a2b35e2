//! [`ConfigDuration`]: a duration as the configuration writes it (`30s`, `15m`, `1h30m`, `1d`), parsed once when the
//! configuration is read, so no caller re-parses text or falls back to a default of its own.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A positive whole number of seconds, written with the units `d`, `h`, `m` and `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigDuration(Duration);

impl ConfigDuration {
    pub const fn from_secs(seconds: u64) -> ConfigDuration {
        ConfigDuration(Duration::from_secs(seconds))
    }

    pub const fn get(self) -> Duration {
        self.0
    }

    pub const fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// The same span as a `time::Duration` (for arithmetic on `OffsetDateTime`).
    pub fn as_time(self) -> time::Duration {
        time::Duration::seconds(i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX))
    }
}

impl FromStr for ConfigDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<ConfigDuration, String> {
        parse_duration_seconds(text).map(ConfigDuration::from_secs)
    }
}

/// The shortest text that parses back to the same duration: `90s` -> `1m30s`, `86400s` -> `1d`.
impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_secs();
        for (unit, seconds) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
            if rest >= seconds {
                write!(f, "{}{unit}", rest / seconds)?;
                rest %= seconds;
            }
        }
        Ok(())
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ConfigDuration, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses `90s`, `15m`, `1h30m`, `1d` into seconds.
pub fn parse_duration_seconds(text: &str) -> Result<u64, String> {
    let invalid = || format!("{text:?} is not a duration like \"30s\", \"15m\", \"1h30m\" or \"1d\"");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let amount: u64 = digits.parse().map_err(|_| invalid())?;
        total = amount.checked_mul(unit).and_then(|seconds| total.checked_add(seconds)).ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_reject_the_rest() {
        assert_eq!(parse_duration_seconds("30s"), Ok(30));
        assert_eq!(parse_duration_seconds("15m"), Ok(900));
        assert_eq!(parse_duration_seconds("1h30m"), Ok(5_400));
        assert_eq!(parse_duration_seconds("1d"), Ok(86_400));
        for bad in ["", "15", "m", "0s", "15 minutes", "-1m", "99999999999999999999d"] {
            assert!(parse_duration_seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_print_as_text_that_parses_back() {
        for (text, shown) in [("90s", "1m30s"), ("15m", "15m"), ("1h30m", "1h30m"), ("86400s", "1d"), ("25h", "1d1h")] {
            let duration: ConfigDuration = text.parse().unwrap();
            assert_eq!(duration.to_string(), shown);
            assert_eq!(shown.parse::<ConfigDuration>().unwrap(), duration);
        }
    }
}
