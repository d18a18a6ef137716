//! Informed consent: before camera or microphone are used, a participant reads the
//! organisation's consent template (a versioned legal text, kind `consent`), chooses the
//! devices and confirms; the record (who, which version, when, which devices) is stored, the
//! organisation is sent a confirmation, and the consent can be withdrawn at any time.

use bureau_store::vault::Slot;
use bureau_store::{ConsentRow, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{OfficeError, Result};
use crate::mail::{Language, compose};
use crate::Privacy;
use crate::rights::Actor;

/// A consent to give.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveConsent {
    /// The version of the consent template that was shown (0 for the built-in text).
    pub template_version: u32,
    /// The camera may be used.
    pub camera: bool,
    /// The microphone may be used.
    pub microphone: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
struct ConsentDetails {
    camera: bool,
    microphone: bool,
}

/// A consent record as its subject sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConsentView {
    /// Consent id.
    pub id: String,
    /// The template version consented to.
    pub template_version: u32,
    /// The camera may be used.
    pub camera: bool,
    /// The microphone may be used.
    pub microphone: bool,
    /// When, Unix milliseconds.
    pub given_at: i64,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<i64>,
}

fn slot(id: &str) -> Slot<'_> {
    Slot { table: "consents", column: "details", row: id }
}

impl Privacy {
    /// Records a consent to the current template and emails the organisation a confirmation.
    /// A consent to an outdated template version is refused (the text must be read again).
    pub async fn give_consent(&self, actor: &Actor, consent: GiveConsent) -> Result<ConsentView> {
        let current = self.store.legal_text(OrgId(&actor.org_id), "consent").await?.map_or(0, |r| r.version);
        if consent.template_version != current {
            return Err(OfficeError::Invalid { field: "template_version", message: "the consent text has changed; read it again".into() });
        }
        if !consent.camera && !consent.microphone {
            return Err(OfficeError::Invalid { field: "camera", message: "allow the camera, the microphone or both".into() });
        }
        let keys = self.core.keys(&actor.org_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let details = ConsentDetails { camera: consent.camera, microphone: consent.microphone };
        let row = ConsentRow {
            details: keys.seal_json(slot(&id), &details),
            id,
            org_id: actor.org_id.clone(),
            user_id: Some(actor.user_id.clone()),
            template_version: current,
            given_at: self.core.now(),
            withdrawn_at: None,
        };
        self.store.insert_consent(&row).await?;
        self.confirm_consent(actor, &row, &details).await;
        Ok(view(&row, details))
    }

    /// The confirmation for the organisation (its support address, or every administrator).
    /// A mail failure is logged: the consent itself is recorded either way.
    async fn confirm_consent(&self, actor: &Actor, row: &ConsentRow, details: &ConsentDetails) {
        if self.core.mail_allowance(actor).await.is_err() {
            return; // the consent is recorded; the organiser is not mailed in a loop
        }
        let (Ok(org), Ok(me)) = (self.directory.org(actor).await, self.directory.user(actor, &actor.user_id).await) else { return };
        let recipients = self.support.support_recipients(&actor.org_id, &org).await;
        let lang = Language::from_code(&org.language);
        let devices = match (details.camera, details.microphone) {
            (true, true) => lang.pick("camera and microphone", "Kamera und Mikrofon"),
            (true, false) => lang.pick("camera", "Kamera"),
            _ => lang.pick("microphone", "Mikrofon"),
        };
        let body = vec![match lang {
            Language::En => format!("{} ({}) consented to the use of their {devices} (consent text version {}).", me.name, me.email, row.template_version),
            Language::De => format!("{} ({}) hat der Nutzung von {devices} zugestimmt (Einwilligungstext Version {}).", me.name, me.email, row.template_version),
        }];
        for to in recipients {
            let mail = compose(&to, lang.pick("Consent confirmation", "Bestätigung der Einwilligung"), &body, None, &[]);
            if let Err(err) = self.core.mailer.send(mail).await {
                tracing::warn!("consent confirmation failed: {err}");
            }
        }
    }

    /// The actor's consents, newest first.
    pub async fn my_consents(&self, actor: &Actor) -> Result<Vec<ConsentView>> {
        let keys = self.core.keys(&actor.org_id).await?;
        let rows = self.store.consents(OrgId(&actor.org_id), &actor.user_id).await?;
        rows.iter().map(|row| Ok(view(row, keys.open_json(slot(&row.id), &row.details)?))).collect()
    }

    /// Withdraws one of the actor's consents (the browser stops camera and microphone).
    pub async fn withdraw_consent(&self, actor: &Actor, id: &str) -> Result<ConsentView> {
        if !self.store.withdraw_consent(OrgId(&actor.org_id), &actor.user_id, id, self.core.now()).await? {
            return Err(OfficeError::NotFound("active consent"));
        }
        self.my_consents(actor).await?.into_iter().find(|c| c.id == id).ok_or(OfficeError::NotFound("consent"))
    }
}

fn view(row: &ConsentRow, details: ConsentDetails) -> ConsentView {
    ConsentView {
        id: row.id.clone(),
        template_version: row.template_version,
        camera: details.camera,
        microphone: details.microphone,
        given_at: row.given_at,
        withdrawn_at: row.withdrawn_at,
    }
}
