//! CRC32C of a record frame, the one checksum every append computes and every read checks.
//!
//! # Contract
//! [`frame_crc`] returns exactly `crc32c::crc32c(bytes)` for any input (tested against it,
//! property-tested over lengths and contents); the on-disk format does not depend on
//! which path computed it.
//!
//! # Why not just `crc32c::crc32c`
//! Frames are small (tens to a few hundred bytes) and mostly a whole number of 8-byte
//! words. The crate's general routine runs three parallel streams only for buffers of
//! 768 bytes and more, so a frame is one chain of dependent `crc32` instructions (3
//! cycles each: 66 cycles for a 184-byte record), at about 5 instructions per word; it was
//! the largest single item of a replay profile (`perf record` of `replay_bench`). Here any
//! frame of 3 words or more is split into three streams computed side by side and
//! combined with two carry-less multiplies, at about 1.3 instructions per word.

/// CRC32C (Castagnoli) of `bytes`; equal to `crc32c::crc32c(bytes)`.
#[inline]
pub(crate) fn frame_crc(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // `is_x86_feature_detected!` caches the answer in a static: one load and a test.
        if std::arch::is_x86_feature_detected!("sse4.2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
        {
            // SAFETY: the CPU supports SSE4.2 and PCLMULQDQ (checked just above).
            return unsafe { x86::crc32c_words(bytes) };
        }
    }
    crc32c::crc32c(bytes)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi64_si128, _mm_cvtsi128_si64};
    use std::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u64};

    /// Frames up to this many 8-byte words per stream take the three-stream path (the
    /// shift constants are tabulated up to it); longer ones (rare: records are small)
    /// one stream.
    const STREAM_WORDS_MAX: usize = 64;

    /// `SHIFT[k]` multiplies a CRC state by `x^(64 k)` modulo the CRC32C polynomial, i.e.
    /// advances it over `k` zero words, with one carry-less multiply and one `crc32`
    /// (see [`shift`]).
    static SHIFT: [u64; STREAM_WORDS_MAX * 2 + 1] = shift_table();

    /// `x^n mod P` in the reflected bit order of CRC32C (bit 31 is `x^0`).
    const fn xpow_mod(n: usize) -> u32 {
        let mut v: u32 = 0x8000_0000;
        let mut i = 0;
        while i < n {
            v = if v & 1 != 0 { (v >> 1) ^ 0x82f6_3b78 } else { v >> 1 };
            i += 1;
        }
        v
    }

    const fn shift_table() -> [u64; STREAM_WORDS_MAX * 2 + 1] {
        let mut t = [0u64; STREAM_WORDS_MAX * 2 + 1];
        let mut k = 1;
        while k < t.len() {
            // crc32(0, clmul(s, K)) = s * K * x^33 (the multiply of reflected operands
            // leaves one extra factor x, the crc32 of a 64-bit word another x^32), so
            // K = x^(64 k - 33) shifts by k words.
            t[k] = xpow_mod(64 * k - 33) as u64;
            k += 1;
        }
        t
    }

    /// Advances the CRC state `crc` over `k` zero words (`1 <= k <= 2 * STREAM_WORDS_MAX`).
    #[inline]
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    fn shift(crc: u64, k: usize) -> u64 {
        let product = _mm_clmulepi64_si128::<0>(
            _mm_cvtsi64_si128(crc as i64),
            _mm_cvtsi64_si128(SHIFT[k] as i64),
        );
        _mm_crc32_u64(0, _mm_cvtsi128_si64(product) as u64)
    }

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
    /// The words are split into three streams computed side by side (the instruction has
    /// a latency of 3 cycles and a throughput of 1 per cycle), then combined: the state of
    /// an earlier stream is shifted over the words of the later ones ([`shift`]) and the
    /// states XORed, CRCs being linear.
    ///
    /// # Safety
    /// The CPU must support SSE4.2 and PCLMULQDQ.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(super) unsafe fn crc32c_words(bytes: &[u8]) -> u32 {
        let words = bytes.len() / 8;
        let p = bytes.as_ptr();
        let k = words / 3;
        let mut crc = u64::from(!0u32);
        let mut done = 0;
        // SAFETY (every `word` below): indices are below `words`, so inside `bytes`.
        if (1..=STREAM_WORDS_MAX).contains(&k) {
            let (mut b, mut c) = (0u64, 0u64);
            let (pb, pc) = (p.wrapping_add(8 * k), p.wrapping_add(16 * k));
            for i in 0..k {
                unsafe {
                    crc = _mm_crc32_u64(crc, word(p, i));
                    b = _mm_crc32_u64(b, word(pb, i));
                    c = _mm_crc32_u64(c, word(pc, i));
                }
            }
            crc = shift(crc, 2 * k) ^ shift(b, k) ^ c;
            done = 3 * k;
        }
        for i in done..words {
            crc = _mm_crc32_u64(crc, unsafe { word(p, i) });
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
            // Any length (past the three-stream limit too), and misaligned starts.
            let b = &bytes[skip.min(bytes.len())..];
            prop_assert_eq!(frame_crc(b), crc32c::crc32c(b));
        }
    }
}
