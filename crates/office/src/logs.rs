//! Metadata logs of the live office: calls (who, when, how long, where) and peer-to-peer
//! transfers (from, to, when, size). The contents never reach the server.

use bureau_store::{CallLogRow, OrgId, TransferRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::rights::Actor;
use crate::Rooms;

/// One call in a user's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallEntry {
    /// The call (or room session) id.
    pub call_id: String,
    /// The room, or `None` for a one-to-one call.
    pub room_id: Option<String>,
    /// When the second participant arrived, Unix milliseconds.
    pub started_at: i64,
    /// How long at least two participants were together, in milliseconds.
    pub duration_ms: i64,
    /// Every participant's user id.
    pub participants: Vec<String>,
}

/// What kind of transfer a client reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// A direct message.
    Message,
    /// A file.
    File,
}

/// A transfer report from the sending browser.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferReport {
    /// The recipient's user id.
    pub to_user: String,
    /// Message or file.
    pub kind: TransferKind,
    /// Size in bytes.
    pub size: u64,
}

/// A finished call or room session, as the signaling hub reports it.
#[derive(Clone, Debug)]
pub struct FinishedCall {
    /// The organisation.
    pub org_id: String,
    /// The call or session id.
    pub call_id: String,
    /// The room, if any.
    pub room_id: Option<String>,
    /// Start, Unix milliseconds.
    pub started_at: i64,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Participants' user ids.
    pub participants: Vec<String>,
}

impl Rooms {
    /// Stores a finished call. Participants who objected to call logs appear anonymously.
    pub async fn record_call(&self, call: FinishedCall) -> Result<()> {
        let mut participants = Vec::with_capacity(call.participants.len());
        for user_id in call.participants {
            let objected = match self.core.store.user(OrgId(&call.org_id), &user_id).await? {
                Some(row) => crate::privacy::objections_from(&row.objections).contains(&crate::Objection::CallLogs),
                None => false,
            };
            participants.push(if objected { format!("anonymous-{}", uuid::Uuid::new_v4().simple()) } else { user_id });
        }
        let call = FinishedCall { participants, ..call };
        let row = CallLogRow {
            id: call.call_id,
            org_id: call.org_id,
            room_id: call.room_id,
            started_at: call.started_at,
            duration_ms: call.duration_ms,
            participants: call.participants,
        };
        Ok(self.store.insert_call_log(&row).await?)
    }

    /// The actor's own call history, newest first.
    pub async fn my_calls(&self, actor: &Actor) -> Result<Vec<CallEntry>> {
        let rows = self.store.user_calls(OrgId(&actor.org_id), &actor.user_id).await?;
        Ok(rows
            .into_iter()
            .map(|r| CallEntry {
                call_id: r.id,
                room_id: r.room_id,
                started_at: r.started_at,
                duration_ms: r.duration_ms,
                participants: r.participants,
            })
            .collect())
    }

    /// Records that the actor sent a message or file to a colleague.
    pub async fn record_transfer(&self, actor: &Actor, report: TransferReport) -> Result<()> {
        if self.core.store.user(OrgId(&actor.org_id), &report.to_user).await?.is_none() {
            return Err(OfficeError::Invalid { field: "to_user", message: "is not a user of your organisation".into() });
        }
        let size = i64::try_from(report.size).map_err(|_| OfficeError::Invalid { field: "size", message: "is too large".into() })?;
        let row = TransferRow {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: actor.org_id.clone(),
            from_user: actor.user_id.clone(),
            to_user: report.to_user,
            kind: match report.kind {
                TransferKind::Message => "message".into(),
                TransferKind::File => "file".into(),
            },
            size,
            at: self.core.now(),
        };
        Ok(self.store.insert_transfer(&row).await?)
    }
}
