//! Invitations by email, registration through the link, and support tickets — with the mails
//! read from the outbox folder that a server without a mail server writes.

use serde_json::{Value, json};

use crate::{Running, call};

/// Every email in the outbox, decoded from quoted-printable, oldest first.
fn outbox(server: &Running) -> Vec<String> {
    let dir = server.data_dir.join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.iter().map(|f| decode_quoted_printable(&std::fs::read_to_string(f).unwrap())).collect()
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token_in(mail: &str) -> String {
    let start = mail.find("/register#token=").expect("a registration link") + "/register#token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test]
async fn an_invitation_mail_registers_a_user_who_can_sign_in() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (status, invitation) = call(admin.post(server.url("/api/invitations")).json(&json!({"name": "Nora Neu", "email": "nora@example.org"}))).await;
    assert_eq!(status, 201, "{invitation}");
    assert_eq!(invitation["status"], "pending");

    let mails = outbox(&server);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: nora@example.org"), "{}", mails[0]);
    assert!(mails[0].contains("/privacy") && mails[0].contains("/terms"), "links to the policy and terms");
    let token = token_in(&mails[0]);

    let anonymous = Running::client();
    let (status, info) = call(anonymous.post(server.url("/api/register/check")).json(&json!({"token": token}))).await;
    assert_eq!((status, info["email"].as_str(), info["name"].as_str()), (200, Some("nora@example.org"), Some("Nora Neu")));
    let (status, err) = call(anonymous.post(server.url("/api/register")).json(&json!({"token": token, "password": "nora password 1", "accept_terms": false}))).await;
    assert_eq!((status, err["field"].as_str()), (422, Some("accept_terms")));
    let (status, registered) = call(anonymous.post(server.url("/api/register")).json(&json!({"token": token, "password": "nora password 1", "accept_terms": true}))).await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["user"]["role"], "member");
    let (status, me) = call(anonymous.get(server.url("/api/me"))).await;
    assert_eq!((status, me["email"].as_str()), (200, Some("nora@example.org")));

    // The link worked once; the password signs in.
    let (status, err) = call(Running::client().post(server.url("/api/register")).json(&json!({"token": token, "password": "other password", "accept_terms": true}))).await;
    assert_eq!((status, err["code"].as_str()), (410, Some("invalid_token")));
    let (status, _) = call(Running::client().post(server.url("/api/auth/login")).json(&json!({"email": "nora@example.org", "password": "nora password 1"}))).await;
    assert_eq!(status, 200);
    let (_, list) = call(admin.get(server.url("/api/invitations"))).await;
    assert_eq!(list["invitations"][0]["status"], "accepted");
    server.stop().await;
}

#[tokio::test]
async fn invitations_can_be_resent_and_revoked_by_admins_only() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    let (_, invitation) = call(admin.post(server.url("/api/invitations")).json(&json!({"name": "Otto", "email": "otto@example.org"}))).await;
    let id = invitation["id"].as_str().unwrap();
    let first = token_in(&outbox(&server)[0]);
    let (status, _) = call(admin.post(server.url(&format!("/api/invitations/{id}/resend"))).json(&json!({}))).await;
    assert_eq!(status, 200);
    let second = token_in(&outbox(&server)[1]);
    assert_ne!(first, second);
    let check = |token: String| Running::client().post(server.url("/api/register/check")).json(&json!({"token": token}));
    assert_eq!(call(check(first)).await.0, 410, "the old link stops working");
    assert_eq!(call(check(second.clone())).await.0, 200);
    let (status, revoked) = call(admin.delete(server.url(&format!("/api/invitations/{id}"))).json(&json!({}))).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    assert_eq!(call(check(second)).await.0, 410);

    // Inviting an existing user's email is a conflict; members without the right may not invite.
    let (status, err) = call(admin.post(server.url("/api/invitations")).json(&json!({"name": "Ada", "email": "ada@example.org"}))).await;
    assert_eq!((status, err["field"].as_str()), (409, Some("email")));
    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Mia", "email": "mia@example.org", "password": "mia password 1"}))).await;
    let mia = Running::client();
    call(mia.post(server.url("/api/auth/login")).json(&json!({"email": "mia@example.org", "password": "mia password 1"}))).await;
    let (status, _) = call(mia.post(server.url("/api/invitations")).json(&json!({"name": "X", "email": "x@example.org"}))).await;
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn support_tickets_reach_admins_and_answers_reach_the_author() {
    let mut server = Running::start().await;
    let admin = server.admin().await;
    call(admin.post(server.url("/api/users")).json(&json!({"must_change_password": false, "name": "Mia", "email": "mia@example.org", "password": "mia password 1"}))).await;
    let mia = Running::client();
    call(mia.post(server.url("/api/auth/login")).json(&json!({"email": "mia@example.org", "password": "mia password 1"}))).await;

    let (status, ticket) = call(mia.post(server.url("/api/support")).json(&json!({"subject": "Camera", "message": "My camera is black."}))).await;
    assert_eq!(status, 201, "{ticket}");
    let mails = outbox(&server);
    assert!(mails.iter().any(|m| m.contains("To: ada@example.org") && m.contains("My camera is black.")), "admins are notified");

    let (_, list) = call(admin.get(server.url("/api/support"))).await;
    assert_eq!(list["tickets"].as_array().unwrap().len(), 1);
    let id = ticket["id"].as_str().unwrap();
    let (status, answered) = call(admin.post(server.url(&format!("/api/support/{id}/answer"))).json(&json!({"message": "Try another browser."}))).await;
    assert_eq!(status, 200, "{answered}");
    assert!(outbox(&server).iter().any(|m| m.contains("To: mia@example.org") && m.contains("Try another browser.")));
    let (status, _) = call(mia.post(server.url(&format!("/api/support/{id}/answer"))).json(&json!({"message": "Me too"}))).await;
    assert_eq!(status, 403, "only admins answer");
    let (status, resolved) = call(mia.post(server.url(&format!("/api/support/{id}/resolve"))).json(&json!({}))).await;
    assert_eq!((status, resolved["status"].as_str()), (200, Some("resolved")));
    let messages: &Vec<Value> = resolved["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    server.stop().await;
}
