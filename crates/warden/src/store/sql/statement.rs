//! Building and running statements: the one way every aggregate runs a statement and decodes its rows.
//!
//! [`fetch_all`] runs a statement (on a connection the pool lends for it, or on one the caller holds: a transaction,
//! a kept connection) and decodes each row it returns through a [`RowView`] of the table it reads;
//! [`fetch_optional`] and [`fetch_one`] decode its first row, [`execute`] runs a statement that returns none. Each
//! is one statement and one round trip, as written out by hand.

use sqlx::{Pool, QueryBuilder};

use crate::store::Error;
use crate::store::sql::{Dialect, RowView, SqlValue};

/// Where a statement runs: `&Pool` for a connection the pool lends for this statement alone, `&mut *transaction`
/// (or any `&mut` connection) for one the caller holds.
pub(crate) enum On<'c, D: Dialect> {
    Pool(&'c Pool<D>),
    Connection(&'c mut D::Connection),
}

impl<'c, D: Dialect> From<&'c Pool<D>> for On<'c, D> {
    fn from(pool: &'c Pool<D>) -> On<'c, D> {
        On::Pool(pool)
    }
}

impl<'c, D: Dialect> From<&'c mut D::Connection> for On<'c, D> {
    fn from(connection: &'c mut D::Connection) -> On<'c, D> {
        On::Connection(connection)
    }
}

/// A statement from SQL with `?` placeholders (and no other `?`) and the values for them, in order.
pub(crate) fn statement<D: Dialect>(sql: &str, values: Vec<SqlValue>) -> QueryBuilder<D> {
    let mut parts = sql.split('?');
    let mut builder = QueryBuilder::<D>::new(parts.next().unwrap_or_default());
    debug_assert_eq!(sql.matches('?').count(), values.len(), "{sql}");
    for (value, part) in values.into_iter().zip(parts) {
        D::bind(&mut builder, value);
        builder.push(part);
    }
    builder
}

/// Binds `values` separated by commas.
pub(crate) fn push_binds<D: Dialect>(builder: &mut QueryBuilder<D>, values: impl IntoIterator<Item = SqlValue>) {
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            builder.push(", ");
        }
        D::bind(builder, value);
    }
}

/// Runs `statement` and decodes each row it returns with `decode`, as a row of `table` (which
/// [`Error::Corrupt`] names).
pub(crate) async fn fetch_all<'c, D: Dialect, T>(
    on: impl Into<On<'c, D>>,
    statement: &mut QueryBuilder<D>,
    table: &'static str,
    decode: impl Fn(&RowView<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let rows = fetch_rows(on.into(), statement).await?;
    rows.iter().map(|row| decode(&RowView { table, row })).collect()
}

/// Runs `statement` and decodes the first row it returns, if any (a lookup by a unique key; an `INSERT ..
/// RETURNING` that may insert nothing).
pub(crate) async fn fetch_optional<'c, D: Dialect, T>(
    on: impl Into<On<'c, D>>,
    statement: &mut QueryBuilder<D>,
    table: &'static str,
    decode: impl Fn(&RowView<'_>) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let rows = fetch_rows(on.into(), statement).await?;
    rows.first().map(|row| decode(&RowView { table, row })).transpose()
}

/// Runs `statement` and decodes the first row it returns, which it always returns (an `INSERT .. RETURNING id`):
/// none is [`sqlx::Error::RowNotFound`].
pub(crate) async fn fetch_one<'c, D: Dialect, T>(
    on: impl Into<On<'c, D>>,
    statement: &mut QueryBuilder<D>,
    table: &'static str,
    decode: impl Fn(&RowView<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    fetch_optional(on, statement, table, decode).await?.ok_or(Error::Database(sqlx::Error::RowNotFound))
}

/// Runs `statement`, which returns no rows; returns how many rows it changed.
pub(crate) async fn execute<'c, D: Dialect>(
    on: impl Into<On<'c, D>>,
    statement: &mut QueryBuilder<D>,
) -> Result<u64, Error> {
    Ok(match on.into() {
        On::Pool(pool) => {
            let mut connection = pool.acquire().await?;
            D::execute(&mut connection, statement).await?
        }
        On::Connection(connection) => D::execute(connection, statement).await?,
    })
}

/// The rows of `statement`; a connection lent by the pool goes back before they are decoded.
async fn fetch_rows<D: Dialect>(on: On<'_, D>, statement: &mut QueryBuilder<D>) -> Result<Vec<D::Row>, Error> {
    Ok(match on {
        On::Pool(pool) => {
            let mut connection = pool.acquire().await?;
            D::fetch_all(&mut connection, statement).await?
        }
        On::Connection(connection) => D::fetch_all(connection, statement).await?,
    })
}

/// A transaction that will write ([`Dialect::BEGIN_WRITE`]).
pub(crate) async fn begin_write<D: Dialect>(pool: &sqlx::Pool<D>) -> Result<sqlx::Transaction<'static, D>, Error> {
    Ok(pool.begin_with(D::BEGIN_WRITE).await?)
}
