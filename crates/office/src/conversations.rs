//! Group conversations of end-to-end encrypted messaging (docs/messaging.md, "Groups"): named
//! team channels, the chat of each meeting room (made when a member first opens it, joined by
//! whoever opens it after), and who is in them. The server keeps the members and an **epoch** that grows
//! with every change of membership; the members' browsers make a sender key per epoch and send
//! it, sealed, to the devices of that epoch's members only, so a removed member cannot read what
//! follows. The server also refuses a message about a group that goes to anyone who is not a
//! member now, or that names an epoch that is over: a second line of defence, the first being
//! the keys.

use std::collections::BTreeSet;

use bureau_store::vault::Slot;
use bureau_store::{ConversationRow, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::changes::Change;
use crate::error::{OfficeError, Result};
use crate::messaging::Messaging;
use crate::rights::{Actor, Role};

/// Members of one group conversation at most.
pub const MAX_MEMBERS: usize = 200;
/// Group conversations one user is in at most (making or being added to one more is refused).
pub const MAX_CONVERSATIONS_PER_USER: usize = 200;

/// A group conversation to make.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// Its name, e.g. "Launch team" (1–100 characters; sealed at rest).
    pub name: String,
    /// Colleagues to add (user ids); the maker is a member anyway.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A member to add.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The colleague's user id.
    pub user_id: String,
}

/// A group conversation as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConversationView {
    /// Conversation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Grows with every change of membership: messages name the epoch they were sent in.
    pub epoch: i64,
    /// Who made it (absent once their account is erased).
    pub created_by: Option<String>,
    /// The members (user ids), in the order they joined.
    pub members: Vec<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The meeting room whose chat it is (absent for a team channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
}

fn name_slot(id: &str) -> Slot<'_> {
    Slot { table: "conversations", column: "name", row: id }
}

impl Messaging {
    /// Makes a group conversation of the actor with the colleagues named (active members of the
    /// organisation; at most [`MAX_MEMBERS`] in all).
    pub async fn create_conversation(&self, actor: &Actor, new: NewConversation) -> Result<ConversationView> {
        require_member(actor)?;
        let name = crate::profile::valid_name(&new.name)?;
        let mut members: Vec<String> = vec![actor.user_id.clone()];
        for user in new.members {
            if !members.contains(&user) {
                self.check_colleague(actor, &user).await?;
                members.push(user);
            }
        }
        if members.len() > MAX_MEMBERS {
            return Err(OfficeError::Invalid { field: "members", message: format!("a conversation has at most {MAX_MEMBERS} members") });
        }
        for user in &members {
            self.check_room_for(actor, user, "members").await?;
        }
        let row = self.new_row(actor, &name, None).await?;
        self.store.insert_conversation(&row, &members).await?;
        self.core.emit(Change::ConversationsChanged { org_id: actor.org_id.clone(), user_ids: members });
        self.view(&row).await
    }

    /// The chat of a meeting room (`room_id` and `room_name` of a meeting room of the actor's
    /// organisation, which any member may walk into): made with the actor as its first member
    /// when nobody opened it before, and the actor added (a new epoch) when they are not in it.
    pub async fn room_conversation(&self, actor: &Actor, room_id: &str, room_name: &str) -> Result<ConversationView> {
        require_member(actor)?;
        let org = OrgId(&actor.org_id);
        let row = match self.store.room_conversation(org, room_id).await? {
            Some(row) => row,
            None => {
                let row = self.new_row(actor, room_name, Some(room_id)).await?;
                self.check_room_for(actor, &actor.user_id, "room").await?;
                match self.store.insert_conversation(&row, std::slice::from_ref(&actor.user_id)).await {
                    Ok(()) => {
                        self.core.emit(Change::ConversationsChanged { org_id: actor.org_id.clone(), user_ids: vec![actor.user_id.clone()] });
                        tracing::info!(org_id = %actor.org_id, conversation_id = %row.id, "room conversation made");
                        return self.view(&row).await;
                    }
                    // Someone else opened it at the same moment: theirs is the room's.
                    Err(bureau_store::StoreError::Conflict(_)) => self.store.room_conversation(org, room_id).await?.ok_or(OfficeError::NotFound("conversation"))?,
                    Err(err) => return Err(err.into()),
                }
            }
        };
        let view = self.view(&row).await?;
        if view.members.contains(&actor.user_id) {
            return Ok(view);
        }
        if view.members.len() >= MAX_MEMBERS {
            return Err(OfficeError::Invalid { field: "room", message: format!("the room's chat has {MAX_MEMBERS} members already") });
        }
        self.check_room_for(actor, &actor.user_id, "room").await?;
        self.change(actor, view, &[actor.user_id.clone()], &[]).await
    }

