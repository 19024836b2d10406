//! The bare TCP echo: the wire floor, and `--protocol echo`.
//!
//! Frames are `frame_bytes` long: the order id as a little-endian `u64`, then filler. The
//! [`EchoServer`] (one thread, loopback, an ephemeral port) writes back every byte it
//! reads; the [`EchoClient`] writes one frame per order and reports each frame read back
//! as that order's ack. Both sides are non-blocking with `TCP_NODELAY`, poll in a loop with
//! the run's wait strategy (as Keel's gateways do; under `block` the server sleeps in
//! `poll` on its connection until it is readable, as a blocking gateway does in
//! `epoll_wait`), and allocate only at start.

use super::{WireClient, WireError, WireProtocol};
use crate::bench::BenchError;
use crate::config::Resolved;
use keel_engine::pipeline::{Idle, WaitStrategy, placement};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Default frame size: about a native-binary new order.
pub const DEFAULT_FRAME_BYTES: usize = 64;
/// Bytes buffered per direction.
const BUF_BYTES: usize = 1 << 20;

/// `--protocol echo`: frames of a fixed size, acked by being echoed.
#[derive(Clone, Debug)]
pub struct EchoProtocol {
    frame_bytes: usize,
}

impl EchoProtocol {
    /// Frames of `frame_bytes` (8 ..= 65 536).
    pub fn new(frame_bytes: usize) -> Result<EchoProtocol, BenchError> {
        if !(8..=65_536).contains(&frame_bytes) {
            return Err(BenchError::Arg(format!(
                "--message-bytes {frame_bytes}: must be 8..=65536 (the order id takes 8)"
            )));
        }
        Ok(EchoProtocol { frame_bytes })
    }
}

impl WireProtocol for EchoProtocol {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn order_bytes(&self) -> usize {
        self.frame_bytes
    }

    fn listen_addr(&self, _config: &Resolved) -> Result<SocketAddr, String> {
        Err("keel serve has no echo listener".into())
    }

    fn connect(
        &self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<Box<dyn WireClient>, WireError> {
        Ok(Box::new(EchoClient::connect(addr, self.frame_bytes, timeout)?))
    }

    fn target_p50_ratio(&self) -> Option<f64> {
        None
    }
}

/// A byte buffer with a read position: bytes `[start, end)` are pending.
struct Buf {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf { bytes: vec![0; BUF_BYTES], start: 0, end: 0 }
    }

