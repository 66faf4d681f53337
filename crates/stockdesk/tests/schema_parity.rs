//! The two dialects of migrations/ make the same schema: a fresh SQLite file and a fresh Postgres
//! database, each migrated as Stockdesk opens them, are read back from their catalogs and must
//! agree on tables, columns (type family, nullability, default), primary keys, foreign keys,
//! unique and check constraints, indexes, and on every other object — except the differences
//! listed below, each with its reason. A listed difference that no longer exists fails the test
//! too, so the list stays true.

use stockdesk_testkit as common;

use std::collections::{BTreeMap, BTreeSet};

use stockdesk::Store;

// ---- what may differ, and why ----

/// Objects only one dialect has, on purpose, as the test words them.
const ONE_SIDED: &[(&str, &str)] = &[
    (
        "table products_fts only on sqlite",
        "FTS5 trigram index for substring search (search.sql); Postgres has products_search_trgm",
    ),
    (
        "table products_fts_config only on sqlite",
        "FTS5's shadow table of products_fts",
    ),
    (
        "table products_fts_data only on sqlite",
        "FTS5's shadow table of products_fts",
    ),
    (
        "table products_fts_docsize only on sqlite",
        "FTS5's shadow table of products_fts",
    ),
    (
        "table products_fts_idx only on sqlite",
        "FTS5's shadow table of products_fts",
    ),
    (
        "trigger products_fts_insert only on sqlite",
        "keeps products_fts in step with products.search_text; a Postgres index needs no help",
    ),
    (
        "trigger products_fts_delete only on sqlite",
        "as products_fts_insert",
    ),
    (
        "trigger products_fts_update only on sqlite",
        "as products_fts_insert",
    ),
    (
        "index products.products_search_trgm only on postgres",
        "the GIN trigram index `search_text LIKE '%…%'` uses: Postgres's products_fts",
    ),
    (
        "column applied_ops.seq: default None on sqlite, Some(\"nextval 'applied_ops_seq_seq'\") on postgres",
        "the change feed's insertion number: BIGSERIAL on Postgres, AUTOINCREMENT (a rowid) on SQLite",
    ),
    (
        "sequence applied_ops_seq_seq only on postgres",
        "the BIGSERIAL behind applied_ops.seq",
    ),
    (
        "table sqlite_sequence only on sqlite",
        "SQLite's record of AUTOINCREMENT keys (applied_ops.seq), which keeps them from being reused",
    ),
    (
        "column applied_ops.tx: default Some(\"0\") on sqlite, Some(\"pg_current_xact_id\") on postgres",
        "the writing transaction's id orders the change feed on Postgres; SQLite commits one writer \
         at a time, so its feed needs none",
    ),
    (
        "extension pg_trgm only on postgres",
        "provides gin_trgm_ops for products_search_trgm (its functions and types belong to the \
         extension, so they are not compared)",
    ),
];

/// SQLite lets a primary key that is not an INTEGER PRIMARY KEY hold NULL (kept for backward
/// compatibility: https://sqlite.org/lang_createtable.html#the_primary_key), and the tables of
/// the first migrations declare `id BLOB PRIMARY KEY` without NOT NULL. Adding it means
/// rebuilding every one of these tables, which sqlx's migration transaction cannot do safely
/// (`PRAGMA foreign_keys` cannot be switched off inside it, and dropping a parent table with
/// foreign keys on runs its ON DELETE CASCADEs). Stockdesk binds a `Uuid`, never NULL, for every
/// id, so they stay. A new table is not on this list: on SQLite it must say NOT NULL.
const SQLITE_NULLABLE_PRIMARY_KEYS: &[&str] = &[
    "attribute_values.id",
    "attributes.id",
    "blob_outbox.id",
    "blobs.key",
    "categories.id",
    "images.id",
    "order_items.id",
    "orders.id",
    "products.id",
    "reservations.id",
    "staged_blobs.id",
    "stock_movements.id",
    "sweep_runs.id",
    "variants.id",
];

/// Not compared at all.
const IGNORED_TABLES: &[(&str, &str)] = &[(
    "_sqlx_migrations",
    "sqlx's own bookkeeping, which sqlx creates in each dialect's types; not our schema",
)];
const IGNORED_EXTENSIONS: &[(&str, &str)] = &[("plpgsql", "installed in every Postgres database")];

// ---- type families ----

