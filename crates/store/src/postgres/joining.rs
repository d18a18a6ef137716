//! PostgreSQL implementation of [`crate::JoiningStore`].

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PostgresStore, conflict_on_unique, flag, small};
use crate::{ConsentRow, GuestLinkRow, GuestRow, InvitationRow, LegalRow, OrgId, RegistrationRow, Result, TicketRow};

fn invitation_row(row: &Row) -> Result<InvitationRow> {
    Ok(InvitationRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        token_hash: row.try_get("token_hash")?,
        email_index: row.try_get("email_index")?,
        role: row.try_get("role")?,
        details: row.try_get("details")?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn ticket_row(row: &Row) -> Result<TicketRow> {
    Ok(TicketRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        status: row.try_get("status")?,
        details: row.try_get("details")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

fn guest_link_row(row: &Row) -> Result<GuestLinkRow> {
    Ok(GuestLinkRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        room_id: row.try_get("room_id")?,
        token_hash: row.try_get("token_hash")?,
        direct: flag(row, "direct")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        max_guests: row.try_get("max_guests")?,
    })
}

#[async_trait]
impl crate::JoiningStore for PostgresStore {
    async fn insert_invitation(&self, i: &InvitationRow) -> Result<()> {
        let sql = "INSERT INTO invitations (id, org_id, token_hash, email_index, role, details, invited_by, created_at, expires_at, used_at, revoked_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let params: [super::Param<'_>; 11] =
            [&i.id, &i.org_id, &i.token_hash, &i.email_index, &i.role, &i.details, &i.invited_by, &i.created_at, &i.expires_at, &i.used_at, &i.revoked_at];
        self.execute(sql, &params).await.map(drop)
    }

    async fn update_invitation(&self, i: &InvitationRow) -> Result<bool> {
        let sql = "UPDATE invitations SET token_hash = $3, role = $4, details = $5, created_at = $6, expires_at = $7,
                   used_at = $8, revoked_at = $9 WHERE org_id = $1 AND id = $2";
        let params: [super::Param<'_>; 9] = [&i.org_id, &i.id, &i.token_hash, &i.role, &i.details, &i.created_at, &i.expires_at, &i.used_at, &i.revoked_at];
        Ok(self.execute(sql, &params).await? == 1)
    }

    async fn invitations(&self, org: OrgId<'_>) -> Result<Vec<InvitationRow>> {
        self.all("SELECT * FROM invitations WHERE org_id = $1 ORDER BY created_at DESC", &[&org.0], invitation_row).await
    }

    async fn invitation_by_token(&self, token_hash: &[u8]) -> Result<Option<InvitationRow>> {
        self.one("SELECT * FROM invitations WHERE token_hash = $1", &[&token_hash], invitation_row).await
    }

    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE invitations SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
        Ok(self.execute(sql, &[&id, &now]).await? == 1)
    }

    async fn insert_registration(&self, r: &RegistrationRow) -> Result<()> {
        let sql = "INSERT INTO registrations (user_id, org_id, at, details) VALUES ($1, $2, $3, $4)";
        self.execute(sql, &[&r.user_id, &r.org_id, &r.at, &r.details]).await.map(drop)
    }

    async fn registration(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<RegistrationRow>> {
        self.one("SELECT * FROM registrations WHERE org_id = $1 AND user_id = $2", &[&org.0, &user_id], |r| {
            Ok(RegistrationRow { user_id: r.try_get("user_id")?, org_id: r.try_get("org_id")?, at: r.try_get("at")?, details: r.try_get("details")? })
        })
        .await
    }

    async fn insert_ticket(&self, t: &TicketRow) -> Result<()> {
        let sql = "INSERT INTO support_tickets (id, org_id, user_id, status, details, created_at, updated_at, resolved_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        self.execute(sql, &[&t.id, &t.org_id, &t.user_id, &t.status, &t.details, &t.created_at, &t.updated_at, &t.resolved_at]).await.map(drop)
    }

    async fn update_ticket(&self, t: &TicketRow) -> Result<bool> {
        let sql = "UPDATE support_tickets SET status = $3, details = $4, updated_at = $5, resolved_at = $6 WHERE org_id = $1 AND id = $2";
        Ok(self.execute(sql, &[&t.org_id, &t.id, &t.status, &t.details, &t.updated_at, &t.resolved_at]).await? == 1)
    }

    async fn tickets(&self, org: OrgId<'_>) -> Result<Vec<TicketRow>> {
        self.all("SELECT * FROM support_tickets WHERE org_id = $1 ORDER BY created_at DESC", &[&org.0], ticket_row).await
    }

    async fn insert_consent(&self, c: &ConsentRow) -> Result<()> {
        let sql = "INSERT INTO consents (id, org_id, user_id, template_version, details, given_at, withdrawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let version = i64::from(c.template_version);
        self.execute(sql, &[&c.id, &c.org_id, &c.user_id, &version, &c.details, &c.given_at, &c.withdrawn_at]).await.map(drop)
    }

    async fn withdraw_consent(&self, org: OrgId<'_>, user_id: &str, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE consents SET withdrawn_at = $4 WHERE org_id = $1 AND user_id = $2 AND id = $3 AND withdrawn_at IS NULL";
        Ok(self.execute(sql, &[&org.0, &user_id, &id, &now]).await? == 1)
    }

    async fn consents(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConsentRow>> {
        self.all("SELECT * FROM consents WHERE org_id = $1 AND user_id = $2 ORDER BY given_at DESC, id", &[&org.0, &user_id], |r| {
            Ok(ConsentRow {
                id: r.try_get("id")?,
                org_id: r.try_get("org_id")?,
                user_id: r.try_get("user_id")?,
                template_version: small(r, "template_version")?,
                details: r.try_get("details")?,
                given_at: r.try_get("given_at")?,
                withdrawn_at: r.try_get("withdrawn_at")?,
            })
        })
        .await
    }

    async fn legal_text(&self, org: OrgId<'_>, kind: &str) -> Result<Option<LegalRow>> {
        self.one("SELECT * FROM legal_texts WHERE org_id = $1 AND kind = $2 ORDER BY version DESC LIMIT 1", &[&org.0, &kind], |r| {
            Ok(LegalRow {
                org_id: r.try_get("org_id")?,
                kind: r.try_get("kind")?,
                version: small(r, "version")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .await
    }

    async fn insert_legal_text(&self, t: &LegalRow) -> Result<()> {
        let client = self.client().await?;
        let statement =
            client.prepare_cached("INSERT INTO legal_texts (org_id, kind, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)").await?;
        let version = i64::from(t.version);
        client
            .execute(&statement, &[&t.org_id, &t.kind, &version, &t.body, &t.created_at, &t.created_by])
            .await
            .map_err(|e| conflict_on_unique(e, "version"))?;
        Ok(())
    }

    async fn insert_guest_link(&self, l: &GuestLinkRow) -> Result<()> {
        let sql = "INSERT INTO guest_links (id, org_id, room_id, token_hash, direct, created_by, created_at, expires_at, revoked_at, max_guests)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let direct = i64::from(l.direct);
        self.execute(sql, &[&l.id, &l.org_id, &l.room_id, &l.token_hash, &direct, &l.created_by, &l.created_at, &l.expires_at, &l.revoked_at, &l.max_guests])
            .await
            .map(drop)
    }

    async fn guest_links(&self, org: OrgId<'_>, room_id: &str) -> Result<Vec<GuestLinkRow>> {
        self.all("SELECT * FROM guest_links WHERE org_id = $1 AND room_id = $2 ORDER BY created_at DESC", &[&org.0, &room_id], guest_link_row).await
    }

    async fn guest_link_by_token(&self, token_hash: &[u8]) -> Result<Option<GuestLinkRow>> {
        self.one("SELECT * FROM guest_links WHERE token_hash = $1", &[&token_hash], guest_link_row).await
    }

    async fn revoke_guest_link(&self, org: OrgId<'_>, id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE guest_links SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL";
        Ok(self.execute(sql, &[&org.0, &id, &now]).await? == 1)
    }

    async fn guests_of_link(&self, org: OrgId<'_>, link_id: &str, now: i64) -> Result<(u64, u64)> {
        let sql = "SELECT COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.org_id = g.org_id AND s.user_id = g.user_id AND s.expires_at > $3))
                   FROM guests g WHERE g.org_id = $1 AND g.link_id = $2";
        let counts = self.one(sql, &[&org.0, &link_id, &now], |r| Ok((r.try_get::<_, i64>(0)?, r.try_get::<_, i64>(1)?))).await?;
        let (total, live) = counts.unwrap_or((0, 0));
        Ok((total as u64, live as u64))
    }

    async fn end_guests_of_link(&self, org: OrgId<'_>, link_id: &str) -> Result<Vec<String>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let guests = tx.query("SELECT user_id FROM guests WHERE org_id = $1 AND link_id = $2", &[&org.0, &link_id]).await?;
        let guests = guests.iter().map(|r| r.try_get(0)).collect::<std::result::Result<Vec<String>, _>>()?;
        tx.execute("DELETE FROM sessions WHERE org_id = $1 AND user_id IN (SELECT user_id FROM guests WHERE org_id = $1 AND link_id = $2)", &[&org.0, &link_id]).await?;
        tx.commit().await?;
        Ok(guests)
    }

    async fn insert_guest(&self, g: &GuestRow) -> Result<()> {
        let sql = "INSERT INTO guests (user_id, org_id, room_id, direct, link_id) VALUES ($1, $2, $3, $4, $5)";
        let direct = i64::from(g.direct);
        self.execute(sql, &[&g.user_id, &g.org_id, &g.room_id, &direct, &g.link_id]).await.map(drop)
    }

    async fn guest(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<GuestRow>> {
        self.one("SELECT * FROM guests WHERE org_id = $1 AND user_id = $2", &[&org.0, &user_id], |r| {
            Ok(GuestRow {
                user_id: r.try_get("user_id")?,
                org_id: r.try_get("org_id")?,
                room_id: r.try_get("room_id")?,
                direct: flag(r, "direct")?,
                link_id: r.try_get("link_id")?,
            })
        })
        .await
    }

    async fn guests_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        let sql = "SELECT u.org_id, u.id FROM users u JOIN guests g ON g.user_id = u.id WHERE u.created_at < $1";
        self.all(sql, &[&before], |r| Ok((r.try_get(0)?, r.try_get(1)?))).await
    }
}
