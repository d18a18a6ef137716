//! Joining: invitations, registrations, guest links and guests ([`crate::JoiningStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, params};
use crate::*;

row!(invitation_row, INVITATION_COLUMNS, InvitationRow { id, org_id, token_hash, email_index, role, details, invited_by, created_at, expires_at, used_at, revoked_at });
row!(registration_row, REGISTRATION_COLUMNS, RegistrationRow { user_id, org_id, at, details });
row!(guest_link_row, GUEST_LINK_COLUMNS, GuestLinkRow { id, org_id, room_id, token_hash, direct, created_by, created_at, expires_at, revoked_at, max_guests });
row!(guest_row, GUEST_COLUMNS, GuestRow { user_id, org_id, room_id, direct, link_id });

#[async_trait]
impl JoiningStore for SqlStore {
    async fn insert_invitation(&self, i: &InvitationRow) -> Result<()> {
        let sql = "INSERT INTO invitations (id, org_id, token_hash, email_index, role, details, invited_by, created_at, expires_at, used_at, revoked_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let values = params![i.id, i.org_id, i.token_hash, i.email_index, i.role, i.details, i.invited_by, i.created_at, i.expires_at, i.used_at, i.revoked_at];
        self.db.execute(sql, values).await.map(drop)
    }

    async fn update_invitation(&self, i: &InvitationRow) -> Result<bool> {
        let sql = "UPDATE invitations SET token_hash = $3, role = $4, details = $5, created_at = $6, expires_at = $7,
                   used_at = $8, revoked_at = $9 WHERE org_id = $1 AND id = $2";
        let values = params![i.org_id, i.id, i.token_hash, i.role, i.details, i.created_at, i.expires_at, i.used_at, i.revoked_at];
        Ok(self.db.execute(sql, values).await? == 1)
    }

    async fn invitations(&self, org: OrgId<'_>) -> Result<Vec<InvitationRow>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 ORDER BY created_at DESC");
        self.db.all(sql, params![org.0], invitation_row).await
    }

    async fn invitation_by_token(&self, token_hash: &[u8]) -> Result<Option<InvitationRow>> {
        self.db.one(format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1"), params![token_hash], invitation_row).await
    }

    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE invitations SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
        Ok(self.db.execute(sql, params![id, now]).await? == 1)
    }

    async fn insert_registration(&self, r: &RegistrationRow) -> Result<()> {
        let sql = "INSERT INTO registrations (user_id, org_id, at, details) VALUES ($1, $2, $3, $4)";
        self.db.execute(sql, params![r.user_id, r.org_id, r.at, r.details]).await.map(drop)
    }

    async fn registration(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<RegistrationRow>> {
        let sql = format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE org_id = $1 AND user_id = $2");
        self.db.one(sql, params![org.0, user_id], registration_row).await
    }

    async fn insert_guest_link(&self, l: &GuestLinkRow) -> Result<()> {
        let sql = "INSERT INTO guest_links (id, org_id, room_id, token_hash, direct, created_by, created_at, expires_at, revoked_at, max_guests)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let values = params![l.id, l.org_id, l.room_id, l.token_hash, l.direct, l.created_by, l.created_at, l.expires_at, l.revoked_at, l.max_guests];
        self.db.execute(sql, values).await.map(drop)
    }

    async fn guest_links(&self, org: OrgId<'_>, room_id: &str) -> Result<Vec<GuestLinkRow>> {
        let sql = format!("SELECT {GUEST_LINK_COLUMNS} FROM guest_links WHERE org_id = $1 AND room_id = $2 ORDER BY created_at DESC");
        self.db.all(sql, params![org.0, room_id], guest_link_row).await
    }

    async fn guest_link_by_token(&self, token_hash: &[u8]) -> Result<Option<GuestLinkRow>> {
        self.db.one(format!("SELECT {GUEST_LINK_COLUMNS} FROM guest_links WHERE token_hash = $1"), params![token_hash], guest_link_row).await
    }

    async fn revoke_guest_link(&self, org: OrgId<'_>, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE guest_links SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL";
        Ok(self.db.execute(sql, params![org.0, id, now]).await? == 1)
    }

    async fn guests_of_link(&self, org: OrgId<'_>, link_id: &str, now: i64) -> Result<(u64, u64)> {
        let sql = "SELECT COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.org_id = g.org_id AND s.user_id = g.user_id AND s.expires_at > $3))
                   FROM guests g WHERE g.org_id = $1 AND g.link_id = $2";
        let counts: Option<(i64, i64)> = self.db.one(sql, params![org.0, link_id, now], |r| Ok((r.get()?, r.get()?))).await?;
        let (total, live) = counts.unwrap_or((0, 0));
        Ok((total as u64, live as u64))
    }

    async fn end_guests_of_link(&self, org: OrgId<'_>, link_id: &str) -> Result<Vec<String>> {
        let (org, link) = (org.0.to_owned(), link_id.to_owned());
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let guests = tx.all("SELECT user_id FROM guests WHERE org_id = $1 AND link_id = $2", params![org, link], |r| r.get()).await?;
                    let sql = "DELETE FROM sessions WHERE org_id = $1 AND user_id IN (SELECT user_id FROM guests WHERE org_id = $1 AND link_id = $2)";
                    tx.execute(sql, params![org, link]).await?;
                    Ok(guests)
                })
            })
            .await
    }

    async fn insert_guest(&self, g: &GuestRow) -> Result<()> {
        let sql = "INSERT INTO guests (user_id, org_id, room_id, direct, link_id) VALUES ($1, $2, $3, $4, $5)";
        self.db.execute(sql, params![g.user_id, g.org_id, g.room_id, g.direct, g.link_id]).await.map(drop)
    }

    async fn guest(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<GuestRow>> {
        self.db.one(format!("SELECT {GUEST_COLUMNS} FROM guests WHERE org_id = $1 AND user_id = $2"), params![org.0, user_id], guest_row).await
    }

    async fn guests_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        let sql = "SELECT u.org_id, u.id FROM users u JOIN guests g ON g.user_id = u.id WHERE u.created_at < $1";
        self.db.all(sql, params![before], |r| Ok((r.get()?, r.get()?))).await
    }
}
