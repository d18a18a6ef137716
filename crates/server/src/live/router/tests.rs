//! Two and three routers over the simulated bus ([`super::sim`]): each scenario runs for many
//! seeds (each seed another order in which the node tasks read their queues) on a fake clock,
//! so a race shows up as a failing seed that reproduces every time.

// Test code panics on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bureau_signal::ConnId;

use super::sim::{GRACE, HEARTBEAT, LEASE, Sim};

const SEEDS: u64 = 200;

/// Every open connection was welcomed, and each sees every other connected user online.
fn all_see_each_other(sim: &Sim, seed: u64) {
    let open = sim.open();
    assert!(!open.is_empty(), "seed {seed}: nobody is connected");
    for conn in &open {
        let client = &sim.clients[conn];
        assert!(client.welcomed(), "seed {seed}: {} was not welcomed: {:?}", client.user, client.received);
        for other in &open {
            let user = &sim.clients[other].user;
            assert_eq!(client.status_of(user).as_deref(), Some("online"), "seed {seed}: {} does not see {user} online", client.user);
        }
    }
}

/// Whether `conn`'s client was ever told that `user` is offline.
fn ever_saw_offline(sim: &Sim, conn: ConnId, user: &str) -> bool {
    sim.clients[&conn].received.iter().any(|m| m["type"] == "presence" && m["user"]["user_id"] == user && m["user"]["status"] == "offline")
}

#[test]
fn first_connections_on_two_nodes_at_once_are_all_welcomed() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(2, seed);
        // Both requests claim the home before either node task has read anything: the second
        // node's connection may reach the home before the home's own router heard of the claim.
        let (first, second) = if seed % 2 == 0 { (0, 1) } else { (1, 0) };
        sim.connect(first, "ada").unwrap();
        sim.connect(second, "max").unwrap();
        sim.connect(second, "eve").unwrap();
        sim.settle();
        assert_eq!(sim.open().len(), 3, "seed {seed}: nobody was turned away");
        all_see_each_other(&sim, seed);
        assert_eq!(sim.home(), Some(first), "seed {seed}");
        assert_eq!(sim.hub_connections(first), 3, "seed {seed}: the home's hub holds every connection");
        assert_eq!(sim.hub_connections(second), 0, "seed {seed}: the other node only proxies");
    }
}

#[test]
fn messages_reach_users_on_other_nodes() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(3, seed);
        let ada = sim.connect(0, "ada").unwrap();
        let max = sim.connect(1, "max").unwrap();
        let eve = sim.connect(2, "eve").unwrap();
        sim.settle();
        sim.send(max, r#"{"type":"set_presence","status":"busy"}"#);
        sim.settle();
        for conn in [ada, max, eve] {
            assert_eq!(sim.clients[&conn].status_of("max").as_deref(), Some("busy"), "seed {seed}: {}", sim.clients[&conn].user);
        }
    }
}

#[test]
fn a_lost_lease_moves_the_home_and_everyone_comes_back() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(2, seed);
        let ada = sim.connect(0, "ada").unwrap();
        let max = sim.connect(1, "max").unwrap();
        sim.settle();
        assert_eq!(sim.home(), Some(0));
        // The claim vanishes from Redis (it ran out while node 0 could not reach Redis) and node
        // 1 takes the home with its next connection.
        sim.expire_home();
        sim.connect(1, "eve").unwrap();
        sim.advance(HEARTBEAT * 2);
        assert_eq!(sim.home(), Some(1), "seed {seed}");
        for conn in [ada, max] {
            assert_eq!(sim.clients[&conn].closed, Some(Some(1001)), "seed {seed}: the old home's clients reconnect");
        }
        // Eve, routed by node 1 to the home it knew, may have been sent away too.
        sim.reconnect_sent_away(None);
        sim.settle();
        all_see_each_other(&sim, seed);
        assert_eq!(sim.hub_connections(0), 0, "seed {seed}: node 0 hosts nothing any more");
        assert_eq!(sim.hub_connections(1), 3, "seed {seed}");
    }
}

#[test]
fn a_dead_nodes_users_turn_offline_after_the_grace_period() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(2, seed);
        let ada = sim.connect(0, "ada").unwrap();
        sim.connect(1, "max").unwrap();
        sim.advance(Duration::from_millis(seed * 37 % 1000));
        sim.kill(1);
        // Node 1's liveness lasts up to a lease after its last renewal; then the grace.
        sim.advance(GRACE);
        assert_eq!(sim.clients[&ada].status_of("max").as_deref(), Some("online"), "seed {seed}: not before the grace period");
        sim.advance(LEASE + HEARTBEAT * 2);
        assert_eq!(sim.clients[&ada].status_of("max").as_deref(), Some("offline"), "seed {seed}");
        assert_eq!(sim.hub_connections(0), 1, "seed {seed}: only ada is left in the hub");
    }
}

#[test]
fn when_the_home_dies_the_others_move_to_a_new_home() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(3, seed);
        sim.connect(0, "ada").unwrap();
        sim.connect(1, "max").unwrap();
        sim.connect(2, "eve").unwrap();
        sim.settle();
        sim.kill(0);
        sim.advance(LEASE + HEARTBEAT * 2);
        assert_eq!(sim.sent_away().len(), 2, "seed {seed}: max and eve are told to reconnect once the home's claim is gone");
        sim.reconnect_sent_away(None);
        sim.settle();
        all_see_each_other(&sim, seed);
        assert!(matches!(sim.home(), Some(1 | 2)), "seed {seed}");
    }
}

