//! PostgreSQL implementation of [`crate::OfficeStore`].

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PostgresStore;
use crate::{CallLogRow, OrgId, Result, RoomRow, TransferRow};

fn room_row(row: &Row) -> Result<RoomRow> {
    Ok(RoomRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        kind: row.try_get("kind")?,
        capacity: row.try_get("capacity")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl crate::OfficeStore for PostgresStore {
    async fn rooms(&self, org: OrgId<'_>) -> Result<Vec<RoomRow>> {
        self.all("SELECT * FROM rooms WHERE org_id = $1 ORDER BY created_at, id", &[&org.0], room_row).await
    }

    async fn insert_room(&self, r: &RoomRow) -> Result<()> {
        let sql = "INSERT INTO rooms (id, org_id, kind, capacity, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        self.execute(sql, &[&r.id, &r.org_id, &r.kind, &r.capacity, &r.name, &r.created_at]).await.map(drop)
    }

    async fn update_room(&self, r: &RoomRow) -> Result<bool> {
        let sql = "UPDATE rooms SET capacity = $3, name = $4 WHERE org_id = $1 AND id = $2";
        Ok(self.execute(sql, &[&r.org_id, &r.id, &r.capacity, &r.name]).await? == 1)
    }

    async fn delete_room(&self, org: OrgId<'_>, id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM rooms WHERE org_id = $1 AND id = $2", &[&org.0, &id]).await? == 1)
    }

    async fn insert_call_log(&self, call: &CallLogRow) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO call_logs (id, org_id, room_id, started_at, duration_ms) VALUES ($1, $2, $3, $4, $5)",
            &[&call.id, &call.org_id, &call.room_id, &call.started_at, &call.duration_ms],
        )
        .await?;
        for user in &call.participants {
            tx.execute(
                "INSERT INTO call_participants (call_id, org_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&call.id, &call.org_id, user],
            )
            .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn user_calls(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<CallLogRow>> {
        self.all(
            "SELECT l.id, l.org_id, l.room_id, l.started_at, l.duration_ms, string_agg(p2.user_id, ',') AS participants
             FROM call_participants p JOIN call_logs l ON l.id = p.call_id
             JOIN call_participants p2 ON p2.call_id = l.id
             WHERE p.org_id = $1 AND p.user_id = $2 AND l.org_id = $1
             GROUP BY l.id ORDER BY l.started_at DESC",
            &[&org.0, &user_id],
            |r| {
                let participants: String = r.try_get("participants")?;
                Ok(CallLogRow {
                    id: r.try_get("id")?,
                    org_id: r.try_get("org_id")?,
                    room_id: r.try_get("room_id")?,
                    started_at: r.try_get("started_at")?,
                    duration_ms: r.try_get("duration_ms")?,
                    participants: participants.split(',').map(str::to_owned).collect(),
                })
            },
        )
        .await
    }

    async fn insert_transfer(&self, t: &TransferRow) -> Result<()> {
        let sql = "INSERT INTO transfer_logs (id, org_id, from_user, to_user, kind, size, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.execute(sql, &[&t.id, &t.org_id, &t.from_user, &t.to_user, &t.kind, &t.size, &t.at]).await.map(drop)
    }

    async fn user_transfers(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<TransferRow>> {
        self.all(
            "SELECT * FROM transfer_logs WHERE org_id = $1 AND (from_user = $2 OR to_user = $2) ORDER BY at DESC, ctid DESC",
            &[&org.0, &user_id],
            |r| {
                Ok(TransferRow {
                    id: r.try_get("id")?,
                    org_id: r.try_get("org_id")?,
                    from_user: r.try_get("from_user")?,
                    to_user: r.try_get("to_user")?,
                    kind: r.try_get("kind")?,
                    size: r.try_get("size")?,
                    at: r.try_get("at")?,
                })
            },
        )
        .await
    }
}
