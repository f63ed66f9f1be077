//! FILE_CHECK: a number in a file sets the real server's weight, or puts
//! its checker in the FAULT state (keepalived's `track_file`).
//!
//! keepalived (keepalived/trackers/track_file.c, keepalived/check/check_file.c,
//! keepalived.conf(5) "Track files"): the file's first bytes are read as a
//! C `strtol(.., 0)` number (decimal, `0x` hex or leading-`0` octal, leading
//! blanks and a sign allowed, anything after the number ignored; a missing
//! or empty file, or no digits, reads as 0). With `weight 0` a non-zero
//! value is a failure and 0 is OK (`reverse` swaps them); otherwise
//! `value * weight` (negated with `reverse`) is added to the real server's
//! weight, and a product at or below -2147483648 is the FAULT state.
//! keepalived reads the file when inotify says it changed; here it is read
//! at each check (the caller's delay loop).

use std::path::PathBuf;

use super::outcome::{DynamicWeight, ProbeFailure, ProbeResult, ProbeSuccess};

/// How many bytes of the file are read (keepalived reads 127).
const READ_LIMIT: usize = 127;

/// A FILE_CHECK, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// The tracked file (`track_file`'s `file`).
    pub path: PathBuf,
    /// The multiplier (FILE_CHECK `weight`, else the `track_file`'s, default 1).
    pub weight: i32,
    /// `reverse`: negate the product (with weight 0: 0 is the failure).
    pub reverse: bool,
}

impl FileCheck {
    /// Reads the file and judges its value.
    ///
    /// # Errors
    /// [`ProbeFailure::FileFault`] for a value meaning FAULT,
    /// [`ProbeFailure::FileValue`] for a number out of range.
    pub async fn probe(&self) -> ProbeResult {
        // keepalived reads a missing or unreadable file as 0.
        let text: Vec<u8> = tokio::fs::read(&self.path).await.unwrap_or_default();
        let head = &text[..text.len().min(READ_LIMIT)];
        let value = parse_c_long(head).ok_or_else(|| ProbeFailure::FileValue {
            path: self.path.display().to_string(),
            text: String::from_utf8_lossy(head).trim().to_owned(),
        })?;
        self.judge(value)
    }

    /// The verdict on `value`, the number read from the file.
    ///
    /// # Errors
    /// [`ProbeFailure::FileFault`] when the value puts the checker in the
    /// FAULT state.
    pub fn judge(&self, value: i64) -> ProbeResult {
        let fault = || ProbeFailure::FileFault {
            path: self.path.display().to_string(),
            value,
        };
        if self.weight == 0 {
            // Non-zero is the failure, or with reverse zero is.
            return if (value != 0) != self.reverse {
                Err(fault())
            } else {
                Ok(ProbeSuccess {
                    weight: Some(DynamicWeight::Offset(0)),
                })
            };
        }
        let sign = if self.reverse { -1 } else { 1 };
        let product = value
            .saturating_mul(i64::from(self.weight))
            .saturating_mul(sign);
        let clamped = product.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        if clamped == i64::from(i32::MIN) {
            return Err(fault());
        }
        Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Offset(clamped)),
        })
    }
}

/// Reads a number as C's `strtol(s, NULL, 0)` does, then keeps it only if
/// it lies in keepalived's accepted range (-2147483648..=2147483648);
/// `None` for a number outside it (keepalived logs and ignores it; here the
/// check fails with the text, see [`ProbeFailure::FileValue`]).
pub fn parse_c_long(bytes: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    let mut negative = false;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        negative = bytes[i] == b'-';
        i += 1;
    }
    let mut radix = 10;
    if bytes.get(i) == Some(&b'0') {
        if matches!(bytes.get(i + 1), Some(b'x' | b'X'))
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            radix = 16;
            i += 2;
        } else {
            radix = 8;
        }
    }
    let mut value: i64 = 0;
    while let Some(d) = bytes.get(i).and_then(|&b| (b as char).to_digit(radix)) {
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(d))?;
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
        i += 1;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_strtol_base_0() {
        assert_eq!(parse_c_long(b"42\n"), Some(42));
        assert_eq!(parse_c_long(b"  -7 apples"), Some(-7));
        assert_eq!(parse_c_long(b"0x1F"), Some(31));
        assert_eq!(parse_c_long(b"010"), Some(8));
        assert_eq!(parse_c_long(b"0x"), Some(0));
        assert_eq!(parse_c_long(b""), Some(0));
        assert_eq!(parse_c_long(b"abc"), Some(0));
        assert_eq!(parse_c_long(b"2147483648"), Some(2_147_483_648));
        assert_eq!(parse_c_long(b"-2147483648"), Some(-2_147_483_648));
        assert_eq!(parse_c_long(b"2147483649"), None);
        assert_eq!(parse_c_long(b"99999999999999999999999"), None);
    }

    fn check(weight: i32, reverse: bool) -> FileCheck {
        FileCheck {
            path: "/x".into(),
            weight,
            reverse,
        }
    }

    fn offset(r: ProbeResult) -> Option<i64> {
        match r {
            Ok(ProbeSuccess {
                weight: Some(DynamicWeight::Offset(o)),
            }) => Some(o),
            _ => None,
        }
    }

    #[test]
    fn weight_zero_is_a_switch_and_reverse_flips_it() {
        assert_eq!(offset(check(0, false).judge(0)), Some(0));
        assert!(check(0, false).judge(3).is_err());
        assert!(check(0, true).judge(0).is_err());
        assert_eq!(offset(check(0, true).judge(3)), Some(0));
    }

    #[test]
    fn weight_multiplies_and_the_minimum_is_fault() {
        assert_eq!(offset(check(2, false).judge(5)), Some(10));
        assert_eq!(offset(check(2, true).judge(5)), Some(-10));
        assert_eq!(offset(check(1, false).judge(-3)), Some(-3));
        assert!(matches!(
            check(1, false).judge(-2_147_483_648),
            Err(ProbeFailure::FileFault { .. })
        ));
        assert!(check(1000, false).judge(-5_000_000).is_err());
        assert_eq!(
            offset(check(1000, false).judge(5_000_000)),
            Some(i64::from(i32::MAX))
        );
    }
}
