//! [`InBuffer`]: the bounded receive buffer of one connection, cut into frames.
//!
//! Bytes read from a socket (or handed over by a test) are appended; [`InBuffer::next_frame`]
//! returns the next intact frame or reports garbage that it dropped. The buffer never
//! holds more than `2 × max_frame` bytes, so a peer cannot make it grow: a frame longer
//! than `max_frame` is garbled by definition ([`frame::scan`](super::frame::scan)).

use super::frame::{Garbled, Scan, scan};

/// What the front of the buffer held.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// An intact frame (already consumed from the buffer).
    Frame(&'a [u8]),
    /// Garbage that was dropped: `bytes` of it, and why.
    Garbled {
        /// Bytes dropped.
        bytes: usize,
        /// What was wrong.
        why: Garbled,
    },
}

/// A connection's receive buffer.
#[derive(Debug)]
pub struct InBuffer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    max_frame: usize,
}

impl InBuffer {
    /// A buffer for frames of at most `max_frame` bytes (allocated once, here).
    pub fn new(max_frame: usize) -> InBuffer {
        InBuffer {
            buf: vec![0u8; 2 * max_frame.max(64)].into_boxed_slice(),
            start: 0,
            end: 0,
            max_frame,
        }
    }

    /// The largest frame accepted.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Bytes buffered and not yet framed.
    pub fn pending(&self) -> usize {
        self.end - self.start
    }

    /// Drops everything (a new connection).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Free space to read into (empty when the buffer is full: frame it first). The caller
    /// then reports how much it wrote with [`InBuffer::filled`].
    pub fn spare(&mut self) -> &mut [u8] {
        self.compact();
        &mut self.buf[self.end..]
    }

    /// After [`InBuffer::spare`]: `n` bytes of it were written.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Appends bytes (tests, fuzzing); returns how many fitted.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.filled(n);
        n
    }

    /// The next frame, dropped garbage, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Next<'_>> {
        let data = &self.buf[self.start..self.end];
        match scan(data, self.max_frame) {
            Scan::Incomplete => None,
            Scan::Frame(n) => {
                let from = self.start;
                self.start += n;
                Some(Next::Frame(&self.buf[from..from + n]))
            }
            Scan::Garbled { skip, why } => {
                let skip = skip.clamp(1, data.len().max(1));
                self.start = (self.start + skip).min(self.end);
                Some(Next::Garbled { bytes: skip, why })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_out_whole_across_reads_and_garbage_is_dropped() {
        let mut m = b"8=FIX.4.4\x019=5\x0135=0\x0110=".to_vec();
        let sum = crate::fix::frame::checksum(&m[..m.len() - 3]);
        m.extend_from_slice(format!("{sum:03}\x01").as_bytes());
        let mut b = InBuffer::new(256);
        b.push(b"xx");
        b.push(&m[..10]);
        assert!(matches!(b.next_frame(), Some(Next::Garbled { bytes: 2, .. })));
        assert_eq!(b.next_frame(), None);
        b.push(&m[10..]);
        assert_eq!(b.next_frame(), Some(Next::Frame(&m[..])));
        assert_eq!(b.next_frame(), None);
        assert_eq!(b.pending(), 0);
    }

    #[test]
    fn the_buffer_is_bounded() {
        let mut b = InBuffer::new(64);
        assert_eq!(b.push(&[b'a'; 1000]), 128);
        assert_eq!(b.spare().len(), 0);
        while b.next_frame().is_some() {}
        assert_eq!(b.spare().len(), 128);
    }
}