/// What a column holds, whatever the dialect calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Integer,
    Text,
    /// A UUIDv7: native `uuid` on Postgres, a 16-byte BLOB on SQLite.
    Id,
    Timestamp,
    Boolean,
    Json,
    Bytes,
}

/// Postgres names each family exactly (by `udt_name`).
fn postgres_family(udt: &str) -> Option<Family> {
    Some(match udt {
        "int2" | "int4" | "int8" => Family::Integer,
        "text" | "varchar" => Family::Text,
        "uuid" => Family::Id,
        "timestamptz" => Family::Timestamp,
        "bool" => Family::Boolean,
        "json" | "jsonb" => Family::Json,
        "bytea" => Family::Bytes,
        // Anything else (a `timestamp` without time zone, `numeric`, …) fails the test until
        // someone decides what it means.
        _ => return None,
    })
}

/// SQLite has no time, JSON or UUID type: Stockdesk stores times as RFC 3339 TEXT, JSON as TEXT
/// and ids as 16-byte BLOBs (as the first SQLite migration says). So an SQLite column's family is its
/// declared type refined by what the column holds: time columns are named for it (`is_time_name`,
/// a convention this test holds Postgres to as well), and the JSON and byte columns are listed.
fn sqlite_family(table: &str, column: &str, declared: &str) -> Option<Family> {
    let listed = |list: &[&str]| list.contains(&format!("{table}.{column}").as_str());
    Some(match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "BIGINT" => Family::Integer,
        "BOOLEAN" => Family::Boolean,
        "TEXT" if is_time_name(column) => Family::Timestamp,
        "TEXT" if listed(SQLITE_JSON_COLUMNS) => Family::Json,
        "TEXT" => Family::Text,
        "BLOB" if listed(SQLITE_BYTES_COLUMNS) => Family::Bytes,
        "BLOB" => Family::Id,
        _ => return None,
    })
}

fn is_time_name(column: &str) -> bool {
    column == "at" || column.ends_with("_at") || column.ends_with("_until")
}

/// SQLite TEXT columns that hold JSON (JSONB on Postgres).
const SQLITE_JSON_COLUMNS: &[&str] = &[
    "applied_ops.outcome",
    "edit_conflicts.paths",
    "product_history.changes",
    "product_history.snapshot",
    "sweep_runs.jobs",
    "sync_outbox.command",
    "sync_outbox.outcome",
    "sync_set_aside.error",
];

/// SQLite BLOB columns that hold bytes rather than an id (BYTEA on Postgres).
const SQLITE_BYTES_COLUMNS: &[&str] = &["blobs.data"];

// ---- the schema as read from either catalog ----

#[derive(Debug, Default)]
struct Schema {
    /// Everything but tables' insides, as "kind name": "table orders", "trigger …", "view …",
    /// "function …", "sequence …", "type …", "extension …".
    objects: BTreeSet<String>,
    tables: BTreeMap<String, Table>,
}

#[derive(Debug, Default)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    /// "(category_id) -> categories(id) on delete cascade on update no action"
    foreign_keys: BTreeSet<String>,
    /// "(category_id, name)"
    uniques: BTreeSet<String>,
    /// "(status) ['archived', 'draft', 'published']": the columns a check reads and its
    /// literals, since the dialects spell the same check differently (`IN (…)` comes back from
    /// Postgres as `= ANY (ARRAY[…])`, `BETWEEN` as two comparisons).
    checks: BTreeSet<String>,
    /// Index name → "unique btree (product_id) where is_thumbnail".
    indexes: BTreeMap<String, String>,
}

