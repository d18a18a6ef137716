//! A room of the media server with str0m clients standing in for browsers, over an in-memory
//! network on a fake clock: each client publishes audio, the room offers each the other's track,
//! and every frame one sends reaches the other through the room, byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bureau_sfu::{MediaKind, Output, ParticipantId, Room};
use str0m::media::{Direction, Frequency, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Rtc};

/// A browser stand-in: a str0m client with one published audio track.
struct Client {
    addr: SocketAddr,
    rtc: Rtc,
    id: ParticipantId,
    mid: Mid,
    connected: bool,
    /// The frames received, in order.
    received: Vec<Vec<u8>>,
    sent: u64,
    /// The m-lines of the last offer the room made it.
    offered_lines: usize,
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// A client that joins `room` with an offer of one send-only audio track.
fn join(room: &mut Room, now: Instant, address: &str) -> Client {
    join_with_tracks(room, now, address, 1)
}

/// A client that joins with an offer of `tracks` send-only audio tracks (the first is `mid`).
fn join_with_tracks(room: &mut Room, now: Instant, address: &str, tracks: usize) -> Client {
    let addr = addr(address);
    let mut rtc = Rtc::builder().build(now);
    rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
    // str0m's random mids are unique against negotiated m-lines only, not within one change:
    // a hundred at once collide about once in fifty, so a change with a collision is drawn again.
    let (change, mid) = loop {
        let mut change = rtc.sdp_api();
        let mids: Vec<Mid> = (0..tracks).map(|_| change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None)).collect();
        if (1..mids.len()).all(|i| !mids[..i].contains(&mids[i])) {
            break (change, mids[0]);
        }
    };
    let (offer, pending) = change.apply().unwrap();
    let (id, answer) = room.join(now, offer, address).unwrap();
    rtc.sdp_api().accept_answer(pending, answer).unwrap();
    Client { addr, rtc, id, mid, connected: false, received: Vec::new(), sent: 0, offered_lines: 0 }
}

/// The frame a client sends as its `n`th: who and which, so that any mix-up shows.
fn frame(client: &Client, n: u64) -> Vec<u8> {
    format!("frame {n} from {}", client.addr).into_bytes()
}

/// Carries everything that is due between the room and the clients at `now`.
fn exchange(room: &mut Room, clients: &mut [Client], room_addr: SocketAddr, now: Instant) {
    for _ in 0..1000 {
        let mut moved = false;
        for c in clients.iter_mut() {
            loop {
                match c.rtc.poll_output().unwrap() {
                    str0m::Output::Timeout(_) => break,
                    str0m::Output::Transmit(t) => {
                        assert_eq!(t.destination, room_addr);
                        assert!(room.handle_datagram(now, c.addr, &t.contents), "the room takes what a participant sends");
                        moved = true;
                    }
                    // ICE and DTLS are up: media can go.
                    str0m::Output::Event(Event::Connected) => c.connected = true,
                    str0m::Output::Event(Event::MediaData(data)) => c.received.push(data.data.to_vec()),
                    str0m::Output::Event(_) => {}
                }
            }
        }
        loop {
            match room.poll_output() {
                Output::Timeout(_) => break,
                Output::Transmit { destination, contents } => {
                    let c = clients.iter_mut().find(|c| c.addr == destination).expect("a datagram for a client");
                    let receive = Receive::new(Protocol::Udp, room_addr, c.addr, &contents).unwrap();
                    c.rtc.handle_input(Input::Receive(now, receive)).unwrap();
                    moved = true;
                }
                Output::Offer { participant, offer } => {
                    let c = clients.iter_mut().find(|c| c.id == participant).unwrap();
                    c.offered_lines = offer.to_sdp_string().matches("\r\nm=").count();
                    let answer = c.rtc.sdp_api().accept_offer(offer).unwrap();
                    room.accept_answer(participant, answer).unwrap();
                    moved = true;
                }
                Output::Speakers(_) => {}
                Output::Left(id) => panic!("participant {id:?} left"),
            }
        }
        if !moved {
            return;
        }
    }
    panic!("the exchange did not settle");
}

