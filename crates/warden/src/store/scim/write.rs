//! The writes of [`crate::store::ScimStore`]: a user or group created, replaced or deleted, each atomically with
//! its dependent rows (a user's email index, a group's members) and its request's log row.
//!
//! A write is a [`Plan`]: the record's own statement, then the statements that apply only if it wrote a row. On
//! PostgreSQL the plan runs as one statement of data-modifying `WITH` clauses (one round trip, one implicit
//! transaction, each later clause guarded by `EXISTS (SELECT 1 FROM written)`); elsewhere, and for a plan too
//! large for one statement's parameters, as a transaction of statements.
//!
//! A replacement writes only the dependent rows that differ from the record it replaces: a PATCH of a user's
//! displayName touches no email row, and a member added to a group of ten thousand writes one member row.

use std::collections::BTreeMap;

use sqlx::{Connection, QueryBuilder};
use warden_scim::resource;

use crate::store::Error;
use crate::store::scim::rows::{
    IDS_PER_STATEMENT, LOG_COLUMNS, OUTBOX_INSERT_COLUMNS, OUTBOX_VALUES, RECORD_COLUMNS, push_log_rows,
    push_outbox_rows, push_tenant, write_error,
};
use crate::store::scim::{
    ProvisioningOperationKind, ScimKind, ScimRecord, ScimRequestLogEntry, ScimTenant, WriteEffects,
};
use crate::store::sql::{Dialect, KeptConnections, RowView, SqlValue, push_binds};

/// A statement of a [`Plan`]: it pushes itself onto a builder, narrowed by a guard (an SQL condition that holds
/// when the record's own statement wrote its row; the record's own statement ignores it).
type Statement<'a, D> = Box<dyn Fn(&mut QueryBuilder<D>, &str) + Send + Sync + 'a>;

/// One write: the record's own statement (the guard of the others) and what follows it.
struct Plan<'a, D: Dialect> {
    kind: ScimKind,
    tenant: &'a ScimTenant,
    id: &'a str,
    own: Statement<'a, D>,
    then: Vec<Statement<'a, D>>,
    /// At least as many as the statements bind together.
    parameters: usize,
}

/// The table of a kind's dependent rows: keyed by tenant, owner and `key`, with `columns` besides.
#[derive(Clone, Copy)]
struct DependentTable {
    table: &'static str,
    owner: &'static str,
    key: &'static str,
    columns: &'static [&'static str],
}

impl ScimKind {
    fn dependent_table(self) -> DependentTable {
        match self {
            ScimKind::User => {
                DependentTable { table: "scim_user_email", owner: "user_id", key: "value_lower", columns: &[] }
            }
            ScimKind::Group => DependentTable {
                table: "scim_group_member",
                owner: "group_id",
                key: "member_id",
                columns: &["display", "member_type", "group_display_name"],
            },
        }
    }
}

/// A record's dependent rows by key, with their other columns: a user's lower-cased email addresses (none), a
/// group's members by value (display and type as sent, of a value sent twice the first; and the group's
/// displayName, which users' `groups` show: a rename changes every row).
type Dependents = BTreeMap<String, Vec<Option<String>>>;

fn dependents(kind: ScimKind, record: &ScimRecord) -> Dependents {
    match kind {
        ScimKind::User => resource::email_values(&record.resource)
            .into_iter()
            .map(|value| (value.to_lowercase(), Vec::new()))
            .collect(),
        ScimKind::Group => {
            let group_display_name = resource::display_name(&record.resource).unwrap_or_default();
            let mut rows = Dependents::new();
            for member in &record.members {
                rows.entry(member.value.clone()).or_insert_with(|| {
                    vec![member.display.clone(), member.member_type.clone(), Some(group_display_name.to_owned())]
                });
            }
            rows
        }
    }
}

pub(super) async fn insert<D: Dialect>(
    connections: &KeptConnections<D>,
    kind: ScimKind,
    record: &ScimRecord,
    effects: &WriteEffects<'_>,
) -> Result<(), Error> {
    let own: Statement<'_, D> = Box::new(move |builder, _| {
        let derived = kind.derived_columns().join(", ");
        builder.push(format!("INSERT INTO {} ({RECORD_COLUMNS}, {derived}) VALUES (", kind.table()));
        let values = [
            SqlValue::text(record.tenant.environment.as_str()),
            SqlValue::text(record.tenant.org_id.as_str()),
            SqlValue::text(&record.id),
            SqlValue::Text(record.resource.to_string()),
            SqlValue::Integer(record.version),
            SqlValue::Time(Some(record.created)),
            SqlValue::Time(Some(record.last_modified)),
        ];
        push_binds(builder, values.into_iter().chain(kind.derived_values(record)));
        builder.push(")");
    });
    let rows = dependents(kind, record);
    let mut plan = Plan { kind, tenant: &record.tenant, id: &record.id, own, then: Vec::new(), parameters: 20 };
    plan.upsert_dependents(rows);
    plan.effects(effects);
    run(connections, plan).await
}