#[derive(Debug)]
struct Column {
    /// As declared (SQLite) or `udt_name` (Postgres).
    declared: String,
    not_null: bool,
    /// Normalised: lower case, casts and parentheses dropped.
    default: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrate_to_the_same_schema() {
    let lite = common::sqlite().await;
    let pg = common::postgres().await;
    let Store::Sqlite(lite_pool) = lite.sd.store() else {
        unreachable!()
    };
    let Store::Postgres(pg_pool) = pg.sd.store() else {
        unreachable!()
    };
    let sqlite = read_sqlite(lite_pool).await;
    let postgres = read_postgres(pg_pool).await;
    assert!(
        sqlite.tables.contains_key("reservations") && postgres.tables.contains_key("reservations"),
        "read the schema: {:?} / {:?}",
        sqlite.objects,
        postgres.objects
    );

    let found = compare(&sqlite, &postgres);
    let expected: BTreeSet<String> = ONE_SIDED
        .iter()
        .map(|(d, _)| d.to_string())
        .chain(
            SQLITE_NULLABLE_PRIMARY_KEYS
                .iter()
                .map(|c| format!("column {c}: nullable on sqlite, not null on postgres")),
        )
        .collect();
    let unexplained: Vec<&String> = found.difference(&expected).collect();
    let stale: Vec<&String> = expected.difference(&found).collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "differences nobody explained:\n  {}\nlisted differences that are gone (drop them from \
         the list):\n  {}",
        join(&unexplained),
        join(&stale),
    );
    common::drop_postgres(&pg.url).await;
}

/// The dialects have the same migrations, so a database of either is at the same version.
#[test]
fn both_dialects_have_the_same_migrations() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
    let names = |dialect: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!("{dir}/{dialect}"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let sqlite = names("sqlite");
    assert!(sqlite.len() >= 5, "{sqlite:?}");
    assert_eq!(sqlite, names("postgres"));
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// Every difference between the two schemas, in the words `ONE_SIDED` uses.
fn compare(sqlite: &Schema, postgres: &Schema) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    one_sided(&mut out, "", &sqlite.objects, &postgres.objects);
    for (name, lite) in &sqlite.tables {
        let Some(pg) = postgres.tables.get(name) else {
            continue; // already reported as an object
        };
        for (col, l) in &lite.columns {
            let Some(p) = pg.columns.get(col) else {
                out.insert(format!("column {name}.{col} only on sqlite"));
                continue;
            };
            let lite_family = sqlite_family(name, col, &l.declared);
            let pg_family = postgres_family(&p.declared);
            if lite_family.is_none() || lite_family != pg_family {
                out.insert(format!(
                    "column {name}.{col}: sqlite {} ({lite_family:?}) vs postgres {} ({pg_family:?})",
                    l.declared, p.declared
                ));
            }
            if l.not_null != p.not_null {
                let says = |not_null| if not_null { "not null" } else { "nullable" };
                out.insert(format!(
                    "column {name}.{col}: {} on sqlite, {} on postgres",
                    says(l.not_null),
                    says(p.not_null)
                ));
            }
            if l.default != p.default {
                out.insert(format!(
                    "column {name}.{col}: default {:?} on sqlite, {:?} on postgres",
                    l.default, p.default
                ));
            }
        }
        for col in pg.columns.keys() {
            if !lite.columns.contains_key(col) {
                out.insert(format!("column {name}.{col} only on postgres"));
            }
        }
        if lite.primary_key != pg.primary_key {
            out.insert(format!(
                "primary key of {name}: {:?} on sqlite, {:?} on postgres",
                lite.primary_key, pg.primary_key
            ));
        }
        let prefix = format!("foreign key {name}");
        one_sided(&mut out, &prefix, &lite.foreign_keys, &pg.foreign_keys);
        let prefix = format!("unique {name}");
        one_sided(&mut out, &prefix, &lite.uniques, &pg.uniques);
        let prefix = format!("check {name}");
        one_sided(&mut out, &prefix, &lite.checks, &pg.checks);
        for (index, l) in &lite.indexes {
            match pg.indexes.get(index) {
                None => {
                    out.insert(format!("index {name}.{index} only on sqlite"));
                }
                Some(p) if p != l => {
                    out.insert(format!(
                        "index {name}.{index}: {l} on sqlite, {p} on postgres"
                    ));
                }
                Some(_) => {}
            }
        }
        for index in pg.indexes.keys() {
            if !lite.indexes.contains_key(index) {
                out.insert(format!("index {name}.{index} only on postgres"));
            }
        }
    }
    out
}

fn one_sided(
    out: &mut BTreeSet<String>,
    prefix: &str,
    sqlite: &BTreeSet<String>,
    postgres: &BTreeSet<String>,
) {
    let sep = if prefix.is_empty() { "" } else { " " };
    for only in sqlite.difference(postgres) {
        out.insert(format!("{prefix}{sep}{only} only on sqlite"));
    }
    for only in postgres.difference(sqlite) {
        out.insert(format!("{prefix}{sep}{only} only on postgres"));
    }
}

// ---- SQLite: sqlite_master and the pragma functions ----

