//! The typed values some columns hold: a user's [`Role`] and [`Right`]s, a room's [`RoomKind`].
//! Parsed once where rows are read (parse, don't validate), so no code past the store compares
//! strings; written back as the names the API also uses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::sql::{Cell, FromValue, ToValue, Value};
use crate::Result;

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
    /// The name stored in the database and used by the API.
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
    /// Enter and remove colleagues' absences.
    ManageAbsences,
}

impl Right {
    const ALL: [Right; 5] = [Right::Invite, Right::CreateRooms, Right::SeeAttendance, Right::ManagePrivacy, Right::ManageAbsences];

    /// The right's name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Invite => "invite",
            Right::CreateRooms => "create_rooms",
            Right::SeeAttendance => "see_attendance",
            Right::ManagePrivacy => "manage_privacy",
            Right::ManageAbsences => "manage_absences",
        }
    }
}

/// Rights as the `rights` column holds them: comma separated, sorted, unique.
pub fn rights_to_column(rights: &[Right]) -> String {
    let mut rights = rights.to_vec();
    rights.sort();
    rights.dedup();
    rights.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Parses the `rights` column; unknown names are ignored.
fn rights_from_column(column: &str) -> Vec<Right> {
    column.split(',').filter_map(|name| Right::ALL.into_iter().find(|r| r.as_str() == name)).collect()
}

/// What a room is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A meeting room anyone of the organisation may walk into.
    Meeting,
    /// The reception, where guests arrive.
    Reception,
    /// A user's own office.
    Office,
}

impl RoomKind {
    /// The name stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Meeting => "meeting",
            RoomKind::Reception => "reception",
            RoomKind::Office => "office",
        }
    }

    /// Parses a stored kind; unknown values are meeting rooms.
    pub fn from_name(name: &str) -> Self {
        match name {
            "reception" => RoomKind::Reception,
            "office" => RoomKind::Office,
            _ => RoomKind::Meeting,
        }
    }
}

impl ToValue for Role {
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().to_owned())
    }
}

impl FromValue for Role {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(Role::from_name(cell.text()?))
    }
}

impl ToValue for Vec<Right> {
    fn to_value(&self) -> Value {
        Value::Text(rights_to_column(self))
    }
}

impl FromValue for Vec<Right> {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(rights_from_column(cell.text()?))
    }
}

impl ToValue for RoomKind {
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().to_owned())
    }
}

impl FromValue for RoomKind {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(RoomKind::from_name(cell.text()?))
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

    #[test]
    fn unknown_stored_names_get_the_least_privilege() {
        assert_eq!(Role::from_cell(Cell::Text("root")).unwrap(), Role::Guest);
        assert_eq!(Role::from_cell(Cell::Text("admin")).unwrap(), Role::Admin);
        assert!(Role::from_cell(Cell::Int(1)).is_err(), "a number is not a role");
        assert_eq!(RoomKind::from_cell(Cell::Text("?")).unwrap(), RoomKind::Meeting);
    }
}
