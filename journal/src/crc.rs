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
//! record` of `replay_bench`). Here the word loop is unrolled four times, about 1.3
//! instructions per word. The `crc32` chain's latency (3 cycles a word, 66 for a 184-byte
//! record) stays: its result only feeds a well-predicted compare, so out-of-order
//! execution overlaps it with the decode and apply that follow. (Three streams combined
//! with carry-less multiplies halve that latency, but cost more instructions for frames
//! this size and measured slower in `replay_bench`: 0.56 against 0.48 s of CPU time for
//! the same recovery.)

/// CRC32C (Castagnoli) of `bytes`; equal to `crc32c::crc32c(bytes)`. One `crc32` chain:
/// the fewest instructions, for readers (see the module docs).
#[inline]
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

/// CRC32C of `bytes`, equal to [`frame_crc`], with about a third of its latency for
/// frames of 48 bytes to [`x86::SPLIT_MAX_WORDS`] words: for the writer, whose Release
/// store of the frame length waits for the checksum.
///
/// The buffer is cut into three parts whose `crc32` chains run interleaved (the
/// instruction has a latency of 3 cycles but issues every cycle), and the three CRCs are
/// combined with two carry-less multiplies by constants from a table built at compile
/// time. For a 160-byte frame the chain is 6–7 words long instead of 19, plus about 14
/// cycles to combine.
#[inline]
pub(crate) fn frame_crc_split(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sse4.2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
        {
            // SAFETY: the CPU supports SSE4.2 and PCLMULQDQ (checked just above).
            return unsafe { x86::crc32c_split(bytes) };
        }
    }
    frame_crc(bytes)
}

/// `x^e mod P` in the reflected bit order of the `crc32` instruction (bit `i` holds the
/// coefficient of `x^(31 - i)`), P the CRC32C polynomial.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const fn xpow_mod(e: u32) -> u32 {
    // x^0 is bit 31.
    mul_xpow_mod(1 << 31, e)
}

