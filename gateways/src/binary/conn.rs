//! One TCP connection's bytes: a non-blocking socket, a fixed read buffer and a bounded
//! send buffer. No protocol logic beyond framing.
//!
//! Bounds (per connection):
//! - read: [`READ_BUF`] bytes; the decoder takes whole frames out of it and the rest waits
//!   for the next read, so a client can never make the server buffer more than that.
//! - send: `send_buffer` bytes of encoded frames not yet written to the socket. A message
//!   that does not fit is refused ([`SendBuf::push`] returns `false`) and the gateway
//!   disconnects the client as a slow consumer; [`LOGOUT_RESERVE`] bytes are always kept
//!   free so that the `Logout` saying why can still be queued.

use super::wire::MAX_FRAME_LEN;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// Bytes of the read buffer.
pub const READ_BUF: usize = 64 * 1024;

/// Send-buffer bytes kept for the final `Logout`.
pub const LOGOUT_RESERVE: usize = 32;

/// What a read found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes arrived (0: none available now).
    Bytes(usize),
    /// The peer closed the connection.
    Closed,
    /// A socket error.
    Failed(ErrorKind),
}

/// A bounded buffer of bytes to send.
pub struct SendBuf {
    buf: Vec<u8>,
    start: usize,
    cap: usize,
}

impl SendBuf {
    /// A buffer of `cap` bytes (at least a few frames).
    pub fn new(cap: usize) -> SendBuf {
        let cap = cap.max(4 * MAX_FRAME_LEN + LOGOUT_RESERVE);
        SendBuf { buf: Vec::with_capacity(cap), start: 0, cap }
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Room for ordinary messages (the logout reserve excluded).
    pub fn room(&self) -> usize {
        (self.cap - LOGOUT_RESERVE).saturating_sub(self.pending())
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    fn make_room(&mut self, n: usize) -> bool {
        if self.buf.len() + n > self.cap && self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.len() + n <= self.cap
    }

    /// Queues a frame encoded by `encode` (given a scratch of [`MAX_FRAME_LEN`] bytes, it
    /// returns the frame's length); `false`, with nothing queued, when it does not fit in
    /// the room left.
    #[inline]
    pub fn push(&mut self, encode: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let mut scratch = [0u8; MAX_FRAME_LEN];
        let n = encode(&mut scratch);
        if n > self.room() || !self.make_room(n) {
            return false;
        }
        self.buf.extend_from_slice(&scratch[..n]);
        true
    }

    /// Queues the final `Logout` (may use the reserve); `false` if even that is full.
    pub fn push_last(&mut self, encode: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let mut scratch = [0u8; MAX_FRAME_LEN];
        let n = encode(&mut scratch);
        if self.pending() + n > self.cap || !self.make_room(n) {
            return false;
        }
        self.buf.extend_from_slice(&scratch[..n]);
        true
    }

    /// Writes as much as the socket takes; `Err` on a socket error.
    pub fn flush(&mut self, stream: &mut TcpStream) -> Result<usize, ErrorKind> {
        let mut written = 0;
        while self.start < self.buf.len() {
            match stream.write(&self.buf[self.start..]) {
                Ok(0) => return Err(ErrorKind::WriteZero),
                Ok(n) => {
                    self.start += n;
                    written += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.kind()),
            }
        }
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(written)
    }
}

/// A connection's socket and buffers.
pub struct Conn {
    /// The socket (non-blocking, no Nagle).
    pub stream: TcpStream,
    /// The peer's address.
    pub peer: SocketAddr,
    rbuf: Box<[u8]>,
    rpos: usize,
    rlen: usize,
    /// Frames to send.
    pub out: SendBuf,
}

impl Conn {
    /// Wraps an accepted socket.
    pub fn new(stream: TcpStream, peer: SocketAddr, send_buffer: usize) -> std::io::Result<Conn> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            peer,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            rpos: 0,
            rlen: 0,
            out: SendBuf::new(send_buffer),
        })
    }

    /// Reads what the socket has, up to the free space of the read buffer.
    pub fn read(&mut self) -> ReadOutcome {
        if self.rpos > 0 {
            // Keep the unconsumed tail (less than a frame, or frames not yet taken) at the
            // front: one move per read, not per frame.
            self.rbuf.copy_within(self.rpos..self.rlen, 0);
            self.rlen -= self.rpos;
            self.rpos = 0;
        }
        if self.rlen == self.rbuf.len() {
            return ReadOutcome::Bytes(0);
        }
        loop {
            match self.stream.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(n) => {
                    self.rlen += n;
                    return ReadOutcome::Bytes(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return ReadOutcome::Bytes(0),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return ReadOutcome::Failed(e.kind()),
            }
        }
    }

    /// The bytes read and not yet consumed.
    pub fn unread(&self) -> &[u8] {
        &self.rbuf[self.rpos..self.rlen]
    }

    /// Drops the first `n` unread bytes (a consumed frame).
    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.rpos + n <= self.rlen);
        self.rpos += n;
    }

    /// Writes queued frames; `Err` on a socket error.
    pub fn flush(&mut self) -> Result<usize, ErrorKind> {
        self.out.flush(&mut self.stream)
    }
}
