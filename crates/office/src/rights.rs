//! Roles and fine-grained rights, and the signed-in [`Actor`] they belong to.

pub use bureau_store::{Right, Role};

use crate::error::{OfficeError, Result};

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