#[test]
fn every_frame_of_one_participant_reaches_the_other_through_the_room() {
    let start = Instant::now();
    let room_addr = addr("10.0.0.1:3479");
    let mut room = Room::new(room_addr, start);
    let mut clients = vec![join(&mut room, start, "10.0.0.2:5000"), join(&mut room, start, "10.0.0.3:5000")];
    assert_eq!(room.participants(), [clients[0].id, clients[1].id]);

    // Two seconds on a clock that moves 10 ms at a time; each client sends a 20 ms Opus-sized
    // frame every other step once it is connected.
    let mut now = start;
    for step in 0..200u64 {
        now += Duration::from_millis(10);
        for c in clients.iter_mut() {
            c.rtc.handle_input(Input::Timeout(now)).unwrap();
            if c.connected && step % 2 == 0 {
                let bytes = frame(c, c.sent);
                let Some(writer) = c.rtc.writer(c.mid) else { continue };
                let pt = writer.payload_params().next().expect("a negotiated codec").pt();
                writer.write(pt, now, MediaTime::new(c.sent * 960, Frequency::FORTY_EIGHT_KHZ), bytes).unwrap();
                c.sent += 1;
            }
        }
        room.handle_timeout(now);
        exchange(&mut room, &mut clients, room_addr, now);
    }

    for (me, other) in [(0, 1), (1, 0)] {
        let (receiver, sender) = (&clients[me], &clients[other]);
        assert!(receiver.connected, "client {me} connected");
        assert!(sender.sent > 50, "client {other} sent {} frames", sender.sent);
        // What arrived is what the other sent, in order, from the first frame forwarded on;
        // a few frames may have gone before the room's offer was answered.
        let first: u64 = String::from_utf8_lossy(receiver.received.first().expect("frames arrived"))
            .split(' ').nth(1).unwrap().parse().unwrap();
        let expected: Vec<Vec<u8>> = (first..first + receiver.received.len() as u64).map(|n| frame(sender, n)).collect();
        assert_eq!(receiver.received, expected, "client {me} got the other's frames in order");
        assert!(receiver.received.len() as u64 + first + 5 >= sender.sent, "client {me} got {} of {} frames", receiver.received.len(), sender.sent);
    }
}

#[test]
fn the_recorder_gets_every_forwarded_frame_whole() {
    use std::sync::{Arc, Mutex};
    let mut w = common::World::new(&[3, 3]);
    type Frames = Arc<Mutex<Vec<(ParticipantId, MediaKind, Vec<u8>)>>>;
    let frames: Frames = Arc::default();
    let sink = frames.clone();
    w.room.record(Box::new(move |from, kind, bytes| sink.lock().unwrap().push((from, kind, bytes.to_vec()))));
    w.run(Duration::from_secs(3));
    let frames = frames.lock().unwrap();
    let video: Vec<&Vec<u8>> = frames.iter().filter(|(_, k, _)| *k == MediaKind::Video).map(|(_, _, b)| b).collect();
    let audio = frames.iter().filter(|(_, k, _)| *k == MediaKind::Audio).count();
    assert!(video.len() > 50 && audio > 100, "{} video and {audio} audio frames", video.len());
    for frame in video {
        // As the sender wrote it: the VP8 header byte, then per packet a tag and filler.
        assert!(frame[0] == 0x10 || frame[0] == 0x11, "a VP8 frame: {:02x?}", &frame[..8]);
        assert_eq!(frame[1], 0xA7, "the first packet's tag follows");
        let (_, size) = common::LAYERS.iter().find(|(rid, _)| rid.as_bytes()[0] == frame[3]).copied().unwrap();
        let size = if frame[0] == 0x10 { size * 2 } else { size };
        let packets = size.div_ceil(1000);
        assert_eq!(frame.len(), 1 + packets * 7 + size, "the whole frame, layer {}", frame[3] as char);
    }
}

#[test]
fn a_participant_offering_a_hundred_tracks_gets_two_forwarded_and_the_others_are_offered_two() {
    let start = Instant::now();
    let room_addr = addr("10.0.0.1:3479");
    let mut room = Room::new(room_addr, start);
    let mut clients = vec![join(&mut room, start, "10.0.0.2:5000"), join_with_tracks(&mut room, start, "10.0.0.3:5000", 100)];
    let mut now = start;
    for _ in 0..50 {
        now += Duration::from_millis(10);
        for c in clients.iter_mut() {
            c.rtc.handle_input(Input::Timeout(now)).unwrap();
        }
        room.handle_timeout(now);
        exchange(&mut room, &mut clients, room_addr, now);
    }
    assert!(clients.iter().all(|c| c.connected), "both connected");
    // The first client received the room's offers: one m-line of its own, and of the other's
    // hundred tracks only the limit.
    assert_eq!(clients[0].offered_lines, 1 + bureau_sfu::MAX_TRACKS_PER_KIND, "m-lines offered to the first client");
}
