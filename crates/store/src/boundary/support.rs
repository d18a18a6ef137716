//! Support requests (tickets): the database boundary of `bureau_office`'s support service.

use async_trait::async_trait;

use crate::*;

/// Support requests (tickets).
#[async_trait]
pub trait SupportStore: Send + Sync + 'static {
    /// Stores a new support ticket.
    async fn insert_ticket(&self, ticket: &TicketRow) -> Result<()>;
    /// Replaces a ticket (answer, resolve).
    async fn update_ticket(&self, ticket: &TicketRow) -> Result<bool>;
    /// The organisation's tickets, newest first.
    async fn tickets(&self, org: OrgId<'_>) -> Result<Vec<TicketRow>>;
}