async fn read_sqlite(pool: &sqlx::SqlitePool) -> Schema {
    #[derive(sqlx::FromRow)]
    struct MasterRow {
        kind: String,
        name: String,
        sql: Option<String>,
    }
    #[derive(sqlx::FromRow)]
    struct ColumnRow {
        name: String,
        declared: String,
        not_null: bool,
        default_value: Option<String>,
        pk: i64,
    }
    #[derive(sqlx::FromRow)]
    struct ForeignKeyRow {
        id: i64,
        to_table: String,
        from_column: String,
        to_column: Option<String>,
        on_update: String,
        on_delete: String,
    }
    #[derive(sqlx::FromRow)]
    struct IndexRow {
        name: String,
        is_unique: bool,
        origin: String,
        partial: bool,
    }
    let master: Vec<MasterRow> = sqlx::query_as(
        "SELECT type AS kind, name, sql FROM sqlite_master \
         WHERE type IN ('table', 'view', 'trigger') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let index_sql: BTreeMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect();

    let mut schema = Schema::default();
    for object in master {
        if IGNORED_TABLES.iter().any(|(t, _)| *t == object.name) {
            continue;
        }
        schema
            .objects
            .insert(format!("{} {}", object.kind, object.name));
        if object.kind != "table" {
            continue;
        }
        let name = object.name;
        let mut table = Table::default();
        let columns: Vec<ColumnRow> = sqlx::query_as(
            "SELECT name, type AS declared, \"notnull\" AS not_null, dflt_value AS default_value, \
             pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        for c in columns {
            if c.pk > 0 {
                primary_key.push((c.pk, c.name.clone()));
            }
            table.columns.insert(
                c.name,
                Column {
                    declared: c.declared,
                    not_null: c.not_null,
                    default: c.default_value.map(|d| normalise(&d)),
                },
            );
        }
        primary_key.sort();
        table.primary_key = primary_key.into_iter().map(|(_, c)| c).collect();

        let fks: Vec<ForeignKeyRow> = sqlx::query_as(
            "SELECT id, \"table\" AS to_table, \"from\" AS from_column, \"to\" AS to_column, \
             on_update, on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, Vec<&ForeignKeyRow>> = BTreeMap::new();
        for fk in &fks {
            by_id.entry(fk.id).or_default().push(fk);
        }
        for parts in by_id.values() {
            let from: Vec<&str> = parts.iter().map(|p| p.from_column.as_str()).collect();
            let to: Vec<&str> = parts
                .iter()
                .map(|p| p.to_column.as_deref().unwrap_or("<its primary key>"))
                .collect();
            table.foreign_keys.insert(foreign_key(
                &from,
                &parts[0].to_table,
                &to,
                &parts[0].on_delete,
                &parts[0].on_update,
            ));
        }

        let indexes: Vec<IndexRow> = sqlx::query_as(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list($1)",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        for index in indexes {
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT COALESCE(name, '<expression>') FROM pragma_index_info($1) ORDER BY seqno",
            )
            .bind(&index.name)
            .fetch_all(pool)
            .await
            .unwrap();
            match index.origin.as_str() {
                "pk" => {}
                "u" => {
                    table.uniques.insert(column_list(&columns));
                }
                _ => {
                    let sql = &index_sql[&index.name];
                    let predicate = index
                        .partial
                        .then(|| sql_after_where(sql).expect("a partial index has WHERE"));
                    table.indexes.insert(
                        index.name,
                        index_description(index.is_unique, "btree", &columns, predicate),
                    );
                }
            }
        }

        let names: BTreeSet<String> = table.columns.keys().cloned().collect();
        for check in sqlite_checks(object.sql.as_deref().unwrap_or_default()) {
            table.checks.insert(check_fingerprint(&check, &names));
        }
        schema.tables.insert(name, table);
    }
    schema
}

/// The expressions of every `CHECK (…)` in a CREATE TABLE statement (SQLite keeps no catalog of
/// them, only the statement; ALTER TABLE ADD COLUMN appends to it).
fn sqlite_checks(create_table: &str) -> Vec<Vec<Token>> {
    let tokens = tokenize(create_table);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == Token::Word("check".into()) && tokens.get(i + 1) == Some(&punct("(")) {
            let mut depth = 0;
            let mut j = i + 1;
            loop {
                match &tokens[j] {
                    t if *t == punct("(") => depth += 1,
                    t if *t == punct(")") => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                j += 1;
            }
            out.push(tokens[i + 2..j].to_vec());
            i = j;
        }
        i += 1;
    }
    out
}

fn sql_after_where(sql: &str) -> Option<String> {
    let at = sql.to_ascii_lowercase().rfind(" where ")?;
    Some(sql[at + " where ".len()..].to_string())
}

// ---- Postgres: information_schema and pg_catalog ----

async fn read_postgres(pool: &sqlx::PgPool) -> Schema {
    #[derive(sqlx::FromRow)]
    struct ColumnRow {
        table_name: String,
        column_name: String,
        udt_name: String,
        not_null: bool,
        column_default: Option<String>,
    }
    #[derive(sqlx::FromRow)]
    struct ConstraintRow {
        table_name: String,
        kind: String,
        columns: Vec<String>,
        ref_table: Option<String>,
        ref_columns: Vec<String>,
        on_delete: String,
        on_update: String,
        definition: String,
    }
    #[derive(sqlx::FromRow)]
    struct IndexRow {
        table_name: String,
        name: String,
        is_unique: bool,
        method: String,
        columns: Vec<String>,
        predicate: Option<String>,
    }
    let mut schema = Schema::default();
    // Tables and views; then what else may live in the schema: triggers, functions, sequences,
    // enum and domain types that are not an extension's, and the extensions themselves.
    let objects: Vec<(String, String)> = sqlx::query_as(
        "SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END, table_name::text \
         FROM information_schema.tables WHERE table_schema = 'public' \
         UNION ALL SELECT 'trigger', t.tgname::text FROM pg_trigger t \
           JOIN pg_class c ON c.oid = t.tgrelid \
           WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace \
         UNION ALL SELECT 'function', p.proname::text FROM pg_proc p \
           WHERE p.pronamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_depend d \
             WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') \
         UNION ALL SELECT 'sequence', c.relname::text FROM pg_class c \
           WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace \
         UNION ALL SELECT 'type', t.typname::text FROM pg_type t \
           WHERE t.typtype IN ('e', 'd') AND t.typnamespace = 'public'::regnamespace \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d \
             WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') \
         UNION ALL SELECT 'extension', extname::text FROM pg_extension",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (kind, name) in objects {
        let ignored = match kind.as_str() {
            "table" => IGNORED_TABLES.iter().any(|(t, _)| *t == name),
            "extension" => IGNORED_EXTENSIONS.iter().any(|(e, _)| *e == name),
            _ => false,
        };
        if ignored {
            continue;
        }
        if kind == "table" {
            schema.tables.insert(name.clone(), Table::default());
        }
        schema.objects.insert(format!("{kind} {name}"));
    }

    let columns: Vec<ColumnRow> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, udt_name::text, \
         is_nullable = 'NO' AS not_null, column_default::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for c in columns {
        let Some(table) = schema.tables.get_mut(&c.table_name) else {
            continue;
        };
        table.columns.insert(
            c.column_name,
            Column {
                declared: c.udt_name,
                not_null: c.not_null,
                default: c.column_default.map(|d| normalise(&d)),
            },
        );
    }

    let constraints: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT t.relname::text AS table_name, c.contype::text AS kind, \
         ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) \
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
           ORDER BY k.n) AS columns, \
         (SELECT r.relname::text FROM pg_class r WHERE r.oid = c.confrelid) AS ref_table, \
         ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) \
           JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum \
           ORDER BY k.n) AS ref_columns, \
         c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update, \
         pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relnamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f', 'c')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for c in constraints {
        let Some(table) = schema.tables.get_mut(&c.table_name) else {
            continue;
        };
        match c.kind.as_str() {
            "p" => table.primary_key = c.columns,
            "u" => {
                table.uniques.insert(column_list(&c.columns));
            }
            "f" => {
                let action = |code: &str| match code {
                    "a" => "no action",
                    "r" => "restrict",
                    "c" => "cascade",
                    "n" => "set null",
                    "d" => "set default",
                    other => panic!("unknown foreign key action {other:?}"),
                };
                let from: Vec<&str> = c.columns.iter().map(String::as_str).collect();
                let to: Vec<&str> = c.ref_columns.iter().map(String::as_str).collect();
                table.foreign_keys.insert(foreign_key(
                    &from,
                    c.ref_table.as_deref().unwrap_or_default(),
                    &to,
                    action(&c.on_delete),
                    action(&c.on_update),
                ));
            }
            _ => {
                let names: BTreeSet<String> = table.columns.keys().cloned().collect();
                let check = tokenize(&c.definition);
                table.checks.insert(check_fingerprint(&check, &names));
            }
        }
    }

    // Indexes that back a constraint are the constraint's (compared above), as SQLite's
    // automatic indexes are.
    let indexes: Vec<IndexRow> = sqlx::query_as(
        "SELECT t.relname::text AS table_name, ic.relname::text AS name, i.indisunique AS is_unique, \
         am.amname::text AS method, \
         ARRAY(SELECT COALESCE(a.attname::text, '<expression>') \
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) \
           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
           ORDER BY k.n) AS columns, \
         pg_get_expr(i.indpred, i.indrelid) AS predicate \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
         WHERE t.relnamespace = 'public'::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for index in indexes {
        let Some(table) = schema.tables.get_mut(&index.table_name) else {
            continue;
        };
        table.indexes.insert(
            index.name,
            index_description(
                index.is_unique,
                &index.method,
                &index.columns,
                index.predicate,
            ),
        );
    }
    schema
}

