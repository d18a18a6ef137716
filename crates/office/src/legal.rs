//! The organisation's privacy policy and terms of use: Markdown the administrators edit, each
//! change a new version; `None` means the client's built-in default text. Readable without
//! signing in, because invitees must see them before they register.

use bureau_store::{LegalRow, OrgId, OrgRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::Privacy;
use crate::rights::Actor;

/// Longest accepted legal text, in characters.
const MAX_CHARS: usize = 100_000;

/// One legal text as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LegalText {
    /// Markdown, or `null` for the built-in default text.
    pub markdown: Option<String>,
    /// Version (0 while never edited).
    pub version: u32,
    /// When it was last changed, Unix milliseconds.
    pub updated_at: Option<i64>,
}

/// The organisation's legal texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LegalTexts {
    /// The organisation (the controller).
    pub org_name: String,
    /// The privacy policy.
    pub privacy: LegalText,
    /// The terms of use.
    pub terms: LegalText,
    /// The consent text shown before camera and microphone are used.
    pub consent: LegalText,
}

/// A change to the legal texts (administrators). `null` returns to the default text.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalPatch {
    /// New privacy policy.
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<String>)]
    pub privacy_markdown: Option<Option<String>>,
    /// New terms of use.
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<String>)]
    pub terms_markdown: Option<Option<String>>,
    /// New consent text (consents given to older versions stay valid; new ones need the new text).
    #[serde(default, deserialize_with = "crate::profile::nullable")]
    #[schema(value_type = Option<String>)]
    pub consent_markdown: Option<Option<String>>,
}

fn text(row: Option<LegalRow>) -> LegalText {
    match row {
        Some(row) => LegalText { markdown: row.body, version: row.version, updated_at: Some(row.created_at) },
        None => LegalText { markdown: None, version: 0, updated_at: None },
    }
}

impl Privacy {
    async fn legal_of(&self, org: &OrgRow) -> Result<LegalTexts> {
        Ok(LegalTexts {
            org_name: org.name.clone(),
            privacy: text(self.store.legal_text(OrgId(&org.id), "privacy").await?),
            terms: text(self.store.legal_text(OrgId(&org.id), "terms").await?),
            consent: text(self.store.legal_text(OrgId(&org.id), "consent").await?),
        })
    }

    /// The legal texts of the organisation with this slug, or of the first one (a public page).
    pub async fn public_legal(&self, org_slug: Option<&str>) -> Result<LegalTexts> {
        let org = match org_slug {
            Some(slug) => self.core.store.org_by_slug(slug).await?,
            None => self.core.store.orgs().await?.into_iter().next(),
        };
        self.legal_of(&org.ok_or(OfficeError::NotFound("organisation"))?).await
    }

    /// The legal texts of the actor's own organisation.
    pub async fn legal(&self, actor: &Actor) -> Result<LegalTexts> {
        self.legal_of(&self.core.org_row(&actor.org_id).await?).await
    }

    /// Saves new versions of the legal texts.
    pub async fn set_legal(&self, actor: &Actor, patch: LegalPatch) -> Result<LegalTexts> {
        actor.require_admin()?;
        let org = self.core.org_row(&actor.org_id).await?;
        let changes = [
            ("privacy", "privacy_markdown", patch.privacy_markdown),
            ("terms", "terms_markdown", patch.terms_markdown),
            ("consent", "consent_markdown", patch.consent_markdown),
        ];
        for (kind, field, change) in changes {
            let Some(body) = change else { continue };
            if let Some(body) = &body
                && (body.trim().is_empty() || body.chars().count() > MAX_CHARS || body.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r'))
            {
                return Err(OfficeError::Invalid { field, message: format!("must be 1 to {MAX_CHARS} characters of text") });
            }
            let version = self.store.legal_text(OrgId(&org.id), kind).await?.map_or(0, |r| r.version) + 1;
            let row = LegalRow {
                org_id: org.id.clone(),
                kind: kind.into(),
                version,
                body,
                created_at: self.core.now(),
                created_by: Some(actor.user_id.clone()),
            };
            self.store.insert_legal_text(&row).await?;
        }
        self.legal_of(&org).await
    }
}
