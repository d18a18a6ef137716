//! SQLite implementation of [`crate::OfficeStore`].

use async_trait::async_trait;
use rusqlite::params;

use super::*;

#[async_trait]
impl crate::OfficeStore for SqliteStore {
    async fn rooms(&self, org: OrgId<'_>) -> Result<Vec<RoomRow>> {
        let org = org.0.to_owned();
        self.with(move |c| all(c, "SELECT * FROM rooms WHERE org_id = ?1 ORDER BY created_at, id", [&org], room_row)).await
    }

    async fn insert_room(&self, room: &RoomRow) -> Result<()> {
        let r = room.clone();
        self.with(move |c| {
            c.prepare_cached("INSERT INTO rooms (id, org_id, kind, capacity, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![r.id, r.org_id, r.kind, r.capacity, r.name, r.created_at])?;
            Ok(())
        })
        .await
    }

    async fn update_room(&self, room: &RoomRow) -> Result<bool> {
        let r = room.clone();
        self.with(move |c| {
            let changed = c
                .prepare_cached("UPDATE rooms SET capacity = ?3, name = ?4 WHERE org_id = ?1 AND id = ?2")?
                .execute(params![r.org_id, r.id, r.capacity, r.name])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete_room(&self, org: OrgId<'_>, id: &str) -> Result<bool> {
        let (org, id) = (org.0.to_owned(), id.to_owned());
        self.with(move |c| Ok(c.prepare_cached("DELETE FROM rooms WHERE org_id = ?1 AND id = ?2")?.execute([org, id])? == 1)).await
    }

    async fn insert_call_log(&self, call: &CallLogRow) -> Result<()> {
        let call = call.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO call_logs (id, org_id, room_id, started_at, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![call.id, call.org_id, call.room_id, call.started_at, call.duration_ms],
            )?;
            for user in &call.participants {
                tx.execute(
                    "INSERT OR IGNORE INTO call_participants (call_id, org_id, user_id) VALUES (?1, ?2, ?3)",
                    params![call.id, call.org_id, user],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn user_calls(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<CallLogRow>> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            let calls = all(
                c,
                "SELECT l.id, l.org_id, l.room_id, l.started_at, l.duration_ms, group_concat(p2.user_id) AS participants
                 FROM call_participants p JOIN call_logs l ON l.id = p.call_id
                 JOIN call_participants p2 ON p2.call_id = l.id
                 WHERE p.org_id = ?1 AND p.user_id = ?2 AND l.org_id = ?1
                 GROUP BY l.id ORDER BY l.started_at DESC",
                [&org, &user],
                |r| {
                    let participants: String = r.get("participants")?;
                    Ok(CallLogRow {
                        id: r.get("id")?,
                        org_id: r.get("org_id")?,
                        room_id: r.get("room_id")?,
                        started_at: r.get("started_at")?,
                        duration_ms: r.get("duration_ms")?,
                        participants: participants.split(',').map(str::to_owned).collect(),
                    })
                },
            )?;
            Ok(calls)
        })
        .await
    }

    async fn insert_transfer(&self, transfer: &TransferRow) -> Result<()> {
        let t = transfer.clone();
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO transfer_logs (id, org_id, from_user, to_user, kind, size, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![t.id, t.org_id, t.from_user, t.to_user, t.kind, t.size, t.at])?;
            Ok(())
        })
        .await
    }

    async fn user_transfers(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<TransferRow>> {
        let (org, user) = (org.0.to_owned(), user_id.to_owned());
        self.with(move |c| {
            all(
                c,
                "SELECT * FROM transfer_logs WHERE org_id = ?1 AND (from_user = ?2 OR to_user = ?2) ORDER BY at DESC",
                [&org, &user],
                |r| {
                    Ok(TransferRow {
                        id: r.get("id")?,
                        org_id: r.get("org_id")?,
                        from_user: r.get("from_user")?,
                        to_user: r.get("to_user")?,
                        kind: r.get("kind")?,
                        size: r.get("size")?,
                        at: r.get("at")?,
                    })
                },
            )
        })
        .await
    }

}
