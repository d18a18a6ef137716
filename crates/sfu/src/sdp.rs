//! What the room reads in SDP itself, beside str0m: which m-lines a participant sends in
//! simulcast, and which SSRCs an answer lists.
//!
//! str0m binds the SSRCs an answer lists to their m-line without a rid unless that m-line has
//! `a=simulcast` too — and a str0m client answering the room's renegotiation lists the SSRCs of
//! its simulcast layers without it. Bound so, the three layers would arrive as one stream: the
//! room unbinds them (`Room::accept_answer`) and lets the rid header extension of the packets
//! bind each to its layer, as it does for browsers, which list no SSRCs for simulcast.

/// The m-sections of an SDP, each with its mid.
fn sections(sdp: &str) -> impl Iterator<Item = (&str, &str)> {
    // A section's a=mid may come after other attributes: find it first.
    sdp.split("\nm=").skip(1).filter_map(|section| section.lines().find_map(|l| l.strip_prefix("a=mid:")).map(|mid| (mid.trim(), section)))
}

/// The mids of the m-lines an offer sends in simulcast (`a=simulcast:send …`).
pub(crate) fn simulcast_mids(sdp: &str) -> Vec<String> {
    sections(sdp).filter(|(_, s)| s.lines().any(|l| l.starts_with("a=simulcast:send"))).map(|(mid, _)| mid.to_owned()).collect()
}

/// The SSRCs an SDP lists (`a=ssrc:` lines), with the mid of their m-line.
pub(crate) fn listed_ssrcs(sdp: &str) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for (mid, section) in sections(sdp) {
        for line in section.lines() {
            if let Some(rest) = line.strip_prefix("a=ssrc:")
                && let Some(Ok(ssrc)) = rest.split_whitespace().next().map(str::parse::<u32>)
                && !out.iter().any(|(m, s)| m == mid && *s == ssrc)
            {
                out.push((mid.to_owned(), ssrc));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDP: &str = "v=0\r\nm=audio 9 x\r\na=mid:a0\r\na=ssrc:11 cname:x\r\na=ssrc:11 msid:y z\r\n\
                       m=video 9 x\r\na=ssrc:22 cname:x\r\na=mid:v1\r\na=rid:l send\r\na=simulcast:send l;m;h\r\n\
                       a=ssrc-group:FID 22 23\r\na=ssrc:23 cname:x\r\n";

    #[test]
    fn ssrcs_are_read_with_their_mid() {
        assert_eq!(listed_ssrcs(SDP), [("a0".to_owned(), 11), ("v1".to_owned(), 22), ("v1".to_owned(), 23)]);
    }

    #[test]
    fn simulcast_lines_are_found() {
        assert_eq!(simulcast_mids(SDP), ["v1"]);
    }
}
