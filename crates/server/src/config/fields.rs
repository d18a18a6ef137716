//! Every configuration key of `bureau serve`, with its default and documentation, and the
//! example file generated from them.

/// One configuration key: its name, default (as TOML text, `None` when unset by default),
/// and documentation.
pub struct Field {
    /// Key in the TOML file, `section.key` for keys in a `[section]`; the environment variable
    /// is `BUREAU_` + the key in upper case with `.` replaced by `_` (e.g. `BUREAU_TURN_LISTEN`).
    pub key: &'static str,
    /// Default value as TOML text.
    pub default: Option<&'static str>,
    /// What the key does.
    pub doc: &'static str,
}

impl Field {
    /// The environment variable that sets this key.
    pub fn env_name(&self) -> String {
        format!("BUREAU_{}", self.key.replace('.', "_").to_uppercase())
    }
}

/// Every key, in the example file's order (top-level keys first, then each section).
pub const FIELDS: &[Field] = &[
    Field { key: "data_dir", default: Some("\"./bureau-data\""), doc: "Folder for the database (SQLite, WAL), the master key file (mode 0600), the TURN secret and the self-signed certificate. Created on first start." },
    Field { key: "database_url", default: None, doc: "PostgreSQL database for several Bureau nodes sharing one office, e.g. \"postgres://bureau@/bureau?host=/run/postgresql\" (unix socket) or \"postgres://bureau:password@127.0.0.1:5432/bureau\". No TLS to PostgreSQL: use a unix socket, loopback or a private network. Every node needs the same master.key in its data folder. Default: the SQLite file in the data folder." },
    Field { key: "listen", default: Some("\"127.0.0.1:8080\""), doc: "Address and port of the plain HTTP listener (for a reverse proxy or local use)." },
    Field { key: "tls_listen", default: Some("\"127.0.0.1:8443\""), doc: "Address and port of the HTTPS listener (TLS 1.2 and 1.3 only)." },
    Field { key: "metrics_listen", default: None, doc: "Address and port of a listener of its own for Prometheus metrics (GET /metrics), e.g. \"127.0.0.1:9640\" or a private address the scraper reaches. Metrics are never served on the public listeners. Default: no metrics listener." },
    Field { key: "public_url", default: None, doc: "The address users open (behind a reverse proxy: the proxy's public address), used in links such as the first-admin setup link and in emails; browsers' requests from this origin are accepted as same-origin. Default: https://<tls_listen> as bound (with 127.0.0.1 or ::1 for an unspecified address such as 0.0.0.0)." },
    Field { key: "trusted_proxies", default: Some("[]"), doc: "Reverse proxies in front of Bureau, as addresses or CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]. Only requests from these addresses have their Forwarded or X-Forwarded-For / X-Forwarded-Host headers believed for the client's address (access log, registrations, rate limits) and the host the client opened. Default: none; the connection's own address is used." },
    Field { key: "tls_cert", default: None, doc: "PEM certificate chain for HTTPS. Default: a self-signed certificate created in the data folder." },
    Field { key: "tls_key", default: None, doc: "PEM private key for tls_cert (required when tls_cert is set)." },
    Field { key: "log", default: Some("\"info\""), doc: "Log filter, e.g. \"info\" or \"bureau_server=debug,info\". Logs never contain personal data." },
    Field { key: "session_ttl_hours", default: Some("168"), doc: "How long a sign-in lasts, in hours (1 to 8760)." },
    Field { key: "org_name", default: Some("\"Bureau\""), doc: "Name of the organisation created on first start (changeable later in the admin page)." },
    Field { key: "org_slug", default: Some("\"default\""), doc: "Short name of the organisation created on first start (a-z, 0-9, -)." },
    Field { key: "max_body_bytes", default: Some("1048576"), doc: "Largest accepted request body in bytes (1 KiB to 64 MiB); larger requests get 413. Files uploaded for end-to-end encrypted messages have their own limit, each organisation's messages_max_file_mb (PATCH /api/org, 1 to 100 MiB, default 25)." },
    Field { key: "smtp_url", default: None, doc: "Mail server for outgoing email, e.g. \"smtp://127.0.0.1:2525\" (no TLS, local relay), \"smtp://user:password@mail.example.org:587?tls=required\" (STARTTLS) or \"smtps://user:password@mail.example.org:465\" (implicit TLS). Default: no mail server; emails are written as .eml files to the outbox folder in the data folder." },
    Field { key: "smtp_ca_file", default: None, doc: "PEM file of a certificate authority (a company's own) that the mail server's certificate may chain to, besides the public roots; only with a TLS smtp_url (smtps:// or ?tls=required). Default: the public roots only." },
    Field { key: "mail_from", default: Some("\"Bureau <bureau@localhost>\""), doc: "Sender of Bureau's emails." },
    Field { key: "web_dir", default: None, doc: "Development only: serve the web client from this folder instead of the copy built into the binary." },
    Field { key: "redis_url", default: None, doc: "Redis server shared by several `bureau serve` nodes (same database, same master key), e.g. \"redis://10.0.0.5:6379/0\" or \"redis+unix:///run/redis/redis.sock\". Presence, rooms, calls and signaling then reach users on whichever node they are connected to, and sign-in rate limits count across nodes. Default: one node, everything in process." },
    Field { key: "http.max_connections", default: Some("20000"), doc: "TCP connections the HTTP and HTTPS listeners hold at once, together (1 to 1000000). At the limit new connections wait in the system's backlog until one ends. Keep it below the process's open-file limit." },
    Field { key: "http.max_connections_per_ip", default: Some("1000"), doc: "TCP connections one client address may hold at once (1 to 1000000); more are closed at once. Addresses in trusted_proxies are exempt (a proxy carries many clients). Each browser holds two or three; when more people than a third of this share one public address (a company NAT) without a trusted proxy in between, raise it." },
    Field { key: "http.header_timeout_secs", default: Some("10"), doc: "Seconds a client may take to send a request's headers, and on a new connection its first bytes (1 to 300); slower connections are closed." },
    Field { key: "cluster.home_lease_ms", default: Some("3000"), doc: "With redis_url: how long an organisation's home node keeps its claim without renewing it; a node that dies is replaced after at most this long (1000 to 60000)." },
    Field { key: "cluster.heartbeat_ms", default: Some("1000"), doc: "With redis_url: how often a node renews its claims and its liveness and checks the other nodes (100 to 10000, at most a third of cluster.home_lease_ms)." },
    Field { key: "retention.interval_minutes", default: Some("60"), doc: "How often the retention job deletes expired data (1 to 1440 minutes)." },
    Field { key: "retention.access_logs_days", default: Some("90"), doc: "Days sign-ins (time, IP address, browser) are kept." },
    Field { key: "retention.call_logs_days", default: Some("365"), doc: "Days call logs (who, when, how long, which room) are kept." },
    Field { key: "retention.transfer_logs_days", default: Some("365"), doc: "Days message and file logs (from, to, when, size) are kept." },
    Field { key: "retention.resolved_tickets_days", default: Some("30"), doc: "Days support tickets are kept after they are resolved." },
    Field { key: "retention.invitations_days", default: Some("30"), doc: "Days invitations are kept after they were used, revoked or expired." },
    Field { key: "retention.deactivated_accounts_days", default: Some("365"), doc: "Days a deactivated account is kept before it is erased (anonymised where colleagues' logs need it)." },
    Field { key: "retention.withdrawn_consents_days", default: Some("1095"), doc: "Days a consent record is kept after it was withdrawn (proof of what was agreed while it held)." },
    Field { key: "retention.audit_log_days", default: Some("730"), doc: "Days entries of the audit log (which administrator read or changed whose data, when) are kept." },
    Field { key: "retention.absences_days", default: Some("90"), doc: "Days absences (vacation and others) are kept after they end." },
    Field { key: "retention.attendance_days", default: Some("90"), doc: "Days attendance times (when each user was present) are kept." },
    Field { key: "retention.calendar_days", default: Some("30"), doc: "Days calendar entries (busy intervals read from users' calendars, entries by hand) are kept after they end." },
    Field { key: "retention.messages_days", default: Some("30"), doc: "Days an end-to-end encrypted message waits for a recipient device that has not fetched it, and an uploaded file of a message (its ciphertext) is kept; then they are deleted unread (the server cannot read them either way). The default of organisations whose administrators have not chosen messages_retention_days (PATCH /api/org)." },
    Field { key: "retention.guests_days", default: Some("30"), doc: "Days a guest account (name, optional email, consents) is kept after the guest joined; then erased." },
    Field { key: "signal.presence_grace_secs", default: Some("15"), doc: "Seconds a user whose last connection dropped still shows as before; reconnecting within them shows no offline flicker (1 to 3600)." },
    Field { key: "signal.ring_timeout_secs", default: Some("30"), doc: "Seconds a call rings before it ends as unanswered (5 to 600)." },
    Field { key: "signal.mesh_cap", default: Some("8"), doc: "Most participants in one room's peer-to-peer mesh (2 to 16): each sends its media to every other." },
    Field { key: "signal.max_connections_per_user", default: Some("10"), doc: "Signaling connections (browser tabs and devices) one user or guest may hold open on a node (1 to 1000); one more is closed with 4005 and the reason." },
    Field { key: "signal.max_connections_per_org", default: Some("50000"), doc: "Signaling connections one organisation may hold open on a node (1 to 1000000), so that one organisation cannot take a shared node; one more is closed with 1013 (try again later)." },
    Field { key: "signal.max_connections", default: Some("100000"), doc: "Signaling connections this node holds at most (1 to 1000000); one more is closed with 1013 (try again later), and the client reconnects with backoff, perhaps to another node." },
    Field { key: "calendar.sync_minutes", default: Some("5"), doc: "How often each connected calendar (CalDAV or ICS subscription) is read again, in minutes (1 to 1440). Only free/busy times are kept." },
    Field { key: "calendar.allow_networks", default: Some("[]"), doc: "Networks (CIDR) users' calendar addresses may point into although they are refused by default, e.g. [\"10.0.0.0/8\"] for a CalDAV server inside the company network. Default: only public addresses, so that nobody can make Bureau reach into its own network." },
    Field { key: "turn.enabled", default: Some("true"), doc: "Run Bureau's own STUN/TURN server inside `bureau serve`." },
    Field { key: "turn.listen", default: Some("\"127.0.0.1:3478\""), doc: "UDP and TCP address of the STUN/TURN server. Use the machine's public address (or 0.0.0.0 with turn.relay_ip) so that browsers elsewhere reach it." },
    Field { key: "turn.realm", default: Some("\"bureau\""), doc: "REALM of the TURN long-term credentials." },
    Field { key: "turn.auth_secret", default: None, doc: "Shared secret for TURN credentials (coturn's static-auth-secret). Default: a random secret kept in the data folder. Set the same value on every `bureau turn` node." },
    Field { key: "turn.relay_ip", default: None, doc: "Address relay sockets bind to. Default: the turn.listen address." },
    Field { key: "turn.relay_ports", default: Some("\"49152-65535\""), doc: "Range of UDP ports for relayed addresses, LOW-HIGH." },
    Field { key: "turn.allow_loopback_peers", default: Some("false"), doc: "Relay to loopback addresses (single-host setups and tests); refused by default like every private range." },
    Field { key: "turn.allow_peers", default: Some("[]"), doc: "Networks (CIDR) relaying may reach although the default policy refuses them, e.g. [\"10.1.0.0/16\"]." },
    Field { key: "turn.tls_listen", default: None, doc: "Address of TURN over TLS (needs turn.cert and turn.key); port 443 gets through most firewalls." },
    Field { key: "turn.cert", default: None, doc: "PEM certificate chain for TURN over TLS." },
    Field { key: "turn.key", default: None, doc: "PEM private key for TURN over TLS." },
    Field { key: "turn.user_quota", default: Some("10"), doc: "Most simultaneous relay allocations per user." },
    Field { key: "turn.total_quota", default: Some("10000"), doc: "Most simultaneous relay allocations in total." },
    Field { key: "turn.bandwidth", default: Some("0"), doc: "Bytes per second one allocation may relay (0: no cap)." },
    Field { key: "turn.moderation_us", default: Some("200"), doc: "Microseconds a busy UDP thread of the TURN server pauses between rounds, so that each round relays several datagrams per system call (at most 10000; 0: never pause). Only threads receiving more than about 4,000 datagrams per second pause; see docs/turn.md." },
    Field { key: "ice.urls", default: Some("[]"), doc: "STUN/TURN URLs handed to browsers, e.g. [\"turn:turn1.example.org:3478?transport=udp\", \"turns:turn1.example.org:443?transport=tcp\"] for separate `bureau turn` nodes sharing turn.auth_secret. Default: the embedded server's address." },
    Field { key: "ice.credential_ttl_secs", default: Some("43200"), doc: "Lifetime of the TURN credentials handed to each connection, in seconds (60 to 604800)." },
    Field { key: "sfu.enabled", default: Some("true"), doc: "Run Bureau's media server (an SFU) inside `bureau serve`: a room that reaches sfu.threshold participants sends its media through it, still end-to-end encrypted (docs/sfu.md). Off, every room stays a peer-to-peer mesh of at most signal.mesh_cap." },
    Field { key: "sfu.listen", default: Some("\"127.0.0.1:3479\""), doc: "UDP address of the media server. Use the machine's public address (or 0.0.0.0 with sfu.public_ip) so that browsers elsewhere reach it; browsers behind strict firewalls reach it through the TURN server." },
    Field { key: "sfu.public_ip", default: None, doc: "The address browsers are told to send media to (the media server's one ICE candidate). Default: the sfu.listen address, which must then not be 0.0.0.0." },
    Field { key: "sfu.threshold", default: Some("5"), doc: "Participants at which a meeting room, reception or office switches from the peer-to-peer mesh to the media server (2 to 100); it switches back when two fewer are left. Calls between two people stay peer to peer. This is the default: an organisation may set its own (sfu_threshold, on the admin page or with PATCH /api/org) and mark rooms large, which use the media server from their first participant on." },
    Field { key: "sfu.max_room_participants", default: Some("100"), doc: "Most participants in one room through the media server (2 to 100: the SDP of a browser in a room of 100 is near its 256 KiB limit); a room's own capacity, when lower, holds." },
    Field { key: "sfu.max_participants", default: Some("500"), doc: "Connections the media server takes at once on this node (1 to 100000); one more is refused with a clear error." },
    Field { key: "sfu.last_n", default: Some("9"), doc: "How many of the most recent speakers' videos each participant receives through the media server (1 to 100); everyone's audio and a shared screen always go round, the others show their picture." },
    Field { key: "sfu.record_to", default: None, doc: "Tests only: append every frame the media server forwards to this file, to show that it holds nothing but end-to-end encrypted frames. Leave unset." },
    Field { key: "sms.provider", default: Some("\"log\""), doc: "How second-factor codes are sent by text message: \"twilio\" (Twilio's Messages API; only the phone number and the code leave the server) or \"log\" (development: logs that a message was sent; the text, with its code, only at debug level, never the number)." },
    Field { key: "sms.twilio_account_sid", default: None, doc: "Twilio Account SID (AC...), required with sms.provider = \"twilio\"." },
    Field { key: "sms.twilio_auth_token", default: None, doc: "Twilio auth token, required with sms.provider = \"twilio\". Prefer the environment variable BUREAU_SMS_TWILIO_AUTH_TOKEN to keep it out of files." },
    Field { key: "sms.twilio_from", default: None, doc: "The sender: a Twilio phone number in E.164 form (+15551234567) or a Messaging Service SID (MG...)." },
    Field { key: "sms.twilio_base_url", default: Some("\"https://api.twilio.com\""), doc: "Base URL of Twilio's API (change only for tests or a proxy)." },
];

/// The documented example configuration file.
pub fn example() -> String {
    let mut out = String::from(
        "# Bureau configuration. Every key is optional; the values shown are the defaults.\n\
         # Each key can also be set by the environment variable BUREAU_<KEY> (upper case; for keys in a\n\
         # [section], BUREAU_<SECTION>_<KEY>), and some by flags of `bureau serve`; flags win over the\n\
         # environment, which wins over this file.\n",
    );
    let mut section = "";
    for field in FIELDS {
        let (this_section, key) = field.key.split_once('.').unwrap_or(("", field.key));
        if this_section != section {
            section = this_section;
            out.push_str(&format!("\n[{section}]\n"));
        }
        out.push('\n');
        for line in wrap(field.doc, 96) {
            out.push_str(&format!("# {line}\n"));
        }
        match field.default {
            Some(default) => out.push_str(&format!("{key} = {default}\n")),
            None => out.push_str(&format!("# {key} = \n")),
        }
    }
    out
}

/// Splits a paragraph into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last().map_or(0, String::len);
        if line > 0 && line + 1 + word.len() > width {
            lines.push(String::new());
        }
        if let Some(last) = lines.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}
