//! Small facts the server keeps about itself between starts.

use crate::{Db, StoreError};

impl Db {
    pub async fn server_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM server_state WHERE key = $1")
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn set_server_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO server_state (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
