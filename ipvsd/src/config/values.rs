//! Reading one keyword's arguments: numbers, durations, addresses, booleans,
//! each failure an error naming the keyword, file and line.

use std::net::IpAddr;
use std::time::Duration;

use super::error::ConfigError;
use super::lexer::Statement;

/// The largest duration a configuration may give, in seconds (keepalived
/// reads timers into an unsigned int of seconds at most).
pub const MAX_SECONDS: f64 = u32::MAX as f64;

/// Argument `n` (0: the first after the keyword).
pub fn arg(st: &Statement, n: usize) -> Result<&str, ConfigError> {
    st.args()
        .get(n)
        .ok_or_else(|| ConfigError::invalid(&st.location, st.keyword(), "a value is missing"))
}

/// Fails if there are more than `n` arguments.
pub fn at_most(st: &Statement, n: usize) -> Result<(), ConfigError> {
    match st.args().get(n) {
        None => Ok(()),
        Some(extra) => Err(ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("unexpected `{extra}`"),
        )),
    }
}

/// The only argument.
pub fn single(st: &Statement) -> Result<&str, ConfigError> {
    let value = arg(st, 0)?;
    at_most(st, 1)?;
    Ok(value)
}

/// An unsigned number in `min..=max`.
pub fn number(st: &Statement, text: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("`{text}` is not a whole number in {min}..={max}"),
        )),
    }
}

/// The only argument as a number in `min..=max`, narrowed to `u32`.
pub fn single_u32(st: &Statement, min: u32, max: u32) -> Result<u32, ConfigError> {
    let n = number(st, single(st)?, u64::from(min), u64::from(max))?;
    u32::try_from(n).map_err(|_| ConfigError::invalid(&st.location, st.keyword(), "too large"))
}

/// A port, 1..=65535 (0 too when `zero` is allowed).
pub fn port(st: &Statement, text: &str, zero: bool) -> Result<u16, ConfigError> {
    let n = number(st, text, u64::from(!zero), 65535)?;
    u16::try_from(n).map_err(|_| ConfigError::invalid(&st.location, st.keyword(), "bad port"))
}

/// A duration in seconds, fractions allowed (keepalived's timers), at least `min` seconds.
pub fn seconds(st: &Statement, text: &str, min: f64) -> Result<Duration, ConfigError> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= min && s <= MAX_SECONDS => Ok(micros(s)),
        _ => Err(ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("`{text}` is not a number of seconds (at least {min})"),
        )),
    }
}

/// The only argument as seconds.
pub fn single_seconds(st: &Statement, min: f64) -> Result<Duration, ConfigError> {
    seconds(st, single(st)?, min)
}

/// Seconds (finite, not negative, at most [`MAX_SECONDS`]) as a duration
/// rounded to the microsecond, keepalived's timer resolution (`TIMER_HZ`).
pub fn micros(seconds: f64) -> Duration {
    // In range: checked by the callers; the cast saturates anyway.
    Duration::from_micros((seconds * 1e6).round() as u64)
}

/// An IP address.
pub fn ip(st: &Statement, text: &str) -> Result<IpAddr, ConfigError> {
    text.parse().map_err(|_| {
        ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("`{text}` is not an IP address"),
        )
    })
}

/// A switch: the keyword alone is true; else `true|on|yes` or `false|off|no`
/// (keepalived's `check_true_false`).
pub fn switch(st: &Statement) -> Result<bool, ConfigError> {
    at_most(st, 1)?;
    match st.args().first().map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("true" | "on" | "yes") => Ok(true),
        Some("false" | "off" | "no") => Ok(false),
        Some(other) => Err(ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("`{other}` is not true/false, on/off or yes/no"),
        )),
    }
}

/// Fails if the statement has a block (a keyword that takes none).
pub fn no_block(st: &Statement) -> Result<(), ConfigError> {
    if st.block.is_some() {
        return Err(ConfigError::invalid(
            &st.location,
            st.keyword(),
            "takes no `{ ... }` block",
        ));
    }
    Ok(())
}

/// The statement's block (a keyword that needs one).
pub fn block(st: &Statement) -> Result<&[Statement], ConfigError> {
    st.block
        .as_deref()
        .ok_or_else(|| ConfigError::invalid(&st.location, st.keyword(), "needs a `{ ... }` block"))
}

/// An unsupported keyword, met `context` (such as `in virtual_server`).
pub fn unsupported(st: &Statement, context: &str) -> ConfigError {
    ConfigError::Unsupported {
        location: st.location.clone(),
        keyword: st.keyword().to_owned(),
        context: context.to_owned(),
    }
}

/// Hex digits into bytes (`payload`, for one).
pub fn hex_bytes(st: &Statement, text: &str) -> Result<Vec<u8>, ConfigError> {
    let bad = || {
        ConfigError::invalid(
            &st.location,
            st.keyword(),
            format!("`{text}` is not an even number of hex digits"),
        )
    };
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// The default jitter of a checker: `percent` of its delay loop, to the microsecond.
pub fn jitter(delay_loop: Duration, percent: u8) -> Duration {
    let us = delay_loop.as_micros() * u128::from(percent) / 100;
    Duration::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
}
