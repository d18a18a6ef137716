//! The user profile of PRODUCT.md §1: what is stored (sealed), what may be edited by whom, and
//! which fields exist in the organisation's profile mode.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::rights::{Right, Role};

/// Which profile fields an organisation keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProfileMode {
    /// Only name, email and admin status are stored and shown (the default).
    Entry,
    /// The full profile of PRODUCT.md §1.
    Extended,
}

impl ProfileMode {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileMode::Entry => "entry",
            ProfileMode::Extended => "extended",
        }
    }

    /// Parses the stored name; anything unknown is treated as the privacy-preserving default.
    pub fn from_name(name: &str) -> Self {
        if name == "extended" { ProfileMode::Extended } else { ProfileMode::Entry }
    }
}

/// The personal fields of a user, stored as one sealed JSON value per user row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// Email address, normalised (trimmed, lower case).
    pub email: String,
    /// Extended-profile fields; absent in entry mode.
    #[serde(default, skip_serializing_if = "Extended::is_empty")]
    pub extended: Extended,
    /// The row's role, rights and state when it was last written by Bureau, sealed with the
    /// profile: those columns are clear (the database filters on them), so this is what tells
    /// a database edit that made someone an administrator from a real promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

/// What a user may do, as the clear columns of their row say: see [`Profile::grant`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    role: String,
    rights: String,
    active: bool,
}

impl Grant {
    /// The grant the row's clear columns state.
    pub fn of(row: &bureau_store::UserRow) -> Grant {
        // Kept in the names the sealed grants were written with.
        Grant { role: row.role.as_str().to_owned(), rights: bureau_store::rights_to_column(&row.rights), active: row.active }
    }
}

/// The fields that only exist when the organisation uses the extended profile.
/// (Not `deny_unknown_fields`: it is flattened into [`crate::UserView`]; input is [`UserPatch`].)
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extended {
    /// Academic or honorific title, e.g. "Dr.".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Short handle shown in the office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The deputy colleague's user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deputy_id: Option<String>,
    /// Personnel number (admin-owned; shown only to admins and the user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personnel_id: Option<String>,
    /// Role in the company (admin-owned), e.g. "Partner".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_role: Option<String>,
    /// Usual place of work, e.g. "Berlin office".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_location: Option<String>,
    /// Qualification, e.g. "Tax adviser".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
    /// Phone extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_extension: Option<String>,
    /// Mobile phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_mobile: Option<String>,
    /// Usual device, e.g. "Laptop".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Contracted weekly hours in the real office (admin-owned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office_hours_weekly: Option<f32>,
    /// Contracted weekly hours in the home office (admin-owned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_office_hours_weekly: Option<f32>,
}

impl Extended {
    fn is_empty(&self) -> bool {
        self == &Extended::default()
    }
}

/// A change to a user. Absent fields stay as they are; `null` clears an optional field.
/// `role`, `rights`, `active`, `email` and the fields marked admin-owned need an administrator.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// Role (admins only).
    pub role: Option<Role>,
    /// Extra rights (admins only).
    pub rights: Option<Vec<Right>>,
    /// False deactivates the account and ends its sessions (admins only).
    pub active: Option<bool>,
    /// Display name (1–100 characters).
    pub name: Option<String>,
    /// Email address (admins only).
    pub email: Option<String>,
    /// Title.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// Username.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    /// Deputy's user id.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub deputy_id: Option<Option<String>>,
    /// Personnel number (admins only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub personnel_id: Option<Option<String>>,
    /// Company role (admins only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub company_role: Option<Option<String>>,
    /// Work location.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub work_location: Option<Option<String>>,
    /// Qualification.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub qualification: Option<Option<String>>,
    /// Phone extension.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone_extension: Option<Option<String>>,
    /// Mobile phone.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone_mobile: Option<Option<String>>,
    /// Device.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub device: Option<Option<String>>,
    /// Weekly hours in the real office (admins only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f32>)]
    pub office_hours_weekly: Option<Option<f32>>,
    /// Weekly hours in the home office (admins only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f32>)]
    pub home_office_hours_weekly: Option<Option<f32>>,
}

/// Distinguishes an explicit `null` (clear: `Some(None)`) from an absent field (`None`).
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Who is changing a profile, which decides the fields they may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Editor {
    /// The user themself.
    Owner,
    /// An administrator of the organisation.
    Admin,
}

const MAX_TEXT: usize = 200;

