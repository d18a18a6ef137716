//! Roles and fine-grained rights, and the signed-in [`Actor`] they belong to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};

/// A user's role in the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the organisation; holds every right.
    Admin,
    /// A colleague.
    Member,
    /// A visitor with access to what they were invited to only.
    Guest,
}

impl Role {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }

    /// Parses a stored role; unknown values get the least privilege.
    pub fn from_name(name: &str) -> Self {
        match name {
            "admin" => Role::Admin,
            "member" => Role::Member,
            _ => Role::Guest,
        }
    }
}

/// A right that can be granted to members on top of their role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    /// Invite people to the organisation.
    Invite,
    /// Create and manage rooms.
    CreateRooms,
    /// See colleagues' attendance times.
    SeeAttendance,
    /// Handle data-subject (privacy) requests.
    ManagePrivacy,
}

impl Right {
    const ALL: [Right; 4] = [Right::Invite, Right::CreateRooms, Right::SeeAttendance, Right::ManagePrivacy];

    /// The right's name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Invite => "invite",
            Right::CreateRooms => "create_rooms",
            Right::SeeAttendance => "see_attendance",
            Right::ManagePrivacy => "manage_privacy",
        }
    }
}

/// Serialises rights for the `rights` column: comma separated, sorted, unique.
pub fn rights_to_column(rights: &[Right]) -> String {
    let mut rights = rights.to_vec();
    rights.sort();
    rights.dedup();
    rights.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Parses the `rights` column; unknown names are ignored.
pub fn rights_from_column(column: &str) -> Vec<Right> {
    column.split(',').filter_map(|name| Right::ALL.into_iter().find(|r| r.as_str() == name)).collect()
}

/// The signed-in user on whose behalf an operation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The organisation the session belongs to; every operation is confined to it.
    pub org_id: String,
    /// The user.
    pub user_id: String,
    /// Their role.
    pub role: Role,
    /// Their extra rights.
    pub rights: Vec<Right>,
}

impl Actor {
    /// Whether the actor is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the actor holds `right` (administrators hold all).
    pub fn can(&self, right: Right) -> bool {
        self.is_admin() || self.rights.contains(&right)
    }

    /// Fails with [`OfficeError::Forbidden`] unless the actor is an administrator.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() { Ok(()) } else { Err(OfficeError::Forbidden) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_column_round_trips_sorted_and_unique() {
        let column = rights_to_column(&[Right::ManagePrivacy, Right::Invite, Right::Invite]);
        assert_eq!(column, "invite,manage_privacy");
        assert_eq!(rights_from_column(&column), vec![Right::Invite, Right::ManagePrivacy]);
        assert_eq!(rights_from_column(""), vec![]);
        assert_eq!(rights_from_column("bogus,invite"), vec![Right::Invite]);
    }
}
