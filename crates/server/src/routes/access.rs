//! Who may call what: every API route with the callers it admits, in one table ([`api_routes`])
//! that the router is built from. Each route's handler sits behind [`guard`], which signs the
//! caller in and refuses those the route does not admit before the handler runs; a route
//! cannot be added without saying who may call it. The domain checks finer things still (whose
//! record, which room), but a guest never reaches a member's handler.
//!
//! `docs/api.md` carries the table (a unit test keeps it true); a test checks it against every route
//! of the OpenAPI document with no session, a guest's, a member's and an admin's.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use bureau_office::{Actor, OfficeError, Right, Role};

use super::{absences, auth, calendar, conversations, joining, message_files, messaging, ops, privacy, rooms, two_factor, users};
use crate::AppState;
use crate::error::ApiError;
use crate::session::Session;

/// The callers a route admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in, links, public texts).
    Anyone,
    /// Anyone signed in, guests included: what a guest in a room needs.
    Guest,
    /// Members and administrators.
    Member,
    /// Administrators and members holding the right.
    Right(Right),
    /// Administrators.
    Admin,
}

impl Access {
    /// Whether `actor` may call a route with this access.
    pub fn admits(self, actor: &Actor) -> bool {
        match self {
            Access::Anyone | Access::Guest => true,
            Access::Member => actor.role != Role::Guest,
            Access::Right(right) => actor.role != Role::Guest && actor.can(right),
            Access::Admin => actor.is_admin(),
        }
    }

    /// How `docs/api.md` names it.
    pub fn label(self) -> String {
        match self {
            Access::Anyone => "anyone".into(),
            Access::Guest => "guest".into(),
            Access::Member => "member".into(),
            Access::Right(right) => format!("right `{}`", right.as_str()),
            Access::Admin => "admin".into(),
        }
    }
}

/// One route of the API (under `/api`).
pub struct ApiRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path below `/api`, in axum's syntax (`/users/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The handler, for this method only.
    handler: MethodRouter<Arc<AppState>>,
}

fn route(method: Method, path: &'static str, access: Access, handler: MethodRouter<Arc<AppState>>) -> ApiRoute {
    ApiRoute { method, path, access, handler }
}

