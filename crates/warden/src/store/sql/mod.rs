//! The SQL machinery every aggregate shares, written once over [`Dialect`]; it knows no aggregate.
//!
//! `dialect` (what differs between PostgreSQL and SQLite), `value` (what a statement binds), `row` (reading result
//! rows), `statement` (building and running statements), `pool` (pool settings) and `kept_connections` (pool
//! connections kept checked out for the SCIM hot paths).

mod dialect;
mod kept_connections;
mod pool;
mod row;
mod statement;
mod value;

pub(crate) use dialect::{ChangeListener, Dialect};
pub(crate) use kept_connections::KeptConnections;
pub(crate) use pool::{IDLE_BEFORE_PING, pool_options};
pub(crate) use row::{ColumnReader, RowView};
pub(crate) use statement::{On, begin_write, execute, fetch_all, fetch_one, fetch_optional, push_binds, statement};
pub(crate) use value::SqlValue;