    fn pending(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Moves pending bytes to the front so there is room at the end.
    fn compact(&mut self) {
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    fn room(&mut self) -> &mut [u8] {
        &mut self.bytes[self.end..]
    }
}

/// Writes pending bytes of `buf` to `s` until it would block. Returns bytes written.
fn flush(s: &mut TcpStream, buf: &mut Buf) -> Result<usize, WireError> {
    let mut n = 0;
    while buf.start < buf.end {
        match s.write(buf.pending()) {
            Ok(0) => return Err(WireError::Closed),
            Ok(k) => {
                buf.start += k;
                n += k;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(WireError::Io { what: "write".into(), source: e }),
        }
    }
    if buf.start == buf.end {
        buf.start = 0;
        buf.end = 0;
    }
    Ok(n)
}

/// Reads what is available into `buf`. Returns bytes read.
fn fill(s: &mut TcpStream, buf: &mut Buf) -> Result<usize, WireError> {
    buf.compact();
    let mut n = 0;
    while buf.end < buf.bytes.len() {
        match s.read(buf.room()) {
            Ok(0) => return Err(WireError::Closed),
            Ok(k) => {
                buf.end += k;
                n += k;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(WireError::Io { what: "read".into(), source: e }),
        }
    }
    Ok(n)
}

/// The echo client (see the module docs).
pub struct EchoClient {
    stream: TcpStream,
    frame_bytes: usize,
    out: Buf,
    inb: Buf,
}

impl EchoClient {
    /// Connects with `TCP_NODELAY`, non-blocking.
    pub fn connect(
        addr: SocketAddr,
        frame_bytes: usize,
        timeout: Duration,
    ) -> Result<EchoClient, WireError> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(WireError::io(format!("connecting to {addr}")))?;
        stream.set_nodelay(true).map_err(WireError::io("TCP_NODELAY"))?;
        stream.set_nonblocking(true).map_err(WireError::io("non-blocking"))?;
        Ok(EchoClient { stream, frame_bytes, out: Buf::new(), inb: Buf::new() })
    }
}

impl WireClient for EchoClient {
    fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        Some(self.stream.as_raw_fd())
    }

    fn send_order(&mut self, id: u64) -> Result<(), WireError> {
        self.out.compact();
        if self.out.bytes.len() - self.out.end < self.frame_bytes {
            // The kernel and our buffer are both full: the peer is not reading.
            return Err(WireError::Protocol(format!(
                "{} bytes unsent: the peer does not read",
                self.out.end - self.out.start
            )));
        }
        let frame = &mut self.out.bytes[self.out.end..self.out.end + self.frame_bytes];
        frame[..8].copy_from_slice(&id.to_le_bytes());
        frame[8..].fill(0x5a);
        self.out.end += self.frame_bytes;
        flush(&mut self.stream, &mut self.out)?;
        Ok(())
    }

    fn poll(&mut self, acked: &mut dyn FnMut(u64)) -> Result<usize, WireError> {
        let mut work = flush(&mut self.stream, &mut self.out)?;
        work += fill(&mut self.stream, &mut self.inb)?;
        while self.inb.end - self.inb.start >= self.frame_bytes {
            let at = self.inb.start;
            let id = u64::from_le_bytes(self.inb.bytes[at..at + 8].try_into().expect("8 bytes"));
            acked(id);
            self.inb.start += self.frame_bytes;
        }
        Ok(work)
    }
}

/// An echo server thread on 127.0.0.1 (an ephemeral port), serving one connection at a
/// time until stopped.
pub struct EchoServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Binds and starts the thread (pinned to `cpu` if given).
    pub fn start(wait: WaitStrategy, cpu: Option<usize>) -> Result<EchoServer, BenchError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(BenchError::io("binding the echo server on 127.0.0.1"))?;
        let addr = listener.local_addr().map_err(BenchError::io("echo server address"))?;
        listener.set_nonblocking(true).map_err(BenchError::io("echo server non-blocking"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("keel-bench-echo".into())
            .spawn(move || {
                if let Some(cpu) = cpu {
                    placement::pin_current(cpu);
                }
                serve(listener, wait, &flag);
            })
            .map_err(BenchError::io("spawning the echo server"))?;
        Ok(EchoServer { addr, stop, thread: Some(thread) })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve(listener: TcpListener, wait: WaitStrategy, stop: &AtomicBool) {
    let mut idle = Idle::new(wait);
    let mut buf = Buf::new();
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((mut s, _)) => {
                idle.reset();
                let ok = s.set_nodelay(true).and_then(|()| s.set_nonblocking(true));
                if ok.is_ok() {
                    echo(&mut s, &mut buf, wait, stop);
                }
                buf.start = 0;
                buf.end = 0;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Waiting for a connection is not measured: sleep politely.
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Echoes one connection until it closes, fails, or the server stops.
fn echo(s: &mut TcpStream, buf: &mut Buf, wait: WaitStrategy, stop: &AtomicBool) {
    let mut idle = Idle::new(wait);
    while !stop.load(Ordering::Acquire) {
        let read = match fill(s, buf) {
            Ok(n) => n,
            Err(_) => return,
        };
        let written = match flush(s, buf) {
            Ok(n) => n,
            Err(_) => return,
        };
        if read + written > 0 {
            idle.reset();
        } else {
            // Under `block`: sleep until the client writes, as Keel's gateways do.
            idle.wait_with(|cap| {
                use std::os::fd::AsRawFd;
                keel_engine::pipeline::doorbell::wait_readable(s.as_raw_fd(), cap)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trips_every_frame() {
        let wait = WaitStrategy::Park { spins: 10, yields: 10, park_us: 50 };
        let server = EchoServer::start(wait, None).unwrap();
        let mut c = EchoClient::connect(server.addr(), 64, Duration::from_secs(5)).unwrap();
        for id in 0..1000 {
            c.send_order(id).unwrap();
        }
        let mut got = Vec::new();
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while got.len() < 1000 && std::time::Instant::now() < until {
            if c.poll(&mut |id| got.push(id)).unwrap() == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        assert_eq!(got, (0..1000).collect::<Vec<u64>>());
        server.stop();
    }

    #[test]
    fn frame_size_is_checked() {
        assert!(EchoProtocol::new(4).is_err());
        assert!(EchoProtocol::new(64).is_ok());
    }
}