    /// The group conversations the actor is a member of.
    pub async fn conversations(&self, actor: &Actor) -> Result<Vec<ConversationView>> {
        require_member(actor)?;
        let mut out = Vec::new();
        for row in self.store.conversations_of(OrgId(&actor.org_id), &actor.user_id).await? {
            out.push(self.view(&row).await?);
        }
        Ok(out)
    }

    /// One group conversation of the actor (not found for anyone else).
    pub async fn conversation(&self, actor: &Actor, id: &str) -> Result<ConversationView> {
        require_member(actor)?;
        let (row, members) = self.membership(&actor.org_id, id).await?;
        if !members.contains(&actor.user_id) {
            return Err(OfficeError::NotFound("conversation"));
        }
        Ok(ConversationView { members, ..self.view(&row).await? })
    }

    /// Adds a colleague to a conversation of the actor: a new epoch begins.
    pub async fn add_member(&self, actor: &Actor, id: &str, user_id: &str) -> Result<ConversationView> {
        let before = self.conversation(actor, id).await?;
        if before.members.iter().any(|m| m == user_id) {
            return Ok(before);
        }
        self.check_colleague(actor, user_id).await?;
        if before.members.len() >= MAX_MEMBERS {
            return Err(OfficeError::Invalid { field: "user_id", message: format!("a conversation has at most {MAX_MEMBERS} members") });
        }
        self.check_room_for(actor, user_id, "user_id").await?;
        self.change(actor, before, &[user_id.to_owned()], &[]).await
    }

    /// Removes a member: themselves (leaving), or anyone when the actor made the conversation or
    /// is an administrator. A new epoch begins, whose keys the removed member never gets.
    pub async fn remove_member(&self, actor: &Actor, id: &str, user_id: &str) -> Result<ConversationView> {
        let before = self.conversation(actor, id).await?;
        if !before.members.iter().any(|m| m == user_id) {
            return Err(OfficeError::NotFound("member"));
        }
        let allowed = user_id == actor.user_id || before.created_by.as_deref() == Some(actor.user_id.as_str()) || actor.is_admin();
        if !allowed {
            return Err(OfficeError::Forbidden);
        }
        self.change(actor, before, &[], &[user_id.to_owned()]).await
    }

    /// Checks a message about a group conversation before it is queued: the sender is a member,
    /// every recipient device belongs to a member, and a group message names the current epoch.
    /// Conversation ids that are not group conversations (direct ones) pass.
    pub(crate) async fn check_group_message(&self, actor: &Actor, conversation_id: &str, epoch: Option<i64>, recipients: &BTreeSet<String>) -> Result<()> {
        let Some(row) = self.store.conversation(OrgId(&actor.org_id), conversation_id).await? else {
            return match epoch {
                Some(_) => Err(OfficeError::Invalid { field: "header", message: "names a group conversation that does not exist".into() }),
                None => Ok(()),
            };
        };
        let members: BTreeSet<String> = self.store.conversation_members(OrgId(&actor.org_id), &row.id).await?.into_iter().collect();
        if !members.contains(&actor.user_id) {
            return Err(OfficeError::Invalid { field: "header", message: "names a group conversation you are not a member of".into() });
        }
        if epoch.is_some_and(|e| e != row.epoch) {
            return Err(OfficeError::Invalid { field: "header", message: format!("names an epoch that is over: the conversation is in epoch {}", row.epoch) });
        }
        if !recipients.is_subset(&members) {
            return Err(OfficeError::Invalid { field: "keys", message: "goes to a device of someone who is not a member of the conversation".into() });
        }
        Ok(())
    }

