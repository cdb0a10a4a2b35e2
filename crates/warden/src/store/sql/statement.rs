//! Building statements: binding values through the dialect.

use sqlx::QueryBuilder;

use crate::store::sql::{Dialect, SqlValue};

/// Binds `values` separated by commas.
pub(crate) fn push_binds<D: Dialect>(builder: &mut QueryBuilder<D>, values: impl IntoIterator<Item = SqlValue>) {
    for (index, value) in values.into_iter().enumerate() {
        if index > 0 {
            builder.push(", ");
        }
        D::bind(builder, value);
    }
}
