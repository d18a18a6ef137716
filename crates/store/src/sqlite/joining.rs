//! SQLite implementation of [`crate::JoiningStore`].

use async_trait::async_trait;
use rusqlite::params;

use super::*;

#[async_trait]
impl crate::JoiningStore for SqliteStore {
    async fn insert_invitation(&self, invitation: &InvitationRow) -> Result<()> {
        let i = invitation.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO invitations (id, org_id, token_hash, email_index, role, details, invited_by, created_at, expires_at, used_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![i.id, i.org_id, i.token_hash, i.email_index, i.role, i.details, i.invited_by, i.created_at, i.expires_at, i.used_at, i.revoked_at])?;
            Ok(())
        })
        .await
    }

    async fn update_invitation(&self, invitation: &InvitationRow) -> Result<bool> {
        let i = invitation.clone();
        self.with(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE invitations SET token_hash = ?3, role = ?4, details = ?5, created_at = ?6, expires_at = ?7,
                     used_at = ?8, revoked_at = ?9 WHERE org_id = ?1 AND id = ?2",
                )?
                .execute(params![i.org_id, i.id, i.token_hash, i.role, i.details, i.created_at, i.expires_at, i.used_at, i.revoked_at])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn invitations(&self, org: OrgId<'_>) -> Result<Vec<InvitationRow>> {
        let org = org.0.to_owned();
        self.with(move |c| all(c, "SELECT * FROM invitations WHERE org_id = ?1 ORDER BY created_at DESC", [&org], invitation_row)).await
    }

    async fn invitation_by_token(&self, token_hash: &[u8]) -> Result<Option<InvitationRow>> {
        let hash = token_hash.to_owned();
        self.with(move |c| one(c, "SELECT * FROM invitations WHERE token_hash = ?1", [&hash], invitation_row)).await
    }

    async fn use_invitation(&self, id: &str, now: i64) -> Result<bool> {
        let id = id.to_owned();
        self.with(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE invitations SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?2",
                )?
                .execute(params![id, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn insert_registration(&self, registration: &RegistrationRow) -> Result<()> {
        let r = registration.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO registrations (user_id, org_id, at, details) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![r.user_id, r.org_id, r.at, r.details])?;
            Ok(())
        })
        .await
    }

    async fn registration(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<RegistrationRow>> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            one(c, "SELECT * FROM registrations WHERE org_id = ?1 AND user_id = ?2", [&org, &user], |r| {
                Ok(RegistrationRow { user_id: r.get("user_id")?, org_id: r.get("org_id")?, at: r.get("at")?, details: r.get("details")? })
            })
        })
        .await
    }

    async fn insert_ticket(&self, ticket: &TicketRow) -> Result<()> {
        let t = ticket.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO support_tickets (id, org_id, user_id, status, details, created_at, updated_at, resolved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![t.id, t.org_id, t.user_id, t.status, t.details, t.created_at, t.updated_at, t.resolved_at])?;
            Ok(())
        })
        .await
    }

    async fn update_ticket(&self, ticket: &TicketRow) -> Result<bool> {
        let t = ticket.clone();
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE support_tickets SET status = ?3, details = ?4, updated_at = ?5, resolved_at = ?6 WHERE org_id = ?1 AND id = ?2")?
                .execute(params![t.org_id, t.id, t.status, t.details, t.updated_at, t.resolved_at])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn tickets(&self, org: OrgId<'_>) -> Result<Vec<TicketRow>> {
        let org = org.0.to_owned();
        self.with(move |c| all(c, "SELECT * FROM support_tickets WHERE org_id = ?1 ORDER BY created_at DESC", [&org], ticket_row)).await
    }

    async fn insert_consent(&self, consent: &ConsentRow) -> Result<()> {
        let c0 = consent.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO consents (id, org_id, user_id, template_version, details, given_at, withdrawn_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![c0.id, c0.org_id, c0.user_id, c0.template_version, c0.details, c0.given_at, c0.withdrawn_at])?;
            Ok(())
        })
        .await
    }

    async fn withdraw_consent(&self, org: OrgId<'_>, user_id: &str, id: &str, now: i64) -> Result<bool> {
        let (org, user, id) = (org.0.to_owned(), user_id.to_owned(), id.to_owned());
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE consents SET withdrawn_at = ?4 WHERE org_id = ?1 AND user_id = ?2 AND id = ?3 AND withdrawn_at IS NULL")?
                .execute(params![org, user, id, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn consents(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<ConsentRow>> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            all(c, "SELECT * FROM consents WHERE org_id = ?1 AND user_id = ?2 ORDER BY given_at DESC, id", [&org, &user], |r| {
                Ok(ConsentRow {
                    id: r.get("id")?,
                    org_id: r.get("org_id")?,
                    user_id: r.get("user_id")?,
                    template_version: r.get("template_version")?,
                    details: r.get("details")?,
                    given_at: r.get("given_at")?,
                    withdrawn_at: r.get("withdrawn_at")?,
                })
            })
        })
        .await
    }

    async fn legal_text(&self, org: OrgId<'_>, kind: &str) -> Result<Option<LegalRow>> {
        let (org, kind) = (org.0.to_owned(), kind.to_owned());
        self.with(move |c| {
            one(c, "SELECT * FROM legal_texts WHERE org_id = ?1 AND kind = ?2 ORDER BY version DESC LIMIT 1", [&org, &kind], |r| {
                Ok(LegalRow {
                    org_id: r.get("org_id")?,
                    kind: r.get("kind")?,
                    version: r.get("version")?,
                    body: r.get("body")?,
                    created_at: r.get("created_at")?,
                    created_by: r.get("created_by")?,
                })
            })
        })
        .await
    }

    async fn insert_legal_text(&self, text: &LegalRow) -> Result<()> {
        let t = text.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO legal_texts (org_id, kind, version, body, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![t.org_id, t.kind, t.version, t.body, t.created_at, t.created_by])
                .map_err(|e| conflict_on_unique(e, "version"))?;
            Ok(())
        })
        .await
    }


    async fn insert_guest_link(&self, link: &GuestLinkRow) -> Result<()> {
        let l = link.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO guest_links (id, org_id, room_id, token_hash, direct, created_by, created_at, expires_at, revoked_at, max_guests)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![l.id, l.org_id, l.room_id, l.token_hash, l.direct, l.created_by, l.created_at, l.expires_at, l.revoked_at, l.max_guests])?;
            Ok(())
        })
        .await
    }

    async fn guest_links(&self, org: OrgId<'_>, room_id: &str) -> Result<Vec<GuestLinkRow>> {
        let (org, room) = (org.0.to_owned(), room_id.to_owned());
        self.with(move |c| all(c, "SELECT * FROM guest_links WHERE org_id = ?1 AND room_id = ?2 ORDER BY created_at DESC", [&org, &room], guest_link_row))
            .await
    }

    async fn guest_link_by_token(&self, token_hash: &[u8]) -> Result<Option<GuestLinkRow>> {
        let hash = token_hash.to_owned();
        self.with(move |c| one(c, "SELECT * FROM guest_links WHERE token_hash = ?1", [&hash], guest_link_row)).await
    }

    async fn revoke_guest_link(&self, org: OrgId<'_>, id: &str, now: i64) -> Result<bool> {
        let (org, id) = (org.0.to_owned(), id.to_owned());
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE guest_links SET revoked_at = ?3 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL")?
                .execute(params![org, id, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn guests_of_link(&self, org: OrgId<'_>, link_id: &str, now: i64) -> Result<(u64, u64)> {
        let (org, link) = (org.0.to_owned(), link_id.to_owned());
        self.with(move |c| {
            Ok(c.query_row(GUESTS_OF_LINK, params![org, link, now], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?.unwrap_or(0) as u64)))?)
        })
        .await
    }

    async fn end_guests_of_link(&self, org: OrgId<'_>, link_id: &str) -> Result<Vec<String>> {
        let (org, link) = (org.0.to_owned(), link_id.to_owned());
        self.with(move |c| {
            let tx = c.transaction()?;
            let guests: Vec<String> = all(&tx, "SELECT user_id FROM guests WHERE org_id = ?1 AND link_id = ?2", [&org, &link], |r| r.get(0))?;
            tx.execute("DELETE FROM sessions WHERE org_id = ?1 AND user_id IN (SELECT user_id FROM guests WHERE org_id = ?1 AND link_id = ?2)", [&org, &link])?;
            tx.commit()?;
            Ok(guests)
        })
        .await
    }

    async fn insert_guest(&self, guest: &GuestRow) -> Result<()> {
        let g = guest.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO guests (user_id, org_id, room_id, direct, link_id) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![g.user_id, g.org_id, g.room_id, g.direct, g.link_id])?;
            Ok(())
        })
        .await
    }

    async fn guest(&self, org: OrgId<'_>, user_id: &str) -> Result<Option<GuestRow>> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            one(c, "SELECT * FROM guests WHERE org_id = ?1 AND user_id = ?2", [&org, &user], |r| {
                Ok(GuestRow {
                    user_id: r.get("user_id")?,
                    org_id: r.get("org_id")?,
                    room_id: r.get("room_id")?,
                    direct: r.get("direct")?,
                    link_id: r.get("link_id")?,
                })
            })
        })
        .await
    }

    async fn guests_before(&self, before: i64) -> Result<Vec<(String, String)>> {
        self.with(move |c| {
            all(c, "SELECT u.org_id, u.id FROM users u JOIN guests g ON g.user_id = u.id WHERE u.created_at < ?1", [before], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .await
    }
}

fn guest_link_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<GuestLinkRow> {
    Ok(GuestLinkRow {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        room_id: row.get("room_id")?,
        token_hash: row.get("token_hash")?,
        direct: row.get("direct")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
        max_guests: row.get("max_guests")?,
    })
}

/// Guests of link `?2` in organisation `?1`, and those with a session valid after `?3`.
const GUESTS_OF_LINK: &str = "SELECT COUNT(*), SUM(EXISTS (SELECT 1 FROM sessions s WHERE s.org_id = g.org_id AND s.user_id = g.user_id AND s.expires_at > ?3))
     FROM guests g WHERE g.org_id = ?1 AND g.link_id = ?2";