/// Every API route with its access. Guests get what a guest in a room needs: themselves, their
/// consents and data, the legal texts, the signaling socket and colleagues' pictures.
pub fn api_routes() -> Vec<ApiRoute> {
    use Access::{Admin, Anyone, Guest, Member};
    use Method as M;
    let right = Access::Right;
    vec![
        route(M::POST, "/auth/login", Anyone, post(auth::login)),
        route(M::POST, "/auth/logout", Anyone, post(auth::logout)),
        route(M::POST, "/auth/second-factor", Anyone, post(two_factor::second_factor)),
        route(M::POST, "/auth/enrol-totp", Anyone, post(two_factor::enrol_totp)),
        route(M::POST, "/setup/check", Anyone, post(auth::setup_check)),
        route(M::POST, "/setup", Anyone, post(auth::setup)),
        route(M::POST, "/register/check", Anyone, post(joining::check)),
        route(M::POST, "/register", Anyone, post(joining::register)),
        route(M::POST, "/guest/check", Anyone, post(joining::guest_check)),
        route(M::POST, "/guest/join", Anyone, post(joining::guest_join)),
        route(M::GET, "/legal", Anyone, get(privacy::legal)),
        route(M::GET, "/calendar/{secret}", Anyone, get(absences::feed)),
        route(M::GET, "/openapi.json", Anyone, get(ops::openapi)),
        route(M::GET, "/me", Guest, get(users::me)),
        route(M::PATCH, "/me", Member, patch(users::patch_me)),
        route(M::POST, "/me/password", Member, post(users::change_password)),
        route(M::DELETE, "/me", Member, delete(users::erase_me)),
        route(M::GET, "/me/export", Guest, get(users::export)),
        route(M::GET, "/me/privacy", Guest, get(privacy::settings)),
        route(M::PATCH, "/me/privacy", Member, patch(privacy::update_settings)),
        route(M::GET, "/me/access-log", Member, get(users::access_log)),
        route(M::PUT, "/me/picture", Member, put(users::put_picture)),
        route(M::DELETE, "/me/picture", Member, delete(users::delete_picture)),
        route(M::GET, "/me/calls", Member, get(rooms::my_calls)),
        route(M::POST, "/me/transfers", Member, post(rooms::report_transfer)),
        route(M::GET, "/me/absences", Member, get(absences::mine)),
        route(M::GET, "/me/calendar-feed", Member, get(absences::feed_status)),
        route(M::POST, "/me/calendar-feed", Member, post(absences::renew_feed)),
        route(M::DELETE, "/me/calendar-feed", Member, delete(absences::remove_feed)),
        route(M::GET, "/me/calendar", Member, get(calendar::mine)),
        route(M::PATCH, "/me/calendar", Member, patch(calendar::settings)),
        route(M::PUT, "/me/calendar/source", Member, put(calendar::connect)),
        route(M::DELETE, "/me/calendar/source", Member, delete(calendar::disconnect)),
        route(M::POST, "/me/calendar/sync", Member, post(calendar::sync)),
        route(M::POST, "/me/calendar/entries", Member, post(calendar::add_entry)),
        route(M::DELETE, "/me/calendar/entries/{id}", Member, delete(calendar::remove_entry)),
        route(M::GET, "/me/devices", Member, get(messaging::mine)),
        route(M::POST, "/me/devices", Member, post(messaging::register)),
        route(M::DELETE, "/me/devices/{id}", Member, delete(messaging::remove)),
        route(M::GET, "/users/{id}/devices", Member, get(messaging::of_user)),
        route(M::POST, "/messages", Member, post(messaging::send)),
        route(M::GET, "/me/devices/{id}/inbox", Member, get(messaging::inbox)),
        route(M::POST, "/me/devices/{id}/inbox/ack", Member, post(messaging::acknowledge)),
        route(M::POST, "/message-files", Member, post(message_files::upload)),
        route(M::GET, "/message-files/{id}", Member, get(message_files::download)),
        route(M::DELETE, "/message-files/{id}", Member, delete(message_files::delete)),
        route(M::GET, "/conversations", Member, get(conversations::mine)),
        route(M::POST, "/rooms/{id}/conversation", Member, post(conversations::of_room)),
        route(M::POST, "/conversations", Member, post(conversations::create)),
        route(M::GET, "/conversations/{id}", Member, get(conversations::one)),
        route(M::POST, "/conversations/{id}/members", Member, post(conversations::add)),
        route(M::DELETE, "/conversations/{id}/members/{user_id}", Member, delete(conversations::remove)),
        route(M::GET, "/absences", Member, get(absences::list)),
        route(M::POST, "/absences", Member, post(absences::create)),
        route(M::DELETE, "/absences/{id}", Member, delete(absences::delete)),
        route(M::GET, "/attendance", Member, get(absences::attendance)),
        route(M::GET, "/attendance/export", right(Right::SeeAttendance), get(absences::attendance_csv)),
        route(M::GET, "/me/2fa", Member, get(two_factor::status)),
        route(M::DELETE, "/me/2fa", Member, delete(two_factor::disable)),
        route(M::POST, "/me/2fa/totp", Member, post(two_factor::start_totp)),
        route(M::POST, "/me/2fa/totp/confirm", Member, post(two_factor::confirm_totp)),
        route(M::POST, "/me/2fa/sms", Member, post(two_factor::start_sms)),
        route(M::POST, "/me/2fa/sms/confirm", Member, post(two_factor::confirm_sms)),
        route(M::GET, "/consents", Guest, get(privacy::consents)),
        route(M::POST, "/consents", Guest, post(privacy::give_consent)),
        route(M::POST, "/consents/{id}/withdraw", Guest, post(privacy::withdraw_consent)),
        route(M::GET, "/ws", Guest, get(crate::live::ws::upgrade)),
        route(M::GET, "/users/{id}/picture", Guest, get(users::picture)),
        route(M::GET, "/users", Member, get(users::list)),
        route(M::GET, "/users/{id}", Member, get(users::get)),
        route(M::GET, "/org", Member, get(users::org)),
        route(M::GET, "/rooms", Member, get(rooms::list)),
        route(M::GET, "/rooms/{id}/guest-links", Member, get(rooms::guest_links)),
        route(M::POST, "/rooms/{id}/guest-links", Member, post(rooms::create_guest_link)),
        route(M::DELETE, "/guest-links/{id}", Member, delete(rooms::revoke_guest_link)),
        route(M::GET, "/support", Member, get(joining::tickets)),
        route(M::POST, "/support", Member, post(joining::open_ticket)),
        route(M::POST, "/support/{id}/answer", Member, post(joining::answer)),
        route(M::POST, "/support/{id}/resolve", Member, post(joining::resolve)),
        route(M::GET, "/privacy/requests", Member, get(privacy::list)),
        route(M::POST, "/privacy/requests", Member, post(privacy::file)),
        route(M::POST, "/privacy/requests/{id}/close", right(Right::ManagePrivacy), post(privacy::close)),
        route(M::GET, "/privacy/audit", right(Right::ManagePrivacy), get(privacy::audit)),
        route(M::GET, "/invitations", right(Right::Invite), get(joining::invitations)),
        route(M::POST, "/invitations", right(Right::Invite), post(joining::invite)),
        route(M::DELETE, "/invitations/{id}", right(Right::Invite), delete(joining::revoke)),
        route(M::POST, "/invitations/{id}/resend", right(Right::Invite), post(joining::resend)),
        route(M::POST, "/rooms", right(Right::CreateRooms), post(rooms::create)),
        route(M::PATCH, "/rooms/{id}", right(Right::CreateRooms), patch(rooms::patch)),
        route(M::DELETE, "/rooms/{id}", right(Right::CreateRooms), delete(rooms::delete)),
        route(M::PUT, "/legal", Admin, put(privacy::set_legal)),
        route(M::PATCH, "/org", Admin, patch(users::patch_org)),
        route(M::POST, "/users", Admin, post(users::create)),
        route(M::PATCH, "/users/{id}", Admin, patch(users::patch)),
        route(M::PUT, "/users/{id}/password", Admin, put(users::set_password)),
        route(M::DELETE, "/users/{id}", Admin, delete(users::erase)),
    ]
}

