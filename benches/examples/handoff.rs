//! What one hand-off between two threads costs on this machine: the unit that `keel bench
//! wire` and `keel bench pipeline` add up.
//!
//! Two threads pass a turn back and forth 20 000 times; each round trip is two hand-offs.
//! Three ways, each with both threads on one CPU and then on two:
//!
//! - **ring**: the pipeline's own mechanism, a shared counter and an [`Idle`] loop with a
//!   [`Sleeper`]/[`Doorbell`] pair (the waiter spins, yields, then sleeps until rung), with
//!   the `block` strategy as configured by default and with one that sleeps at once;
//! - **yield**: the waiter yields the CPU until its turn, never sleeping;
//! - **tcp**: a bare echo over loopback TCP with blocking sockets (the kernel wakes the
//!   reader), the floor of `keel bench wire` without its open-loop client.
//!
//! ```sh
//! cargo run --release -p keel-benches --example handoff [CPU_A CPU_B]
//! ```
//!
//! CPUs default to the first two this process may use (`core_affinity`); the run is
//! skipped for a placement the machine cannot give. Figures are round trips, p50 and p90.

use keel_engine::pipeline::doorbell::{Doorbell, Sleeper, doorbell};
use keel_engine::pipeline::{Idle, WaitStrategy, placement};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const ROUND_TRIPS: usize = 20_000;

/// How a waiting thread waits for its turn.
#[derive(Clone, Copy)]
enum Way {
    Ring(WaitStrategy),
    Yield,
}

/// Waits until `turn` reads `want`.
fn wait_for(turn: &AtomicU64, want: u64, way: Way, idle: &mut Idle, sleeper: &mut Sleeper) {
    while turn.load(Ordering::Acquire) != want {
        match way {
            Way::Ring(_) => idle.wait_or_sleep(sleeper, None),
            Way::Yield => std::thread::yield_now(),
        }
    }
    idle.reset_sleeper(sleeper);
}

/// Gives the turn to the other thread.
fn hand_over(turn: &AtomicU64, to: u64, bell: &Doorbell) {
    turn.store(to, Ordering::Release);
    bell.ring();
}

fn pin(cpu: usize) {
    assert!(placement::pin_current(cpu), "pinning to cpu {cpu} was refused");
}

/// Round trips in ns, sorted.
fn ping_pong(way: Way, cpus: (usize, usize)) -> Vec<u64> {
    let strategy = match way {
        Way::Ring(s) => s,
        Way::Yield => WaitStrategy::SpinThenYield { spins: 0 },
    };
    let turn = Arc::new(AtomicU64::new(0));
    let (mut main_sleeper, main_bell) = doorbell();
    let (mut peer_sleeper, peer_bell) = doorbell();
    let peer = {
        let turn = Arc::clone(&turn);
        std::thread::spawn(move || {
            pin(cpus.1);
            let mut idle = Idle::new(strategy);
            for i in 0..ROUND_TRIPS as u64 {
                wait_for(&turn, 2 * i + 1, way, &mut idle, &mut peer_sleeper);
                hand_over(&turn, 2 * i + 2, &main_bell);
            }
        })
    };
    pin(cpus.0);
    let mut idle = Idle::new(strategy);
    let mut trips = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS as u64 {
        let start = Instant::now();
        hand_over(&turn, 2 * i + 1, &peer_bell);
        wait_for(&turn, 2 * i + 2, way, &mut idle, &mut main_sleeper);
        trips.push(start.elapsed().as_nanos() as u64);
    }
    peer.join().expect("the peer thread");
    trips.sort_unstable();
    trips
}

/// Round trips of a 64-byte frame over loopback TCP, blocking sockets, in ns, sorted.
fn tcp_echo(cpus: (usize, usize)) -> std::io::Result<Vec<u64>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        pin(cpus.1);
        let (mut s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        let mut frame = [0u8; 64];
        for _ in 0..ROUND_TRIPS {
            s.read_exact(&mut frame)?;
            s.write_all(&frame)?;
        }
        Ok(())
    });
    pin(cpus.0);
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    let mut frame = [7u8; 64];
    let mut trips = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let start = Instant::now();
        s.write_all(&frame)?;
        s.read_exact(&mut frame)?;
        trips.push(start.elapsed().as_nanos() as u64);
    }
    server.join().expect("the echo thread")?;
    trips.sort_unstable();
    Ok(trips)
}

fn main() -> std::io::Result<()> {
    let allowed = placement::allowed_cpus();
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (a, b) = match (args.as_slice(), allowed.as_slice()) {
        ([a, b, ..], _) => (*a, *b),
        (_, [a, b, ..]) => (*a, *b),
        (_, [a]) => (*a, *a),
        _ => {
            eprintln!("no CPU this process may use is known");
            std::process::exit(2);
        }
    };
    let sleep_at_once = WaitStrategy::Block { spins: 0, yields: 0, timeout_us: 1_000 };
    let ways = [
        ("ring, block (100 spins, 10 yields, then sleep)", Way::Ring(WaitStrategy::BLOCK)),
        ("ring, sleep at once", Way::Ring(sleep_at_once)),
        ("yield until the turn comes", Way::Yield),
    ];
    println!("round trip = two hand-offs; {ROUND_TRIPS} each; CPUs allowed: {allowed:?}");
    println!("{:<48} {:>9} {:>14} {:>14}", "hand-off", "cpus", "p50", "p90");
    let show = |what: &str, cpus: (usize, usize), trips: &[u64]| {
        let at = |q: f64| trips[((trips.len() - 1) as f64 * q) as usize] as f64 / 1e3;
        let cpus = format!("{},{}", cpus.0, cpus.1);
        println!("{what:<48} {cpus:>9} {:>11.2} µs {:>11.2} µs", at(0.5), at(0.9));
    };
    let mut placements = vec![(a, a)];
    if b != a {
        placements.push((a, b));
    }
    for cpus in placements {
        for (what, way) in ways {
            show(what, cpus, &ping_pong(way, cpus));
        }
        show("tcp echo, blocking sockets", cpus, &tcp_echo(cpus)?);
    }
    Ok(())
}