impl UserPatch {
    /// Applies the profile part of the patch to `profile`, checking every value, the editor's
    /// rights and the mode. `role`, `rights` and `active` are applied by the directory.
    pub fn apply(self, profile: &mut Profile, editor: Editor, mode: ProfileMode) -> Result<()> {
        if self.role.is_some() || self.rights.is_some() || self.active.is_some() {
            admin_only(editor, "role")?;
        }
        if let Some(name) = self.name {
            profile.name = valid_name(&name)?;
        }
        if let Some(email) = self.email {
            admin_only(editor, "email")?;
            profile.email = normalise_email(&email)?;
        }
        let ext = &mut profile.extended;
        let text_fields = [
            ("title", self.title, &mut ext.title, false),
            ("username", self.username, &mut ext.username, false),
            ("deputy_id", self.deputy_id, &mut ext.deputy_id, false),
            ("personnel_id", self.personnel_id, &mut ext.personnel_id, true),
            ("company_role", self.company_role, &mut ext.company_role, true),
            ("work_location", self.work_location, &mut ext.work_location, false),
            ("qualification", self.qualification, &mut ext.qualification, false),
            ("phone_extension", self.phone_extension, &mut ext.phone_extension, false),
            ("phone_mobile", self.phone_mobile, &mut ext.phone_mobile, false),
            ("device", self.device, &mut ext.device, false),
        ];
        for (field, change, slot, admin_owned) in text_fields {
            let Some(value) = change else { continue };
            extended_only(mode, field)?;
            if admin_owned {
                admin_only(editor, field)?;
            }
            *slot = value.map(|v| valid_text(field, &v)).transpose()?.filter(|v| !v.is_empty());
        }
        let hour_fields = [
            ("office_hours_weekly", self.office_hours_weekly, &mut ext.office_hours_weekly),
            ("home_office_hours_weekly", self.home_office_hours_weekly, &mut ext.home_office_hours_weekly),
        ];
        for (field, change, slot) in hour_fields {
            let Some(value) = change else { continue };
            extended_only(mode, field)?;
            admin_only(editor, field)?;
            if let Some(hours) = value
                && !(0.0..=168.0).contains(&hours)
            {
                return Err(OfficeError::Invalid { field, message: "must be between 0 and 168 hours".into() });
            }
            *slot = value;
        }
        Ok(())
    }
}

fn extended_only(mode: ProfileMode, field: &'static str) -> Result<()> {
    match mode {
        ProfileMode::Extended => Ok(()),
        ProfileMode::Entry => Err(OfficeError::FieldDisabled(field)),
    }
}

fn admin_only(editor: Editor, field: &'static str) -> Result<()> {
    match editor {
        Editor::Admin => Ok(()),
        Editor::Owner => {
            Err(OfficeError::Invalid { field, message: "only an administrator can change this field".into() })
        }
    }
}

fn valid_text(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(OfficeError::Invalid { field, message: format!("must be at most {MAX_TEXT} characters") });
    }
    if value.chars().any(char::is_control) {
        return Err(OfficeError::Invalid { field, message: "must not contain control characters".into() });
    }
    Ok(value.to_owned())
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn valid_name(name: &str) -> Result<String> {
    let name = valid_text("name", name)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(OfficeError::Invalid { field: "name", message: "must be 1 to 100 characters".into() });
    }
    Ok(name)
}

/// Trims and lower-cases an email address and checks its shape (one `@`, a dotted domain).
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let invalid = || OfficeError::Invalid { field: "email", message: "is not a valid email address".into() };
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.contains('@')
        && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> UserPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalise_email("  Alice@Example.COM ").unwrap(), "alice@example.com");
        for bad in ["", "a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@-b.c", "a@b..c", "a\u{7}@b.c"] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn entry_mode_refuses_extended_fields() {
        let mut profile = Profile::default();
        let err = patch(r#"{"title":"Dr."}"#).apply(&mut profile, Editor::Admin, ProfileMode::Entry).unwrap_err();
        assert!(matches!(err, OfficeError::FieldDisabled("title")));
        patch(r#"{"title":"Dr."}"#).apply(&mut profile, Editor::Owner, ProfileMode::Extended).unwrap();
        assert_eq!(profile.extended.title.as_deref(), Some("Dr."));
    }

    #[test]
    fn owners_cannot_change_admin_owned_fields() {
        let mut profile = Profile::default();
        for json in [r#"{"email":"x@y.de"}"#, r#"{"personnel_id":"7"}"#, r#"{"office_hours_weekly":20}"#] {
            assert!(patch(json).apply(&mut profile, Editor::Owner, ProfileMode::Extended).is_err(), "{json}");
            patch(json).apply(&mut profile, Editor::Admin, ProfileMode::Extended).unwrap();
        }
    }

    #[test]
    fn owners_cannot_change_their_role() {
        let mut profile = Profile::default();
        for json in [r#"{"role":"admin"}"#, r#"{"rights":["invite"]}"#, r#"{"active":false}"#] {
            assert!(patch(json).apply(&mut profile, Editor::Owner, ProfileMode::Entry).is_err(), "{json}");
        }
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let mut profile = Profile::default();
        patch(r#"{"device":"Laptop","qualification":"Lawyer"}"#)
            .apply(&mut profile, Editor::Owner, ProfileMode::Extended)
            .unwrap();
        patch(r#"{"device":null}"#).apply(&mut profile, Editor::Owner, ProfileMode::Extended).unwrap();
        assert_eq!(profile.extended.device, None);
        assert_eq!(profile.extended.qualification.as_deref(), Some("Lawyer"));
    }

    #[test]
    fn bad_values_are_refused() {
        let mut profile = Profile::default();
        assert!(serde_json::from_str::<UserPatch>(r#"{"nope":1}"#).is_err(), "unknown field");
        assert!(serde_json::from_str::<UserPatch>(r#"{"name":5}"#).is_err(), "wrong type");
        assert!(patch(r#"{"name":"  "}"#).apply(&mut profile, Editor::Owner, ProfileMode::Entry).is_err());
        let long = format!(r#"{{"device":"{}"}}"#, "x".repeat(201));
        assert!(patch(&long).apply(&mut profile, Editor::Owner, ProfileMode::Extended).is_err());
        let hours = r#"{"home_office_hours_weekly":200}"#;
        assert!(patch(hours).apply(&mut profile, Editor::Admin, ProfileMode::Extended).is_err());
    }
}
