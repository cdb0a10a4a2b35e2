//! Reading result rows: [`ColumnReader`] (one column by name, implemented per dialect) and [`RowView`] (a row of
//! one table, whose typed accessors turn bad stored values into [`Error::Corrupt`]).

use std::collections::BTreeMap;

use time::OffsetDateTime;
use warden_core::id::IdError;

use crate::store::Error;

/// Reads one column of a result row by name; `None` is SQL NULL.
pub(crate) trait ColumnReader {
    fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn integer(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn boolean(&self, column: &str) -> Result<Option<bool>, sqlx::Error>;
    /// Timestamps are stored natively by PostgreSQL and as text by SQLite; the error is a description.
    fn time(&self, column: &str) -> Result<Option<OffsetDateTime>, String>;
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error>;
    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;
}

/// A row of one table, with typed accessors that turn bad stored values into [`Error::Corrupt`].
pub(crate) struct RowView<'r> {
    pub(crate) table: &'static str,
    pub(crate) row: &'r dyn ColumnReader,
}

impl RowView<'_> {
    pub(crate) fn corrupt(&self, column: &str, message: &dyn std::fmt::Display) -> Error {
        Error::Corrupt { table: self.table, column: column.to_owned(), message: message.to_string() }
    }

    fn required<T>(&self, column: &str, value: Option<T>) -> Result<T, Error> {
        value.ok_or_else(|| self.corrupt(column, &"unexpected NULL"))
    }

    pub(crate) fn text(&self, column: &str) -> Result<String, Error> {
        let value = self.row.text(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_text(&self, column: &str) -> Result<Option<String>, Error> {
        Ok(self.row.text(column)?)
    }

    pub(crate) fn integer(&self, column: &str) -> Result<i64, Error> {
        let value = self.row.integer(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_integer(&self, column: &str) -> Result<Option<i64>, Error> {
        Ok(self.row.integer(column)?)
    }

    pub(crate) fn unsigned(&self, column: &str) -> Result<u64, Error> {
        let value = self.integer(column)?;
        u64::try_from(value).map_err(|_| self.corrupt(column, &format!("negative count {value}")))
    }

    pub(crate) fn boolean(&self, column: &str) -> Result<bool, Error> {
        let value = self.row.boolean(column)?;
        self.required(column, value)
    }

    pub(crate) fn optional_boolean(&self, column: &str) -> Result<Option<bool>, Error> {
        Ok(self.row.boolean(column)?)
    }

    pub(crate) fn time(&self, column: &str) -> Result<Option<OffsetDateTime>, Error> {
        self.row.time(column).map_err(|message| self.corrupt(column, &message))
    }

    pub(crate) fn required_time(&self, column: &str) -> Result<OffsetDateTime, Error> {
        let value = self.time(column)?;
        self.required(column, value)
    }

    pub(crate) fn bytes(&self, column: &str) -> Result<Vec<u8>, Error> {
        let value = self.row.bytes(column)?;
        self.required(column, value)
    }

    pub(crate) fn json(&self, column: &str) -> Result<serde_json::Value, Error> {
        let value = self.row.json(column)?;
        self.required(column, value)
    }

    pub(crate) fn id<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<T, Error> {
        T::try_from(self.text(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn optional_id<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<Option<T>, Error> {
        self.optional_text(column)?
            .map(|text| T::try_from(text).map_err(|error| self.corrupt(column, &error)))
            .transpose()
    }

    pub(crate) fn strings(&self, column: &str) -> Result<Vec<String>, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn ids<T: TryFrom<String, Error = IdError>>(&self, column: &str) -> Result<Vec<T>, Error> {
        self.strings(column)?
            .into_iter()
            .map(|text| T::try_from(text).map_err(|error| self.corrupt(column, &error)))
            .collect()
    }

    pub(crate) fn string_map(&self, column: &str) -> Result<BTreeMap<String, String>, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }

    pub(crate) fn json_as<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T, Error> {
        serde_json::from_value(self.json(column)?).map_err(|error| self.corrupt(column, &error))
    }
}
