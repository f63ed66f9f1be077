//! The kernel's `hsiphash` on 64-bit machines (`lib/siphash.c`): there it is
//! SipHash-1-3 (not HalfSipHash, and not SipHash-2-4), keyed by the two
//! machine words of an `hsiphash_key_t`, its 64-bit result truncated to the
//! low 32 bits. The message is read as SipHash reads it: little-endian.
//!
//! On 32-bit kernels `hsiphash` is HalfSipHash-1-3, a different function:
//! this model is of 64-bit kernels only.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

/// `hsiphash(data, len, key)` of a 64-bit kernel: SipHash-1-3 of `data` with
/// the key words `key[0]`, `key[1]`, truncated to 32 bits.
pub(crate) fn hsiphash(data: &[u8], key: [u64; 2]) -> u32 {
    let mut hasher = SipHasher13::new_with_keys(key[0], key[1]);
    hasher.write(data);
    // Truncation is the kernel's: the function returns a u32.
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::hsiphash;

    /// The key of the kernel's own self-test for hsiphash on 64-bit
    /// (`lib/siphash_kunit.c`, formerly `lib/test_siphash.c`).
    const TEST_KEY: [u64; 2] = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];

    /// The first vectors of that self-test: the input is the bytes 0, 1, 2,
    /// ... of the given length.
    const VECTORS: [u32; 9] = [
        0x050f_c4dc,
        0x7d57_ca93,
        0x4dc7_d44d,
        0xe7dd_f7fb,
        0x88d3_8328,
        0x4953_3b67,
        0xc59f_22a7,
        0x9bb1_1140,
        0x8d29_9a8e,
    ];

    #[test]
    fn matches_the_kernels_self_test_vectors() {
        let input: Vec<u8> = (0..9).collect();
        for (len, expected) in VECTORS.iter().enumerate() {
            assert_eq!(
                hsiphash(&input[..len], TEST_KEY),
                *expected,
                "hsiphash of {len} bytes"
            );
        }
    }
}
