//! A FIX connection's socket, non-blocking, polled from its owner's loop (no async
//! runtime): a connect that completes in the background ([`Connecting`]), reads into the
//! bounded [`InBuffer`], writes of the session's outbound bytes.
//!
//! Shared by the initiator (which connects) and the simulated venue (which accepts).

use crate::fix::inbound::InBuffer;
use crate::fix::session::Session;
use crate::fix::store::MessageStore;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// A connect in progress.
#[derive(Debug)]
pub struct Connecting {
    socket: Socket,
    addr: SocketAddr,
}

/// How a connect attempt stands.
#[derive(Debug)]
pub enum ConnectPoll {
    /// Still in progress.
    Pending,
    /// Connected.
    Connected(TcpStream),
    /// Refused, unreachable, ...
    Failed(std::io::Error),
}

impl Connecting {
    /// Starts a non-blocking connect to `addr`.
    pub fn start(addr: SocketAddr) -> std::io::Result<Connecting> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e)
                if e.kind() == ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc_einprogress()) => {}
            Err(e) => return Err(e),
        }
        Ok(Connecting { socket, addr })
    }

    /// The address being connected to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Checks whether the connect finished, without blocking.
    pub fn poll(self) -> (Option<Connecting>, ConnectPoll) {
        match self.socket.take_error() {
            Ok(Some(e)) => return (None, ConnectPoll::Failed(e)),
            Err(e) => return (None, ConnectPoll::Failed(e)),
            Ok(None) => {}
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                let stream: TcpStream = self.socket.into();
                let _ = stream.set_nodelay(true);
                (None, ConnectPoll::Connected(stream))
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => (Some(self), ConnectPoll::Pending),
            Err(e) => (None, ConnectPoll::Failed(e)),
        }
    }
}

/// `EINPROGRESS` on Linux and the BSDs (std maps it to `WouldBlock` on recent versions;
/// older ones report the raw code).
const fn libc_einprogress() -> i32 {
    if cfg!(target_os = "linux") { 115 } else { 36 }
}

/// What a read did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes arrived.
    Data(usize),
    /// Nothing to read now (or the buffer is full: frame it first).
    Idle,
    /// The peer closed the connection.
    Closed,
}

/// Reads what the socket has into `buf` (one read call).
pub fn read_into(stream: &mut TcpStream, buf: &mut InBuffer) -> std::io::Result<ReadOutcome> {
    let spare = buf.spare();
    if spare.is_empty() {
        return Ok(ReadOutcome::Idle);
    }
    match stream.read(spare) {
        Ok(0) => Ok(ReadOutcome::Closed),
        Ok(n) => {
            buf.filled(n);
            Ok(ReadOutcome::Data(n))
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            Ok(ReadOutcome::Idle)
        }
        Err(e) => Err(e),
    }
}

/// Writes as much of the session's outbound bytes as the socket takes; returns how many.
pub fn write_from<S: MessageStore>(
    stream: &mut TcpStream,
    session: &mut Session<S>,
) -> std::io::Result<usize> {
    let mut total = 0;
    while !session.outbound().is_empty() {
        match stream.write(session.outbound()) {
            Ok(0) => return Err(std::io::Error::from(ErrorKind::WriteZero)),
            Ok(n) => {
                session.consume_outbound(n);
                total += n;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// Writes everything the session has, waiting (bounded by `deadline`) for the socket to
/// take it: for the last words before a close (a Logout).
pub fn flush_before_close<S: MessageStore>(
    stream: &mut TcpStream,
    session: &mut Session<S>,
    deadline: std::time::Instant,
) {
    while !session.outbound().is_empty() && std::time::Instant::now() < deadline {
        match write_from(stream, session) {
            Ok(0) => std::thread::sleep(std::time::Duration::from_millis(1)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    #[test]
    fn a_connect_completes_or_fails_without_blocking() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = Some(Connecting::start(addr).unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            let (next, state) = c.take().unwrap().poll();
            match state {
                ConnectPoll::Connected(s) => break s,
                ConnectPoll::Pending => c = next,
                ConnectPoll::Failed(e) => panic!("{e}"),
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        };
        let (_peer, _) = listener.accept().unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);

        // Nobody listens here any more: refused.
        drop(listener);
        // (Loopback may refuse at once.)
        let Ok(first) = Connecting::start(addr) else { return };
        let mut c = Some(first);
        loop {
            let (next, state) = c.take().unwrap().poll();
            match state {
                ConnectPoll::Failed(_) => break,
                ConnectPoll::Pending => c = next,
                ConnectPoll::Connected(_) => panic!("connected to a closed port"),
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
