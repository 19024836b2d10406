//! CRC32C of a record frame, the one checksum every append computes and every read checks.
//!
//! # Contract
//! [`frame_crc`] returns exactly `crc32c::crc32c(bytes)` for any input (tested against it,
//! property-tested over lengths and contents); the on-disk format does not depend on
//! which path computed it.
//!
//! # Why not just `crc32c::crc32c`
//! Frames are small (tens to a few hundred bytes). The crate's general routine runs
//! three parallel streams only for buffers of 768 bytes and more; below that it walks the
//! buffer one 8-byte word per loop iteration behind an alignment prologue, about 5
//! instructions per word, and was the largest single item of a replay profile (`perf
//! record` of `replay_bench`). Here the leading `words % 8` words are one jump into
//! straight-line code and the loop takes eight words per iteration on a pointer, 1.4
//! instructions per word plus a fixed few: 48 instructions per frame of a `session`
//! replay on average (callgrind, `replay_bench`), against 55 for the earlier loop of four
//! words with the leading words behind compares. The `crc32`
//! chain's latency (3 cycles a word, 66 for a 184-byte record) stays: on a read its result
//! only feeds a well-predicted compare, and on an append only the store of the checksum
//! waits for it; either way out-of-order execution overlaps it with the work that
//! follows. (Three streams combined with carry-less multiplies cut that latency to about
//! a third, but cost ~50 more instructions for frames this size and measured slower in
//! `replay_bench` (0.56 against 0.48 s of CPU time for the same recovery) and no faster
//! per append (`journal/examples/append_loop.rs`: 16.6–21.7 against 17.1–18.7 ns of
//! thread CPU for 64-byte payloads).)

/// CRC32C (Castagnoli) of `bytes`; equal to `crc32c::crc32c(bytes)`.
// Always inlined: a reader's fast path then makes one call (to the word loop) per frame.
#[inline(always)]
pub(crate) fn frame_crc(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // `is_x86_feature_detected!` caches the answer in a static: one load and a test.
        if std::arch::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU supports SSE4.2 (checked just above).
            return unsafe { x86::crc32c_words(bytes) };
        }
    }
    crc32c::crc32c(bytes)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u64};

    /// Word `i` of `p`, little-endian (as the crc32 instruction and the crate read it).
    ///
    /// # Safety
    /// `p + 8 i .. p + 8 i + 8` must be readable.
    #[inline(always)]
    unsafe fn word(p: *const u8, i: usize) -> u64 {
        // SAFETY: readable per the caller; unaligned reads are allowed.
        u64::from_le(unsafe { (p.add(i * 8) as *const u64).read_unaligned() })
    }

    /// CRC32C of `bytes` with the SSE4.2 `crc32` instruction.
    ///
    /// The `words % 8` leading words first, by one jump into straight-line code (a
    /// `match` the compiler turns into a jump table), then eight words per iteration with
    /// one pointer compare: 1.4 instructions per word plus about 20 (a 152-byte frame
    /// takes about 46 instructions, against 55 with four words per iteration and the
    /// leading words behind compares).
    ///
    /// # Safety
    /// The CPU must support SSE4.2.
    #[target_feature(enable = "sse4.2")]
    pub(super) unsafe fn crc32c_words(bytes: &[u8]) -> u32 {
        let words = bytes.len() / 8;
        let mut p = bytes.as_ptr();
        let mut crc = u64::from(!0u32);
        // SAFETY (every `word` and `add` below): `lead <= words`, and the loop reads
        // `[p, p + 64)` only while `p < end`, with `end - p` a multiple of 64; so every
        // read is inside the first `words * 8` bytes of `bytes`.
        unsafe {
            let end = p.add(words * 8);
            let lead = words % 8;
            macro_rules! words {
                ($($i:literal)*) => {{ $(crc = _mm_crc32_u64(crc, word(p, $i));)* }};
            }
            match lead {
                1 => words!(0),
                2 => words!(0 1),
                3 => words!(0 1 2),
                4 => words!(0 1 2 3),
                5 => words!(0 1 2 3 4),
                6 => words!(0 1 2 3 4 5),
                7 => words!(0 1 2 3 4 5 6),
                _ => {}
            }
            p = p.add(lead * 8);
            while p < end {
                words!(0 1 2 3 4 5 6 7);
                p = p.add(64);
            }
        }
        let mut crc = crc as u32;
        for &b in &bytes[words * 8..] {
            crc = _mm_crc32_u8(crc, b);
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vector() {
        // The CRC32C check value (RFC 3720, B.4).
        assert_eq!(frame_crc(b"123456789"), 0xe306_9283);
        assert_eq!(frame_crc(&[]), 0);
        assert_eq!(frame_crc(&[0u8; 32]), crc32c::crc32c(&[0u8; 32]));
    }

    proptest! {
        #[test]
        fn equals_the_crate(bytes in proptest::collection::vec(any::<u8>(), 0..2000), skip in 0usize..8) {
            // Any length, and misaligned starts.
            let b = &bytes[skip.min(bytes.len())..];
            prop_assert_eq!(frame_crc(b), crc32c::crc32c(b));
        }
    }
}
