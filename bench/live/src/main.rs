//! Load generator for Bureau's live office (`GET /api/ws`), one subcommand per figure:
//!
//! - `setup`: creates organisations and users directly in a stopped server's data folder
//!   (the binary has no way to create a second organisation; see `bench/RESULTS.md`);
//! - `login`: signs every user in once through `POST /api/auth/login`, keeps the cookies;
//! - `idle`: opens many idle connections, reports the server's RSS per connection;
//! - `presence`: one user of a large organisation changes presence, times the fan-out to the
//!   last of the other connections;
//! - `relay`: pairs of connections exchange `signal` messages, counts deliveries per second;
//! - `hostile`: one member floods connections; another organisation's `welcome` and `ping`
//!   latency, quiet and under the flood;
//! - `messages`: messages that wait, sent through the server to one device while the whole
//!   organisation is online; time to the push and to the fetch.
//!
//! Arguments are `--name value` pairs; see each module for its own.

mod args;
mod client;
mod hostile;
mod idle;
mod messages;
mod presence;
mod proc;
mod relay;
mod setup;

use args::Args;

fn main() {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else { usage() };
    let args = Args::parse(argv);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.num("threads", 1))
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    let result = runtime.block_on(async {
        match command.as_str() {
            "setup" => setup::run(&args).await,
            "login" => client::login_all(&args).await,
            "idle" => idle::run(&args).await,
            "presence" => presence::run(&args).await,
            "relay" => relay::run(&args).await,
            "hostile" => hostile::run(&args).await,
            "messages" => messages::run(&args).await,
            _ => usage(),
        }
    });
    if let Err(e) = result {
        fail(&e);
    }
}

fn usage() -> ! {
    fail("usage: live-load setup|login|idle|presence|relay|hostile|messages --name value ...")
}

/// Prints an error and exits with status 1.
pub fn fail(message: &str) -> ! {
    eprintln!("live-load: {message}");
    std::process::exit(1)
}