/// The API router: each route behind the guard for its access.
pub fn api_router(state: &Arc<AppState>) -> axum::Router<Arc<AppState>> {
    api_routes().into_iter().fold(axum::Router::new(), |router, route| {
        let guarded = route.handler.route_layer(middleware::from_fn_with_state((state.clone(), route.access, route.path), guard));
        router.route(route.path, guarded)
    })
}

/// Signs the caller in and refuses those the route does not admit: 401 without a session,
/// 403 for a caller of the wrong kind. The session is handed to the handler, which does not
/// look it up again.
async fn guard(State((state, access, path)): State<(Arc<AppState>, Access, &'static str)>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    if access != Access::Anyone {
        let session = Session::from_headers(&state, request.headers()).await?;
        if !access.admits(&session.actor) {
            return Err(OfficeError::Forbidden.into());
        }
        if session.must_change_password && !serves_a_password_change(request.method(), path) {
            return Err(OfficeError::PasswordChangeRequired.into());
        }
        request.extensions_mut().insert(session);
    }
    Ok(next.run(request).await)
}

/// What a session whose password an administrator chose may do before its user chooses their
/// own: read who they are and their organisation's name, and change the password (signing out
/// needs no session). `path` as in [`api_routes`].
fn serves_a_password_change(method: &Method, path: &str) -> bool {
    matches!((method, path), (&Method::GET, "/me" | "/org") | (&Method::POST, "/me/password"))
}

/// Method, full path (`/api/...`) and access of every API route.
pub fn route_access() -> Vec<(Method, String, Access)> {
    api_routes().into_iter().map(|r| (r.method, format!("/api{}", r.path), r.access)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

/// The table of `docs/api.md`: method, path and who may call it, in the order of [`api_routes`].
fn markdown_table() -> String {
    let mut table = String::from("| method | path | who may call it |\n| --- | --- | --- |\n");
    for route in api_routes() {
        table.push_str(&format!("| {} | `/api{}` | {} |\n", route.method, route.path, route.access.label()));
    }
    table
}

    #[test]
    fn docs_api_md_carries_the_access_table() {
        let docs = include_str!("../../../../docs/api.md");
        assert!(docs.contains(&markdown_table()), "docs/api.md is out of date: paste access::markdown_table() into it:\n{}", markdown_table());
    }

    #[test]
    fn each_method_and_path_is_listed_once() {
        let routes = api_routes();
        for (i, a) in routes.iter().enumerate() {
            assert!(!routes[i + 1..].iter().any(|b| a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
        }
    }

    #[test]
    fn access_levels_admit_whom_they_say() {
        let actor = |role, rights: Vec<Right>| Actor { org_id: "o".into(), user_id: "u".into(), role, rights };
        let guest = actor(Role::Guest, vec![Right::Invite]);
        let member = actor(Role::Member, vec![]);
        let inviter = actor(Role::Member, vec![Right::Invite]);
        let admin = actor(Role::Admin, vec![]);
        let table = [
            (Access::Guest, [true, true, true, true]),
            (Access::Member, [false, true, true, true]),
            (Access::Right(Right::Invite), [false, false, true, true]),
            (Access::Admin, [false, false, false, true]),
        ];
        for (access, expected) in table {
            let admitted = [&guest, &member, &inviter, &admin].map(|a| access.admits(a));
            assert_eq!(admitted, expected, "{access:?}");
        }
    }
}