pub(super) async fn update<D: Dialect>(
    connections: &KeptConnections<D>,
    kind: ScimKind,
    record: &ScimRecord,
    previous: &ScimRecord,
    effects: &WriteEffects<'_>,
) -> Result<(), Error> {
    let own: Statement<'_, D> = Box::new(move |builder, _| {
        builder.push(format!("UPDATE {} SET resource = ", kind.table()));
        D::bind(builder, SqlValue::Text(record.resource.to_string()));
        builder.push(", version = ");
        D::bind(builder, SqlValue::Integer(record.version));
        builder.push(", last_modified = ");
        D::bind(builder, SqlValue::Time(Some(record.last_modified)));
        for (column, value) in kind.derived_columns().iter().zip(kind.derived_values(record)) {
            builder.push(format!(", {column} = "));
            D::bind(builder, value);
        }
        builder.push(" WHERE");
        push_tenant(builder, "", &record.tenant);
        builder.push(" AND id = ");
        D::bind(builder, SqlValue::text(&record.id));
        builder.push(" AND version = ");
        D::bind(builder, SqlValue::Integer(previous.version));
    });
    let mut plan = Plan { kind, tenant: &record.tenant, id: &record.id, own, then: Vec::new(), parameters: 20 };
    // Rows that left are deleted; rows that arrived or whose columns changed are upserted.
    let (before, after) = (dependents(kind, previous), dependents(kind, record));
    let removed: Vec<String> = before.keys().filter(|key| !after.contains_key(*key)).cloned().collect();
    let fresh: Dependents = after.into_iter().filter(|(key, row)| before.get(key) != Some(row)).collect();
    plan.delete_dependents(&removed);
    plan.upsert_dependents(fresh);
    plan.effects(effects);
    run(connections, plan).await
}

pub(super) async fn delete<D: Dialect>(
    connections: &KeptConnections<D>,
    kind: ScimKind,
    tenant: &ScimTenant,
    id: &str,
    expected_version: Option<i64>,
    effects: &WriteEffects<'_>,
) -> Result<(), Error> {
    let own: Statement<'_, D> = Box::new(move |builder, _| {
        builder.push(format!("DELETE FROM {} WHERE", kind.table()));
        push_tenant(builder, "", tenant);
        builder.push(" AND id = ");
        D::bind(builder, SqlValue::text(id));
        if let Some(version) = expected_version {
            builder.push(" AND version = ");
            D::bind(builder, SqlValue::Integer(version));
        }
    });
    let mut plan = Plan { kind, tenant, id, own, then: Vec::new(), parameters: 20 };
    if kind == ScimKind::User {
        // Memberships name users by id without a foreign key (members are kept as sent): removed here.
        plan.then.push(Box::new(move |builder, guard| {
            builder.push("DELETE FROM scim_group_member WHERE");
            push_tenant(builder, "", tenant);
            builder.push(" AND member_id = ");
            D::bind(builder, SqlValue::text(id));
            builder.push(format!(" AND {guard}"));
        }));
    }
    plan.effects(effects);
    run(connections, plan).await
}

async fn run<D: Dialect>(connections: &KeptConnections<D>, plan: Plan<'_, D>) -> Result<(), Error> {
    let mut kept = connections.take().await?;
    let written = if D::WRITES_IN_ONE_STATEMENT && plan.parameters <= D::MAX_PARAMETERS {
        let mut builder = QueryBuilder::<D>::new("WITH written AS (");
        (plan.own)(&mut builder, "");
        builder.push(" RETURNING 1)");
        for (index, statement) in plan.then.iter().enumerate() {
            builder.push(format!(", step_{index} AS ("));
            statement(&mut builder, "EXISTS (SELECT 1 FROM written)");
            builder.push(")");
        }
        builder.push(" SELECT COUNT(*) AS written FROM written");
        let rows = D::fetch_all(&mut kept, &mut builder).await.map_err(write_error(plan.tenant))?;
        match rows.first() {
            Some(row) => RowView { table: plan.kind.table(), row }.unsigned("written")? > 0,
            None => false,
        }
    } else {
        let mut transaction = kept.begin().await?;
        let mut own = QueryBuilder::<D>::new("");
        (plan.own)(&mut own, "");
        let written = D::execute(&mut transaction, &mut own).await.map_err(write_error(plan.tenant))? > 0;
        if written {
            for statement in &plan.then {
                let mut builder = QueryBuilder::<D>::new("");
                statement(&mut builder, "1 = 1");
                D::execute(&mut transaction, &mut builder).await?;
            }
            transaction.commit().await?;
        } else {
            transaction.rollback().await?;
        }
        written
    };
    let outcome = if written { Ok(()) } else { Err(missing_or_changed::<D>(&mut kept, &plan).await) };
    kept.done();
    outcome
}

