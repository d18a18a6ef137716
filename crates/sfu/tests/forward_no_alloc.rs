//! Forwarding allocates nothing in the room: after warm-up, the room's own code makes no heap
//! allocation per packet (nor per timer), whatever str0m does beneath it.
//!
//! This test binary installs a global allocator that counts the allocations made inside calls
//! into the room (`handle_datagram`, `handle_timeout`, `poll_output`) while three str0m clients
//! send audio and three simulcast layers through it, and finds the caller of each: the first
//! frame of its backtrace outside the standard library. An allocation whose caller is the room
//! (`bureau_sfu`) fails the test; those str0m makes are counted and reported per packet.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use common::{Counts, RoomCall, World};

/// Allocations inside calls into the room, by call (datagram, timeout, poll).
static ALLOCATIONS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
/// The call into the room under way: 0 none, else 1 + its index.
static IN_ROOM: AtomicU8 = AtomicU8::new(0);
/// Whether to find the caller of each allocation counted.
static TRACE: AtomicBool = AtomicBool::new(false);
/// The callers found, with how often.
static CALLERS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// Set while a backtrace is taken: its own allocations are not counted.
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn note() {
    let call = IN_ROOM.load(Ordering::Relaxed);
    if call == 0 || TRACING.with(Cell::get) {
        return;
    }
    ALLOCATIONS[usize::from(call - 1)].fetch_add(1, Ordering::Relaxed);
    if TRACE.load(Ordering::Relaxed) {
        TRACING.with(|t| t.set(true));
        let text = Backtrace::force_capture().to_string();
        let caller = caller(&text);
        *CALLERS.lock().unwrap_or_else(|e| e.into_inner()).entry(caller).or_default() += 1;
        TRACING.with(|t| t.set(false));
    }
}

/// Who asked for the memory: the first frame of a backtrace outside the allocator and the
/// standard library, as `function (file:line)` — by its file, since inlined frames are named
/// without their crate.
fn caller(backtrace: &str) -> String {
    let mut frames: Vec<(&str, Option<&str>)> = Vec::new();
    for line in backtrace.lines().map(str::trim_start) {
        if let Some(at) = line.strip_prefix("at ") {
            if let Some(last) = frames.last_mut() {
                last.1 = Some(at);
            }
        } else if let Some((n, name)) = line.split_once(": ")
            && n.chars().all(|c| c.is_ascii_digit())
        {
            frames.push((name, None));
        }
    }
    let ours = |at: &str| at.contains("forward_no_alloc.rs");
    let std = |name: &str, at: Option<&str>| match at {
        Some(at) => at.starts_with("/rustc/") || at.starts_with("/rust/deps/") || at.contains("/library/"),
        None => ["std::", "alloc::", "core::", "__rust", "<alloc::", "<core::", "<std::", "hashbrown::", "<hashbrown::"].iter().any(|p| name.starts_with(p)),
    };
    let show = |(name, at): &(&str, Option<&str>)| format!("{name} ({})", at.unwrap_or("?").rsplit("/src/").next().unwrap_or("?"));
    let mut outside = frames.iter().filter(|(name, at)| !std(name, *at) && !at.is_some_and(ours) && !name.contains("Counting"));
    let Some(first) = outside.next() else { return "?".to_owned() };
    if first.1.is_some_and(room_file) {
        return format!("room: {}", show(first));
    }
    // Allocated by a dependency: through which call of the room.
    let through = frames.iter().find(|(_, at)| at.is_some_and(room_file)).map(show).unwrap_or_default();
    format!("{} <- {through}", show(first))
}

/// Whether a source file is the room's (this crate's sources, not its tests).
fn room_file(at: &str) -> bool {
    at.starts_with("./src/") || at.contains("crates/sfu/src/")
}

fn meter(call: Option<RoomCall>) {
    let value = match call {
        None => 0,
        Some(RoomCall::Datagram) => 1,
        Some(RoomCall::Timeout) => 2,
        Some(RoomCall::Poll) => 3,
    };
    IN_ROOM.store(value, Ordering::Relaxed);
}

fn take() -> [u64; 3] {
    ALLOCATIONS.each_ref().map(|a| a.swap(0, Ordering::SeqCst))
}

fn delta(before: Counts, after: Counts) -> Counts {
    Counts {
        rtp_in: after.rtp_in - before.rtp_in,
        rtcp_in: after.rtcp_in - before.rtcp_in,
        rtp_out: after.rtp_out - before.rtp_out,
        rtcp_out: after.rtcp_out - before.rtcp_out,
        other: after.other - before.other,
    }
}

#[test]
fn forwarding_allocates_nothing_in_the_room() {
    let mut w = World::new(&[3, 3, 3]);
    w.meter = meter;
    // Warm-up: connections, renegotiation, key frames, layers chosen, buffers grown.
    w.run(Duration::from_secs(6));
    take();

    // Counted, each caller found.
    TRACE.store(true, Ordering::SeqCst);
    let before = w.net.counts;
    w.run(Duration::from_secs(1));
    TRACE.store(false, Ordering::SeqCst);
    let traced = take();
    let packets = delta(before, w.net.counts);
    let callers = std::mem::take(&mut *CALLERS.lock().unwrap());

    // Counted only, longer.
    let before = w.net.counts;
    w.run(Duration::from_secs(5));
    let counted = take();
    let long = delta(before, w.net.counts);

    let per = |n: u64, d: u64| n as f64 / d.max(1) as f64;
    eprintln!("1 s traced: {packets:?}; allocations in handle_datagram {}, handle_timeout {}, poll_output {}", traced[0], traced[1], traced[2]);
    for (caller, n) in &callers {
        eprintln!("  {n:6}  {caller}");
    }
    let total: u64 = counted.iter().sum();
    eprintln!(
        "5 s counted: {long:?}; allocations in handle_datagram {}, handle_timeout {}, poll_output {}: {:.2} per RTP packet in, {:.2} per datagram in or out",
        counted[0],
        counted[1],
        counted[2],
        per(counted[0], long.rtp_in + long.rtcp_in),
        per(total, long.rtp_in + long.rtcp_in + long.rtp_out + long.rtcp_out),
    );

    assert!(packets.rtp_in > 300 && packets.rtp_out > 300, "media flowed: {packets:?}");
    let own: Vec<(&String, &u64)> = callers.iter().filter(|(c, _)| c.starts_with("room: ")).collect();
    assert!(own.is_empty(), "the room allocated while forwarding: {own:?}");
    // What str0m allocates, it allocates taking a datagram or the time, or giving output — not
    // in anything the room's forwarding asks of it per packet (write_rtp, stream lookups).
    // (`drain` is where the room polls a participant's str0m for its output.)
    let entries = ["<- handle_datagram (room.rs", "<- handle_timeout (room.rs", "<- poll_output (room.rs", "<- drain (room.rs"];
    let through: Vec<(&String, &u64)> = callers.iter().filter(|(c, _)| !entries.iter().any(|e| c.contains(e))).collect();
    assert!(through.is_empty(), "allocations in str0m asked for by the room's own code: {through:?}");
    let unknown = callers.get("?").copied().unwrap_or(0);
    assert_eq!(unknown, 0, "allocations whose caller was not found");
}