// ---- one wording for both sides ----

fn column_list<S: AsRef<str>>(columns: &[S]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.as_ref()).collect();
    format!("({})", names.join(", "))
}

fn foreign_key(
    from: &[&str],
    to_table: &str,
    to: &[&str],
    on_delete: &str,
    on_update: &str,
) -> String {
    format!(
        "{} -> {to_table}{} on delete {} on update {}",
        column_list(from),
        column_list(to),
        on_delete.to_ascii_lowercase(),
        on_update.to_ascii_lowercase()
    )
}

fn index_description(
    unique: bool,
    method: &str,
    columns: &[String],
    predicate: Option<String>,
) -> String {
    let mut out = format!(
        "{}{method} {}",
        if unique { "unique " } else { "" },
        column_list(columns)
    );
    if let Some(p) = predicate {
        out.push_str(&format!(" where {}", normalise(&p)));
    }
    out
}

/// The columns a check reads and its literals, sorted (see `Table::checks`).
fn check_fingerprint(tokens: &[Token], columns: &BTreeSet<String>) -> String {
    let mut read = BTreeSet::new();
    let mut literals = BTreeSet::new();
    for t in tokens {
        match t {
            Token::Word(w) if columns.contains(w) => {
                read.insert(w.clone());
            }
            Token::Str(s) => {
                literals.insert(format!("'{s}'"));
            }
            Token::Number(n) => {
                literals.insert(n.clone());
            }
            _ => {}
        }
    }
    let read: Vec<String> = read.into_iter().collect();
    let literals: Vec<String> = literals.into_iter().collect();
    format!("{} [{}]", column_list(&read), literals.join(", "))
}