/// After a conditional write touched nothing: was the row missing, or at another version?
async fn missing_or_changed<D: Dialect>(connection: &mut D::Connection, plan: &Plan<'_, D>) -> Error {
    let mut builder = QueryBuilder::<D>::new(format!("SELECT version FROM {} WHERE", plan.kind.table()));
    push_tenant(&mut builder, "", plan.tenant);
    builder.push(" AND id = ");
    D::bind(&mut builder, SqlValue::text(plan.id));
    match D::fetch_all(connection, &mut builder).await {
        Ok(rows) if rows.is_empty() => Error::ScimNotFound { kind: plan.kind.name(), id: plan.id.to_owned() },
        Ok(_) => Error::ScimVersionMismatch,
        Err(error) => Error::Database(error),
    }
}

impl<'a, D: Dialect> Plan<'a, D> {
    /// Inserts the rows, or updates their columns where the key is stored already.
    fn upsert_dependents(&mut self, rows: Dependents) {
        let table = self.kind.dependent_table();
        let (tenant, id) = (self.tenant, self.id);
        let rows: Vec<(String, Vec<Option<String>>)> = rows.into_iter().collect();
        for chunk in rows.chunks(IDS_PER_STATEMENT) {
            let chunk = chunk.to_vec();
            self.parameters += chunk.len() * (4 + table.columns.len());
            self.then.push(Box::new(move |builder, guard| {
                let columns: Vec<&str> =
                    [table.owner, table.key].into_iter().chain(table.columns.iter().copied()).collect();
                builder.push(format!(
                    "INSERT INTO {} (environment, org_id, {}) SELECT * FROM (VALUES ",
                    table.table,
                    columns.join(", ")
                ));
                for (index, (key, values)) in chunk.iter().enumerate() {
                    builder.push(if index == 0 { "(" } else { ", (" });
                    let row = [
                        SqlValue::text(tenant.environment.as_str()),
                        SqlValue::text(tenant.org_id.as_str()),
                        SqlValue::text(id),
                        SqlValue::text(key.as_str()),
                    ];
                    push_binds(builder, row.into_iter().chain(values.iter().cloned().map(SqlValue::NullableText)));
                    builder.push(")");
                }
                builder.push(format!(
                    ") AS v WHERE {guard} ON CONFLICT (environment, org_id, {}, {}) DO ",
                    table.owner, table.key
                ));
                if table.columns.is_empty() {
                    builder.push("NOTHING");
                } else {
                    let updates: Vec<String> =
                        table.columns.iter().map(|column| format!("{column} = excluded.{column}")).collect();
                    builder.push(format!("UPDATE SET {}", updates.join(", ")));
                }
            }));
        }
    }

    fn delete_dependents(&mut self, keys: &[String]) {
        let table = self.kind.dependent_table();
        let (tenant, id) = (self.tenant, self.id);
        for chunk in keys.chunks(IDS_PER_STATEMENT) {
            let chunk = chunk.to_vec();
            self.parameters += chunk.len() + 3;
            self.then.push(Box::new(move |builder, guard| {
                builder.push(format!("DELETE FROM {} WHERE", table.table));
                push_tenant(builder, "", tenant);
                builder.push(format!(" AND {} = ", table.owner));
                D::bind(builder, SqlValue::text(id));
                builder.push(format!(" AND {} IN (", table.key));
                push_binds(builder, chunk.iter().map(|key| SqlValue::text(key.as_str())));
                builder.push(format!(") AND {guard}"));
            }));
        }
    }

    /// The request-log row of the request that makes the write, and the provisioning operations it sets off.
    fn effects(&mut self, effects: &WriteEffects<'a>) {
        self.log(effects.log);
        let tenant = self.tenant;
        for chunk in effects.provisioning.chunks(IDS_PER_STATEMENT / 10) {
            self.parameters += chunk.len() * OUTBOX_VALUES;
            self.then.push(Box::new(move |builder, guard| {
                builder
                    .push(format!("INSERT INTO provisioning_outbox ({OUTBOX_INSERT_COLUMNS}) SELECT * FROM (VALUES "));
                push_outbox_rows(builder, tenant, chunk);
                // A member that is no user of the tenant (kept as sent) has no grants to derive: no row for it.
                builder.push(format!(
                    ") AS v WHERE {guard} AND (v.column5 <> '{}' OR EXISTS (SELECT 1 FROM scim_user u \
                     WHERE u.environment = v.column2 AND u.org_id = v.column3 AND u.id = v.column4))",
                    ProvisioningOperationKind::SyncGrants.as_str()
                ));
            }));
        }
    }

    /// The request-log row of the request that makes the write.
    fn log(&mut self, log: Option<&'a ScimRequestLogEntry>) {
        if let Some(entry) = log {
            self.parameters += 6;
            self.then.push(Box::new(move |builder, guard| {
                builder.push(format!("INSERT INTO scim_request_log ({LOG_COLUMNS}) SELECT * FROM (VALUES "));
                push_log_rows(builder, std::slice::from_ref(entry));
                builder.push(format!(") AS v WHERE {guard}"));
            }));
        }
    }
}
