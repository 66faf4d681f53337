//! Putting a backup's database copy in place of the shop's data, in one transaction, so a
//! restore that fails changes nothing. On SQLite the copy is first brought to this Stockdesk's
//! schema, then every table's rows are replaced from it (other connections to the file just
//! see one big write); on Postgres `psql` replaces the schema from the dump, then the
//! migrations newer than the backup run.

use std::path::Path;

use sqlx::Row;

use super::tools::PgTarget;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::store::{Store, SQLITE_BEGIN_WRITE};

/// Replaces the shop's data with the database copy at `copy`.
pub async fn load(ctx: &Ctx, database_url: &str, copy: &Path) -> Result<()> {
    match &ctx.store {
        Store::Sqlite(pool) => {
            // The copy gets the migrations it lacks, so its tables are the live ones.
            let upgraded = Store::open(&Store::sqlite_url(copy)).await?;
            upgraded.close().await;
            let mut conn = pool.acquire().await?;
            replace_tables(&mut conn, copy).await
        }
        Store::Postgres(_) => {
            PgTarget::new(database_url)?.restore(copy).await?;
            ctx.store.migrate().await
        }
    }
}

/// Every table of the live file emptied and filled from the attached copy, in one write
/// transaction (foreign keys checked at its commit). The search index follows by its triggers
/// and is rebuilt after. Not through `Stmt`: ATTACH and the transaction must share one
/// connection, and the table names come from the schema itself.
async fn replace_tables(conn: &mut sqlx::SqliteConnection, copy: &Path) -> Result<()> {
    sqlx::query("ATTACH DATABASE $1 AS backup")
        .bind(copy.display().to_string())
        .execute(&mut *conn)
        .await?;
    let copied = async {
        let mut tx: sqlx::Transaction<'_, sqlx::Sqlite> =
            sqlx::Transaction::begin(&mut *conn, Some(SQLITE_BEGIN_WRITE.into())).await?;
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM main.sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'products_fts%' \
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&mut *tx)
        .await?;
        // All emptied before any is filled: a cascading delete must not reach rows copied in.
        for table in &tables {
            sqlx::query(&format!("DELETE FROM main.\"{table}\""))
                .execute(&mut *tx)
                .await?;
        }
        for table in &tables {
            let info: Vec<sqlx::sqlite::SqliteRow> =
                sqlx::query(&format!("PRAGMA main.table_info(\"{table}\")"))
                    .fetch_all(&mut *tx)
                    .await?;
            let columns: Vec<String> = info
                .iter()
                .map(|r| format!("\"{}\"", r.get::<String, _>("name")))
                .collect();
            let list = columns.join(", ");
            sqlx::query(&format!(
                "INSERT INTO main.\"{table}\" ({list}) SELECT {list} FROM backup.\"{table}\""
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, crate::error::Error>(())
    }
    .await;
    let detached = sqlx::query("DETACH DATABASE backup")
        .execute(&mut *conn)
        .await;
    copied?;
    detached?;
    sqlx::query("INSERT INTO products_fts (products_fts) VALUES ('rebuild')")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
