//! Looking into a PostgreSQL database from outside the [`crate::Store`] trait: every stored value
//! at once (tests check that nothing personal is in it in clear), and fresh schemas that let tests
//! run in parallel on one database.

use tokio_postgres::NoTls;

use super::PostgresStore;
use crate::{Result, StoreError};

impl PostgresStore {
    /// Every text and bytea value of every table of the database, concatenated: what someone
    /// who copies the database gets (tests check that no personal data is in it in clear).
    pub async fn raw_values(&self) -> Result<Vec<u8>> {
        let sql = "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
                   WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea')";
        let columns: Vec<(String, String, String)> = self.all(sql, |r| Ok((r.get()?, r.get()?, r.get()?))).await?;
        let mut out = Vec::new();
        for (table, column, kind) in columns {
            let value = if kind == "bytea" { format!("\"{column}\"") } else { format!("convert_to(\"{column}\", 'UTF8')") };
            let sql = format!("SELECT {value} FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
            for value in self.all(&sql, |r| r.get::<Vec<u8>>()).await? {
                out.extend(value);
            }
        }
        Ok(out)
    }
}

/// Creates a fresh, empty schema in the database at `url` and returns a URL whose connections
/// use it (`options=-csearch_path=...`), so tests running in parallel never see each other.
pub async fn scratch_url(url: &str) -> Result<String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| StoreError::BadUrl(e.to_string()))?;
    let (client, connection) = config.connect(NoTls).await?;
    let task = tokio::spawn(connection);
    let schema = format!("bureau_test_{}", hex::encode(rand::random::<[u8; 8]>()));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await?;
    drop(client);
    let _ = task.await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}options=-csearch_path%3D{schema}"))
}