/// `r x^e mod P`, reflected as in [`xpow_mod`].
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const fn mul_xpow_mod(mut r: u32, e: u32) -> u32 {
    // Multiplying by x shifts right; x^32 (out of bit 0) reduces to P's low part.
    let mut i = 0;
    while i < e {
        r = (r >> 1) ^ if r & 1 != 0 { 0x82f6_3b78 } else { 0 };
        i += 1;
    }
    r
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_crc32_u8, _mm_crc32_u64, _mm_cvtsi64_si128, _mm_cvtsi128_si64,
    };

    /// Largest buffer, in 8-byte words, that [`crc32c_split`] splits (larger ones take
    /// the single chain: a long buffer's chain latency no longer matters next to its
    /// loads).
    pub(super) const SPLIT_MAX_WORDS: usize = 192;
    /// Below this many words the split does not pay for the combine.
    const SPLIT_MIN_WORDS: usize = 6;
    /// The longest shift: the first part moves over the other two, `2 b + 2` words with
    /// `b = words / 3`.
    const SHIFT_MAX_WORDS: usize = 2 * (SPLIT_MAX_WORDS / 3) + 2;

    /// `SHIFT[n]` = `x^(64 n - 33) mod P`: a CRC state `c` advanced over `n` zero words is
    /// `crc32(0, clmul(c, SHIFT[n]))`. (The carry-less product, read as a reflected 64-bit
    /// word, is `x c K`; the `crc32` of a word from state 0 multiplies it by `x^32`; so
    /// `K = x^(64 n - 33)` gives `c x^(64 n)`.)
    static SHIFT: [u64; SHIFT_MAX_WORDS + 1] = {
        let mut t = [0u64; SHIFT_MAX_WORDS + 1];
        t[1] = super::xpow_mod(64 - 33) as u64;
        let mut n = 2;
        while n < t.len() {
            t[n] = super::mul_xpow_mod(t[n - 1] as u32, 64) as u64;
            n += 1;
        }
        t
    };

    /// Word `i` of `p`, little-endian (as the crc32 instruction and the crate read it).
    ///
    /// # Safety
    /// `p + 8 i .. p + 8 i + 8` must be readable.
    #[inline(always)]
    unsafe fn word(p: *const u8, i: usize) -> u64 {
        // SAFETY: readable per the caller; unaligned reads are allowed.
        u64::from_le(unsafe { (p.add(i * 8) as *const u64).read_unaligned() })
    }

    /// CRC32C of `bytes` with the SSE4.2 `crc32` instruction, four words per iteration.
    ///
    /// # Safety
    /// The CPU must support SSE4.2.
    #[target_feature(enable = "sse4.2")]
    pub(super) unsafe fn crc32c_words(bytes: &[u8]) -> u32 {
        let words = bytes.len() / 8;
        let p = bytes.as_ptr();
        let mut crc = u64::from(!0u32);
        let mut i = 0;
        // SAFETY (every `word` below): indices are below `words`, so inside `bytes`.
        while i + 4 <= words {
            unsafe {
                crc = _mm_crc32_u64(crc, word(p, i));
                crc = _mm_crc32_u64(crc, word(p, i + 1));
                crc = _mm_crc32_u64(crc, word(p, i + 2));
                crc = _mm_crc32_u64(crc, word(p, i + 3));
            }
            i += 4;
        }
        while i < words {
            crc = _mm_crc32_u64(crc, unsafe { word(p, i) });
            i += 1;
        }
        let mut crc = crc as u32;
        for &b in &bytes[words * 8..] {
            crc = _mm_crc32_u8(crc, b);
        }
        !crc
    }

    /// `c` advanced over `n` zero words (`1 <= n <= SHIFT_MAX_WORDS`).
    ///
    /// # Safety
    /// The CPU must support SSE4.2 and PCLMULQDQ.
    #[inline]
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    unsafe fn shift(c: u64, n: usize) -> u64 {
        let p = _mm_clmulepi64_si128(_mm_cvtsi64_si128(c as i64), _mm_cvtsi64_si128(SHIFT[n] as i64), 0);
        _mm_crc32_u64(0, _mm_cvtsi128_si64(p) as u64)
    }

    /// CRC32C of `bytes` as three interleaved chains, combined (see `frame_crc_split`).
    ///
    /// # Safety
    /// The CPU must support SSE4.2 and PCLMULQDQ.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(super) unsafe fn crc32c_split(bytes: &[u8]) -> u32 {
        let words = bytes.len() / 8;
        if !(SPLIT_MIN_WORDS..=SPLIT_MAX_WORDS).contains(&words) {
            // SAFETY: same CPU features.
            return unsafe { crc32c_words(bytes) };
        }
        let p = bytes.as_ptr();
        // Parts [0, b), [b, 2b), [2b, words): the last takes the 0-2 extra words.
        let b = words / 3;
        let (mut c0, mut c1, mut c2) = (u64::from(!0u32), 0u64, 0u64);
        // SAFETY (every `word` below): indices are below `words`, so inside `bytes`.
        for i in 0..b {
            unsafe {
                c0 = _mm_crc32_u64(c0, word(p, i));
                c1 = _mm_crc32_u64(c1, word(p, b + i));
                c2 = _mm_crc32_u64(c2, word(p, 2 * b + i));
            }
        }
        for i in 3 * b..words {
            c2 = _mm_crc32_u64(c2, unsafe { word(p, i) });
        }
        // `words - b = 2 b + (words % 3) <= SHIFT_MAX_WORDS` as `words <= SPLIT_MAX_WORDS`.
        debug_assert!(words - b <= SHIFT_MAX_WORDS);
        // SAFETY: same CPU features; both shift counts are in 1..=SHIFT_MAX_WORDS (above).
        let mut crc = unsafe { shift(c0, words - b) ^ shift(c1, words - 2 * b) } as u32 ^ c2 as u32;
        for &byte in &bytes[words * 8..] {
            crc = _mm_crc32_u8(crc, byte);
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

    #[test]
    fn split_equals_the_crate_at_every_length() {
        // Every length through the split range and past it, every residue mod 8.
        let bytes: Vec<u8> = (0..1700u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..bytes.len() {
            assert_eq!(frame_crc_split(&bytes[..len]), crc32c::crc32c(&bytes[..len]), "len {len}");
        }
        assert_eq!(frame_crc_split(b"123456789"), 0xe306_9283);
    }

    proptest! {
        #[test]
        fn equals_the_crate(bytes in proptest::collection::vec(any::<u8>(), 0..2000), skip in 0usize..8) {
            // Any length, and misaligned starts.
            let b = &bytes[skip.min(bytes.len())..];
            prop_assert_eq!(frame_crc(b), crc32c::crc32c(b));
            prop_assert_eq!(frame_crc_split(b), crc32c::crc32c(b));
        }
    }
}
