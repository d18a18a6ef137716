//! The live office: rooms, and the metadata logs of calls and peer-to-peer transfers ([`crate::RoomsStore`]).

use async_trait::async_trait;

use super::{SqlStore, row};
use crate::sql::{boxed, params};
use crate::*;

row!(room_row, ROOM_COLUMNS, RoomRow { id, org_id, kind, capacity, name, created_at, large });
row!(transfer_row, TRANSFER_COLUMNS, TransferRow { id, org_id, from_user, to_user, kind, size, at });

#[async_trait]
impl RoomsStore for SqlStore {
    async fn rooms(&self, org: OrgId<'_>) -> Result<Vec<RoomRow>> {
        self.db.all(format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE org_id = $1 ORDER BY created_at, id"), params![org.0], room_row).await
    }

    async fn insert_room(&self, r: &RoomRow) -> Result<()> {
        let sql = "INSERT INTO rooms (id, org_id, kind, capacity, name, created_at, large) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.db.execute(sql, params![r.id, r.org_id, r.kind, r.capacity, r.name, r.created_at, r.large]).await.map(drop)
    }

    async fn update_room(&self, r: &RoomRow) -> Result<bool> {
        let sql = "UPDATE rooms SET capacity = $3, name = $4, large = $5, kind = $6 WHERE org_id = $1 AND id = $2";
        Ok(self.db.execute(sql, params![r.org_id, r.id, r.capacity, r.name, r.large, r.kind]).await? == 1)
    }

    async fn delete_room(&self, org: OrgId<'_>, id: &str) -> Result<bool> {
        Ok(self.db.execute("DELETE FROM rooms WHERE org_id = $1 AND id = $2", params![org.0, id]).await? == 1)
    }

    async fn insert_call_log(&self, call: &CallLogRow) -> Result<()> {
        let call = call.clone();
        self.db
            .transaction(move |tx| {
                boxed(async move {
                    let sql = "INSERT INTO call_logs (id, org_id, room_id, started_at, duration_ms) VALUES ($1, $2, $3, $4, $5)";
                    tx.execute(sql, params![call.id, call.org_id, call.room_id, call.started_at, call.duration_ms]).await?;
                    for user in &call.participants {
                        let sql = "INSERT INTO call_participants (call_id, org_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
                        tx.execute(sql, params![call.id, call.org_id, user]).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn user_calls(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<CallLogRow>> {
        let sql = "SELECT l.id, l.org_id, l.room_id, l.started_at, l.duration_ms, string_agg(p2.user_id, ',')
                   FROM call_participants p JOIN call_logs l ON l.id = p.call_id
                   JOIN call_participants p2 ON p2.call_id = l.id
                   WHERE p.org_id = $1 AND p.user_id = $2 AND l.org_id = $1
                   GROUP BY l.id ORDER BY l.started_at DESC";
        self.db
            .all(sql, params![org.0, user_id], |r| {
                Ok(CallLogRow {
                    id: r.get()?,
                    org_id: r.get()?,
                    room_id: r.get()?,
                    started_at: r.get()?,
                    duration_ms: r.get()?,
                    participants: r.get::<String>()?.split(',').map(str::to_owned).collect(),
                })
            })
            .await
    }

    async fn insert_transfer(&self, t: &TransferRow) -> Result<()> {
        let sql = "INSERT INTO transfer_logs (id, org_id, from_user, to_user, kind, size, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        self.db.execute(sql, params![t.id, t.org_id, t.from_user, t.to_user, t.kind, t.size, t.at]).await.map(drop)
    }

    async fn user_transfers(&self, org: OrgId<'_>, user_id: &str) -> Result<Vec<TransferRow>> {
        // Transfers of the same millisecond: the later insert first.
        let order = self.db.engine().insertion_order();
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfer_logs WHERE org_id = $1 AND (from_user = $2 OR to_user = $2) ORDER BY at DESC, {order} DESC");
        self.db.all(sql, params![org.0, user_id], transfer_row).await
    }
}