/// An expression as both dialects can agree on it: lower case, one space between tokens, without
/// parentheses and `::type` casts (Postgres adds both when it prints an expression back).
fn normalise(expression: &str) -> String {
    let tokens = tokenize(expression);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            t if *t == punct("(") || *t == punct(")") => {}
            t if *t == punct("::") => i += 1, // and the type after it
            Token::Word(w) | Token::Number(w) | Token::Punct(w) => out.push(w.clone()),
            Token::Str(s) => out.push(format!("'{s}'")),
        }
        i += 1;
    }
    out.join(" ")
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A keyword or identifier, lower case (quoted identifiers unquoted).
    Word(String),
    Str(String),
    Number(String),
    Punct(String),
}

fn punct(p: &str) -> Token {
    Token::Punct(p.to_string())
}

/// Just enough SQL lexing for checks, defaults and index predicates: strings, quoted names,
/// `--` comments, numbers, words and operators.
fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' || c == '"' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        text.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                text.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(if c == '\'' {
                Token::Str(text)
            } else {
                Token::Word(text.to_lowercase())
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Token::Word(word.to_lowercase()));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(punct("::"));
            i += 2;
        } else if "<>=!".contains(c) {
            let start = i;
            while i < chars.len() && "<>=!".contains(chars[i]) {
                i += 1;
            }
            out.push(Token::Punct(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c.to_string()));
            i += 1;
        }
    }
    out
}