    async fn change(&self, actor: &Actor, before: ConversationView, add: &[String], remove: &[String]) -> Result<ConversationView> {
        self.store.change_members(OrgId(&actor.org_id), &before.id, add, remove, self.core.now()).await?;
        let mut told: BTreeSet<String> = before.members.iter().cloned().collect();
        told.extend(add.iter().cloned());
        self.core.emit(Change::ConversationsChanged { org_id: actor.org_id.clone(), user_ids: told.into_iter().collect() });
        tracing::info!(org_id = %actor.org_id, conversation_id = %before.id, added = add.len(), removed = remove.len(), "conversation members changed");
        if remove.iter().any(|u| u == &actor.user_id) {
            // The actor left: they see it no more; the last one out deletes it.
            let (row, members) = self.membership(&actor.org_id, &before.id).await?;
            if members.is_empty() {
                self.store.delete_conversation(OrgId(&actor.org_id), &before.id).await?;
            }
            return Ok(ConversationView { members, ..self.view(&row).await? });
        }
        self.conversation(actor, &before.id).await
    }

    /// A new conversation made by the actor, in its first epoch, its name sealed.
    async fn new_row(&self, actor: &Actor, name: &str, room_id: Option<&str>) -> Result<ConversationRow> {
        let keys = self.core.keys(&actor.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        Ok(ConversationRow {
            name: keys.seal(name_slot(&id), name.as_bytes()),
            id,
            org_id: actor.org_id.clone(),
            epoch: 1,
            created_by: Some(actor.user_id.clone()),
            created_at: self.core.now(),
            room_id: room_id.map(str::to_owned),
        })
    }

    async fn membership(&self, org_id: &str, id: &str) -> Result<(ConversationRow, Vec<String>)> {
        let row = self.store.conversation(OrgId(org_id), id).await?.ok_or(OfficeError::NotFound("conversation"))?;
        let members = self.store.conversation_members(OrgId(org_id), id).await?;
        Ok((row, members))
    }

    async fn view(&self, row: &ConversationRow) -> Result<ConversationView> {
        let keys = self.core.keys(&row.org_id).await?;
        let name = keys.open(name_slot(&row.id), &row.name).ok().and_then(|n| String::from_utf8(n).ok()).ok_or(OfficeError::Tampered)?;
        let members = self.store.conversation_members(OrgId(&row.org_id), &row.id).await?;
        Ok(ConversationView { id: row.id.clone(), name, epoch: row.epoch, created_by: row.created_by.clone(), members, created_at: row.created_at, room_id: row.room_id.clone() })
    }

    /// Refuses a new membership for a user already in [`MAX_CONVERSATIONS_PER_USER`].
    async fn check_room_for(&self, actor: &Actor, user_id: &str, field: &'static str) -> Result<()> {
        if self.store.conversations_of(OrgId(&actor.org_id), user_id).await?.len() >= MAX_CONVERSATIONS_PER_USER {
            let whose = if user_id == actor.user_id { "you are" } else { "this colleague is" };
            return Err(OfficeError::Invalid { field, message: format!("{whose} in {MAX_CONVERSATIONS_PER_USER} conversations already; leave one first") });
        }
        Ok(())
    }

    /// An active, unrestricted member of the actor's organisation (not a guest).
    async fn check_colleague(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let user = self.core.store.user(OrgId(&actor.org_id), user_id).await?;
        match user {
            Some(u) if u.active && !u.restricted && u.role != Role::Guest => Ok(()),
            _ => Err(OfficeError::Invalid { field: "members", message: format!("{user_id} is not an active colleague of this organisation") }),
        }
    }
}

fn require_member(actor: &Actor) -> Result<()> {
    if actor.role == Role::Guest { Err(OfficeError::Forbidden) } else { Ok(()) }
}
