//! Support requests (tickets) ([`crate::SupportStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::params;
use crate::*;

row!(ticket_row, TICKET_COLUMNS, TicketRow { id, org_id, user_id, status, details, created_at, updated_at, resolved_at });

#[async_trait]
impl SupportStore for SqlStore {
    async fn insert_ticket(&self, t: &TicketRow) -> Result<()> {
        let sql = "INSERT INTO support_tickets (id, org_id, user_id, status, details, created_at, updated_at, resolved_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        self.db.execute(sql, params![t.id, t.org_id, t.user_id, t.status, t.details, t.created_at, t.updated_at, t.resolved_at]).await.map(drop)
    }

    async fn update_ticket(&self, t: &TicketRow) -> Result<bool> {
        let sql = "UPDATE support_tickets SET status = $3, details = $4, updated_at = $5, resolved_at = $6 WHERE org_id = $1 AND id = $2";
        Ok(self.db.execute(sql, params![t.org_id, t.id, t.status, t.details, t.updated_at, t.resolved_at]).await? == 1)
    }

    async fn tickets(&self, org: OrgId<'_>) -> Result<Vec<TicketRow>> {
        self.db.all(format!("SELECT {TICKET_COLUMNS} FROM support_tickets WHERE org_id = $1 ORDER BY created_at DESC"), params![org.0], ticket_row).await
    }
}
