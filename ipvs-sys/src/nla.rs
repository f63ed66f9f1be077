//! Helpers shared by the attribute sets: nests, NUL-terminated strings and
//! `union nf_inet_addr` payloads.

use netlink_packet_core::{
    DecodeError, Emitable, NLA_ALIGNTO, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HEADER_SIZE, Nla,
    NlaBuffer, NlasIterator, Parseable,
};

/// Parses every attribute of a nest (or of a message body).
pub(crate) fn parse_all<T>(payload: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    // Most attributes take 8 bytes: reserve about that many up front.
    let mut out = Vec::with_capacity(payload.len() / 8 + 1);
    for nla in NlasIterator::new(payload) {
        out.push(T::parse(&nla?)?);
    }
    Ok(out)
}

/// Length on the wire of a list of attributes.
pub(crate) fn nested_len<T: Nla>(attrs: &[T]) -> usize {
    attrs.buffer_len()
}

/// Writes a list of attributes into `buffer`, which is exactly `nested_len`
/// long: each one's header (length without padding, type with the nested
/// and byte-order flags), value and zero padding to 4 bytes, as
/// netlink-packet-core's `emit` of a slice writes them. That one asks each
/// attribute for its length five times, and a nest's length is the sum of
/// its attributes': on `-R` of a big table those repeated sums were a
/// quarter of ipvsadm-rs's own time. Here each length is asked once.
pub(crate) fn emit_nested<T: Nla>(attrs: &[T], buffer: &mut [u8]) {
    let mut at = 0;
    for nla in attrs {
        let value_len = nla.value_len();
        let len = NLA_HEADER_SIZE + value_len;
        let mut kind = nla.kind();
        if nla.is_nested() {
            kind |= NLA_F_NESTED;
        }
        if nla.is_network_byteorder() {
            kind |= NLA_F_NET_BYTEORDER;
        }
        // The length field is 16 bits; an attribute longer than that cannot
        // be built (the kernel's own limit), so this is never cut.
        buffer[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
        buffer[at + 2..at + 4].copy_from_slice(&kind.to_ne_bytes());
        nla.emit_value(&mut buffer[at + NLA_HEADER_SIZE..at + len]);
        let padded = len.div_ceil(NLA_ALIGNTO) * NLA_ALIGNTO;
        buffer[at + len..at + padded].fill(0);
        at += padded;
    }
}

/// The `nla_type` an attribute is written with: its kind and the nested and
/// byte-order flags it asks for (as [`emit_nested`] writes it).
fn kind_with_flags<T: Nla>(nla: &T) -> u16 {
    let mut kind = nla.kind();
    if nla.is_nested() {
        kind |= NLA_F_NESTED;
    }
    if nla.is_network_byteorder() {
        kind |= NLA_F_NET_BYTEORDER;
    }
    kind
}

/// Appends one attribute to `out`, padded, in one pass: the bytes
/// [`emit_nested`] writes for it.
pub(crate) fn append_nla<T: Nla>(nla: &T, out: &mut Vec<u8>) {
    let len = NLA_HEADER_SIZE + nla.value_len();
    let at = out.len();
    let padded = len.div_ceil(NLA_ALIGNTO) * NLA_ALIGNTO;
    out.resize(at + padded, 0);
    // The length field is 16 bits, as in emit_nested.
    out[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
    out[at + 2..at + 4].copy_from_slice(&kind_with_flags(nla).to_ne_bytes());
    nla.emit_value(&mut out[at + NLA_HEADER_SIZE..at + len]);
}

/// Appends every attribute of `attrs` to `out` (see [`append_nla`]).
pub(crate) fn append_nlas<T: Nla>(attrs: &[T], out: &mut Vec<u8>) {
    for nla in attrs {
        append_nla(nla, out);
    }
}

/// Appends a nest of type `kind` whose content `fill` appends, its length
/// written once the content is there (instead of computed beforehand).
pub(crate) fn append_nest(out: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0; NLA_HEADER_SIZE]);
    fill(out);
    // Every attribute inside is padded: so is the nest.
    let len = out.len() - at;
    out[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
    out[at + 2..at + 4].copy_from_slice(&kind.to_ne_bytes());
}

/// Length on the wire of a C string: its bytes plus the terminating NUL.
pub(crate) fn nul_string_len(s: &str) -> usize {
    s.len() + 1
}

/// Writes a C string: its bytes, then a NUL.
pub(crate) fn emit_nul_string(s: &str, buffer: &mut [u8]) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

/// Reads a C string: the bytes up to the first NUL (or the whole payload).
pub(crate) fn parse_nul_string(payload: &[u8]) -> Result<String, DecodeError> {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8(payload[..end].to_vec())
        .map_err(|e| DecodeError::from(format!("not UTF-8: {e}")))
}

/// Reads a `union nf_inet_addr`: at most 16 bytes, zero-padded as the kernel's
/// `nla_memcpy` does (an IPv4 address fills the first four).
pub(crate) fn parse_inet_addr(payload: &[u8]) -> Result<[u8; 16], DecodeError> {
    if payload.len() > 16 {
        return Err(DecodeError::from(format!(
            "address of {} bytes, at most 16 expected",
            payload.len()
        )));
    }
    let mut addr = [0u8; 16];
    addr[..payload.len()].copy_from_slice(payload);
    Ok(addr)
}

/// Reads a payload of exactly `N` bytes.
pub(crate) fn parse_array<const N: usize>(payload: &[u8]) -> Result<[u8; N], DecodeError> {
    payload
        .try_into()
        .map_err(|_| DecodeError::invalid_number(N, payload.len()))
}