#[test]
fn redis_going_away_and_coming_back_rebuilds_presence() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(3, seed);
        for (node, user) in [(0, "ada"), (1, "max"), (2, "eve"), (1, "bob")] {
            sim.connect(node, user).unwrap();
        }
        sim.settle();
        sim.redis_down();
        sim.settle();
        assert!(sim.open().is_empty(), "seed {seed}: every client is told to reconnect");
        assert_eq!(sim.sent_away().len(), 4, "seed {seed}");
        assert_eq!(sim.connect(0, "ada"), None, "seed {seed}: no connection without Redis");
        sim.advance(HEARTBEAT * 3);
        sim.redis_up();
        sim.reconnect_sent_away(None);
        sim.advance(HEARTBEAT * 3);
        all_see_each_other(&sim, seed);
        assert_eq!(sim.open().len(), 4, "seed {seed}");
    }
}

#[test]
fn a_draining_node_sends_its_users_elsewhere_without_them_going_offline() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(2, seed);
        let ada = sim.connect(0, "ada").unwrap();
        sim.connect(1, "max").unwrap();
        sim.settle();
        sim.drain(1);
        sim.settle();
        assert_eq!(sim.sent_away().len(), 1, "seed {seed}: max is told to reconnect");
        let refused = sim.connect(1, "max").unwrap();
        assert_eq!(sim.close_code_and_forget(refused), Some(Some(1001)), "seed {seed}: the drained node turns new connections away");
        // Max comes back through node 0 a moment later (what a load balancer does), within the
        // grace period: ada never sees max offline.
        sim.advance(Duration::from_millis(100 + seed % 900));
        sim.reconnect_sent_away(Some(0));
        sim.advance(GRACE * 2);
        all_see_each_other(&sim, seed);
        assert!(!ever_saw_offline(&sim, ada, "max"), "seed {seed}");
    }
}

#[test]
fn a_draining_home_releases_it_to_the_other_node() {
    for seed in 0..SEEDS {
        let mut sim = Sim::new(2, seed);
        sim.connect(0, "ada").unwrap();
        sim.connect(1, "max").unwrap();
        sim.settle();
        sim.drain(0);
        sim.settle();
        assert_eq!(sim.home(), None, "seed {seed}: the home is released at once, not after the lease");
        assert_eq!(sim.sent_away().len(), 2, "seed {seed}: ada and max are told to reconnect");
        sim.reconnect_sent_away(Some(1));
        sim.settle();
        all_see_each_other(&sim, seed);
        assert_eq!(sim.home(), Some(1), "seed {seed}");
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = |seed| {
        let mut sim = Sim::new(3, seed);
        for (node, user) in [(0, "ada"), (1, "max"), (2, "eve")] {
            sim.connect(node, user).unwrap();
        }
        sim.advance(HEARTBEAT);
        sim.kill(2);
        sim.advance(LEASE + GRACE);
        sim.clients.values().map(|c| (c.user.clone(), c.received.clone(), c.closed)).collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
}

/// The media server commands of `kind` (`join`, `answer`, …) a node got, by connection.
fn media_of(sim: &Sim, node: usize, kind: &str) -> Vec<ConnId> {
    sim.media_commands(node)
        .iter()
        .filter_map(|c| {
            let value = serde_json::to_value(c).unwrap();
            (value["c"] == kind).then(|| ConnId(value["conn"].as_u64().unwrap()))
        })
        .collect()
}

#[test]
fn a_room_goes_to_the_least_loaded_media_server_and_its_answers_come_back_to_the_home() {
    for seed in 0..SEEDS {
        // Node 0 (the home: ada connects first) serves 10 participants, node 1 none.
        let mut sim = Sim::with_media_servers(seed, &[10, 0]);
        let ada = sim.connect(0, "ada").unwrap();
        sim.settle();
        let max = sim.connect(1, "max").unwrap();
        sim.advance(HEARTBEAT * 2); // the loads are known
        for conn in [ada, max] {
            sim.send(conn, r#"{"type":"join_room","room_id":"meet"}"#);
        }
        sim.settle();
        assert!(sim.clients[&ada].received.iter().any(|m| m["type"] == "media_mode" && m["mode"] == "sfu"), "seed {seed}: the room uses a media server");
        sim.send(ada, r#"{"type":"sfu_offer","sdp":"v=0 ada"}"#);
        sim.send(max, r#"{"type":"sfu_offer","sdp":"v=0 max"}"#);
        sim.settle();
        assert!(media_of(&sim, 0, "join").is_empty(), "seed {seed}: nothing on the busy node");
        let mut joined = media_of(&sim, 1, "join");
        joined.sort();
        assert_eq!(joined, [ada, max], "seed {seed}: both on the idle node's media server");

        // Node 1's media server answers; the answers reach each client through the home.
        for conn in [ada, max] {
            sim.media_event(1, bureau_signal::MediaEvent::Answer { conn, sdp: format!("v=0 for {}", conn.0) });
        }
        sim.settle();
        for conn in [ada, max] {
            let answers: Vec<&serde_json::Value> = sim.clients[&conn].received.iter().filter(|m| m["type"] == "sfu_answer").collect();
            assert_eq!(answers.len(), 1, "seed {seed}: one answer for {}", conn.0);
            assert_eq!(answers[0]["sdp"], format!("v=0 for {}", conn.0));
        }

        // Node 1 dies: once its load stops being reported, ada's reconnection goes to node 0.
        sim.kill(1);
        sim.advance(LEASE + HEARTBEAT * 2);
        sim.send(ada, r#"{"type":"sfu_offer","sdp":"v=0 ada again"}"#);
        sim.settle();
        assert_eq!(media_of(&sim, 0, "join"), [ada], "seed {seed}: placed again, on the node that is left");
    }
}
