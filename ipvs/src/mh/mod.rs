//! A user-space model of the kernel's `mh` (Maglev hashing) scheduler: which
//! real server a service scheduled by `mh` gives a new client.
//!
//! Two directors (or one director before and after a restart) agree on every
//! client exactly when they build the same lookup table. The kernel's table
//! depends on the real servers' addresses, ports and weights, the service's
//! scheduler flags, the table size the kernel was built with, and also on
//! the order of the service's real servers in the kernel's list
//! (`svc->destinations`). That order is the order [`crate::Ipvs::destinations`]
//! and `ipvsadm -Ln --nosort` give: a real server added, or deleted and added
//! again, goes to the head of the list (`__ip_vs_update_dest` in
//! `net/netfilter/ipvs/ip_vs_ctl.c`). Build a [`Table`] from the servers in
//! that order to get the kernel's choice.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use ipvs::SchedFlags;
//! use ipvs::mh::{Server, Table};
//!
//! // In the kernel's list order (head first).
//! let servers = [
//!     Server::new(Ipv4Addr::new(192, 0, 2, 3).into(), 80, 1),
//!     Server::new(Ipv4Addr::new(192, 0, 2, 2).into(), 80, 1),
//!     Server::new(Ipv4Addr::new(192, 0, 2, 1).into(), 80, 1),
//! ];
//! let table = Table::new(&servers, SchedFlags::NONE)?;
//! let client = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
//! let chosen = table.lookup(client, 40000).expect("every server has a weight");
//! println!("{client} goes to {}", servers[chosen].address);
//! # Ok::<(), ipvs::mh::TableError>(())
//! ```
//!
//! Every rule here is read from `net/netfilter/ipvs/ip_vs_mh.c` (the
//! scheduler exists since Linux 4.18) unless said otherwise, and checked
//! against Debian's 6.1 kernel by `tests/kernel_mh.rs`:
//!
//! * **Size.** The table has a prime number of slots chosen by the kernel's
//!   build option `CONFIG_IP_VS_MH_TAB_INDEX` (8..=17; default and Debian's
//!   12, which gives 4093 slots): see [`table_size`].
//! * **Hash.** `hsiphash` of one native-endian 32-bit word, `offset + port +
//!   address`, with the address folded to 32 bits by the service's family
//!   (in an IPv6 service an IPv6 address is the XOR of its four 32-bit
//!   words; in an IPv4 service an IPv6 real server is its first word: see
//!   [`Table::for_service`]) and read in host order, the port in host
//!   order; two fixed keys (no per-boot secret), so every director computes
//!   the same. `hsiphash` on a 64-bit kernel is SipHash-1-3 truncated to 32
//!   bits (`lib/siphash.c`). The model is of little-endian 64-bit kernels
//!   (x86-64, arm64): a 32-bit or big-endian kernel hashes differently.
//! * **Table.** Each real server with a weight gets a starting slot and a
//!   step from the hash of its address and port; walking the list from its
//!   head, round after round, each real server takes its next free slot as
//!   many times in a row as its weight (divided by the weights' greatest
//!   common divisor, shifted right so the largest is below 2^(index/2))
//!   until every slot is taken. Weights here are the *last non-zero*
//!   weights (`last_weight`): a real server drained to weight 0 keeps its
//!   slots, one added with weight 0 has none.
//! * **Lookup.** A client's slot is the hash of its address (and, with the
//!   `mh-port` flag, its source port). A slot whose real server is
//!   unavailable (weight 0 or overloaded) gives no server, unless the
//!   service has `mh-fallback`, in which case further hashes of the client
//!   with offsets 1, 2, ... are tried until an available one.
//!
//! The model takes the servers as they are; it does not know the history of
//! a kernel list. To predict a director, read its list
//! ([`crate::Ipvs::destinations`]) and build the table from it.

mod siphash;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::ops::RangeInclusive;

use crate::{AddressFamily, Destination, SchedFlags};

/// The kernel's `CONFIG_IP_VS_MH_TAB_INDEX` unless configured otherwise (and
/// Debian's): 12, a table of 4093 slots.
pub const DEFAULT_SIZE_INDEX: u8 = 12;

/// The values `CONFIG_IP_VS_MH_TAB_INDEX` may take (its Kconfig range).
pub const SIZE_INDEXES: RangeInclusive<u8> = 8..=17;

/// The table sizes, indexed by `CONFIG_IP_VS_MH_TAB_INDEX - 8` (the kernel's
/// `primes[]`).
const PRIMES: [usize; 10] = [
    251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
];

/// The key of the first hash (a real server's starting slot, a client's
/// slot): both words of the kernel's `hash1`.
const HASH1: [u64; 2] = [2_654_435_761, 2_654_435_761];

/// The key of the second hash (a real server's step): both words of `hash2`.
const HASH2: [u64; 2] = [2_654_446_892, 2_654_446_892];

/// The number of slots of a table built with `CONFIG_IP_VS_MH_TAB_INDEX =
/// index` (a prime), or `None` outside [`SIZE_INDEXES`].
pub fn table_size(index: u8) -> Option<usize> {
    if !SIZE_INDEXES.contains(&index) {
        return None;
    }
    PRIMES.get(usize::from(index - 8)).copied()
}

/// A real server as the `mh` scheduler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Server {
    /// Its address (an IPv4 real server may serve an IPv6 service: the
    /// kernel folds it as an IPv4 address either way; an IPv6 one in an
    /// IPv4 service needs [`Table::for_service`]).
    pub address: IpAddr,
    /// Its port, host order (0 for a firewall-mark service's real server
    /// added without one).
    pub port: u16,
    /// Its weight now: 0 makes it unavailable (drained).
    pub weight: u32,
    /// Its last non-zero weight (the kernel's `last_weight`), which decides
    /// its share of the table. Netlink dumps do not show it: it equals
    /// `weight` unless the weight was set to 0 after the server was added.
    pub last_weight: u32,
    /// Whether it is over its upper connection threshold (the kernel's
    /// `IP_VS_DEST_F_OVERLOAD`), which makes it unavailable as weight 0 does.
    pub overloaded: bool,
}

impl Server {
    /// A real server added with `weight` (its last weight is that weight,
    /// even 0: one added with weight 0 gets no slot).
    pub fn new(address: IpAddr, port: u16, weight: u32) -> Self {
        Self {
            address,
            port,
            weight,
            last_weight: weight,
            overloaded: false,
        }
    }

    /// The same server after an edit of its weight to `weight`, as the
    /// kernel records it: a non-zero weight becomes the last weight too; 0
    /// drains the server and keeps its last weight (and so its slots).
    pub fn with_weight(mut self, weight: u32) -> Self {
        if weight != 0 {
            self.last_weight = weight;
        }
        self.weight = weight;
        self
    }

    /// The same server drained: weight 0, last weight kept.
    pub fn drained(self) -> Self {
        self.with_weight(0)
    }

    /// The same server, over its upper threshold or not.
    pub fn with_overloaded(mut self, overloaded: bool) -> Self {
        self.overloaded = overloaded;
        self
    }

    /// Whether the scheduler may choose it (`is_unavailable` in the kernel
    /// is its negation).
    pub fn is_available(&self) -> bool {
        self.weight > 0 && !self.overloaded
    }
}

impl From<&Destination> for Server {
    /// A configured real server, taken as added with its weight (its last
    /// weight is its weight: right unless it was drained to 0 after a
    /// non-zero weight; then use [`Server::drained`] on the server as it was).
    fn from(d: &Destination) -> Self {
        Self::new(d.address, d.port, d.weight)
    }
}

/// Why a [`Table`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// The size index is outside [`SIZE_INDEXES`].
    SizeIndex(u8),
    /// More real servers than slots: the kernel refuses to build such a
    /// table (`EINVAL`).
    TooManyServers {
        /// The number of real servers given.
        servers: usize,
        /// The number of slots.
        size: usize,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SizeIndex(index) => write!(
                f,
                "mh table size index {index} is outside {}..={}",
                SIZE_INDEXES.start(),
                SIZE_INDEXES.end()
            ),
            Self::TooManyServers { servers, size } => write!(
                f,
                "{servers} real servers do not fit an mh table of {size} slots"
            ),
        }
    }
}

impl std::error::Error for TableError {}

/// The kernel's `mh` lookup table of one service, built from its real
/// servers in the kernel's list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    servers: Vec<Server>,
    flags: SchedFlags,
    /// The service's family, which decides how addresses are folded; `None`:
    /// each address by its own family (see [`Table::for_service`]).
    family: Option<AddressFamily>,
    /// For each slot, the index in `servers` of the server that holds it.
    slots: Vec<Option<u32>>,
}

impl Table {
    /// The table of a kernel built with the default size index (12, 4093
    /// slots), for `servers` in list order (head first, as
    /// [`crate::Ipvs::destinations`] lists them) and the service's
    /// scheduler `flags` ([`SchedFlags::FALLBACK`] = `mh-fallback`,
    /// [`SchedFlags::PORT`] = `mh-port`).
    ///
    /// # Errors
    /// [`TableError::TooManyServers`] with more servers than slots.
    pub fn new(servers: &[Server], flags: SchedFlags) -> Result<Self, TableError> {
        Self::with_size_index(servers, flags, DEFAULT_SIZE_INDEX)
    }

    /// As [`Table::new`], for a kernel built with `CONFIG_IP_VS_MH_TAB_INDEX
    /// = index`.
    ///
    /// # Errors
    /// [`TableError::SizeIndex`] for an index outside [`SIZE_INDEXES`],
    /// [`TableError::TooManyServers`] with more servers than slots.
    pub fn with_size_index(
        servers: &[Server],
        flags: SchedFlags,
        index: u8,
    ) -> Result<Self, TableError> {
        Self::build(servers, flags, index, None)
    }

    /// As [`Table::with_size_index`], for a service of `family`. The kernel
    /// folds every address, a real server's and a client's, by the
    /// service's family (`ip_vs_mh_hashkey(svc->af, ...)`): in an IPv4
    /// service an IPv6 real server (allowed with tunnelling) is hashed by
    /// the first 32-bit word of its address, where [`Table::new`] and
    /// [`Table::with_size_index`] fold each address by its own family (the
    /// same for every other mix: an IPv4 address folds to itself either
    /// way).
    ///
    /// # Errors
    /// As [`Table::with_size_index`].
    pub fn for_service(
        servers: &[Server],
        family: AddressFamily,
        flags: SchedFlags,
        index: u8,
    ) -> Result<Self, TableError> {
        Self::build(servers, flags, index, Some(family))
    }

    fn build(
        servers: &[Server],
        flags: SchedFlags,
        index: u8,
        family: Option<AddressFamily>,
    ) -> Result<Self, TableError> {
        let size = table_size(index).ok_or(TableError::SizeIndex(index))?;
        if servers.len() > size {
            return Err(TableError::TooManyServers {
                servers: servers.len(),
                size,
            });
        }
        Ok(Self {
            servers: servers.to_vec(),
            flags,
            family,
            slots: populate(servers, family, size, u32::from(index / 2)),
        })
    }

    /// The number of slots.
    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// The servers, in the order given (indexes of [`Table::lookup`]).
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// Which server holds each slot (an index into [`Table::servers`]);
    /// every slot is empty when no server has a (last) weight.
    pub fn slots(&self) -> impl ExactSizeIterator<Item = Option<usize>> + '_ {
        self.slots.iter().map(|s| s.map(|i| i as usize))
    }

    /// The server the kernel gives a new client from `client` (source
    /// address) and `port` (source port, host order; read only with the
    /// `mh-port` flag), as an index into [`Table::servers`]; `None` when it
    /// gives none (the kernel then drops the packet: "no destination
    /// available"). The client's address must be of the service's family.
    pub fn lookup(&self, client: IpAddr, port: u16) -> Option<usize> {
        let port = if self.flags.contains(SchedFlags::PORT) {
            port
        } else {
            0
        };
        let size = self.slots.len();
        let home = slot_of(client, self.family, port, 0, size);
        let first = self.server_at(home)?;
        if self.servers[first].is_available() {
            return Some(first);
        }
        if !self.flags.contains(SchedFlags::FALLBACK) {
            return None;
        }
        // ip_vs_mh_get_fallback: rehash with offsets home, home + 1, ...
        // (mod size) until an available server or an empty slot.
        for step in 0..size {
            let offset = (home + step) % size;
            let i = self.server_at(slot_of(client, self.family, port, offset as u32, size))?;
            if self.servers[i].is_available() {
                return Some(i);
            }
        }
        None
    }

    /// As [`Table::lookup`], the server itself.
    pub fn server_for(&self, client: IpAddr, port: u16) -> Option<&Server> {
        self.lookup(client, port).map(|i| &self.servers[i])
    }

    fn server_at(&self, slot: usize) -> Option<usize> {
        self.slots.get(slot).copied().flatten().map(|i| i as usize)
    }
}

/// An address folded to the 32-bit word the kernel hashes, in host order,
/// for a service of `family` (`None`: the address's own): an IPv4 address
/// as is; an IPv6 address as the XOR of its four words, or in an IPv4
/// service its first word (the kernel reads `addr->ip`).
fn fold(address: IpAddr, family: Option<AddressFamily>) -> u32 {
    match address {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) if family == Some(AddressFamily::Ipv4) => {
            let o = a.octets();
            u32::from_be_bytes([o[0], o[1], o[2], o[3]])
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            o.chunks_exact(4)
                .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
                .fold(0, |acc, w| acc ^ w)
        }
    }
}

/// `ip_vs_mh_hashkey`: hsiphash of the native-endian (here little-endian)
/// word `offset + port + fold(address)`, wrapping.
fn hash_key(
    address: IpAddr,
    family: Option<AddressFamily>,
    port: u16,
    key: [u64; 2],
    offset: u32,
) -> u32 {
    let v = offset
        .wrapping_add(u32::from(port))
        .wrapping_add(fold(address, family));
    siphash::hsiphash(&v.to_le_bytes(), key)
}

/// A client's slot with the given offset (0 for the first choice).
fn slot_of(
    client: IpAddr,
    family: Option<AddressFamily>,
    port: u16,
    offset: u32,
    size: usize,
) -> usize {
    hash_key(client, family, port, HASH1, offset) as usize % size
}

/// The greatest common divisor (`gcd(0, b) = b`).
fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `fls`: the position of the highest set bit, 1-based; 0 for 0.
fn fls(x: u32) -> u32 {
    u32::BITS - x.leading_zeros()
}

/// `ip_vs_mh_permutate` and `ip_vs_mh_populate`: the slots of a table of
/// `size` slots, `bits` being the kernel's `IP_VS_MH_TAB_BITS`.
fn populate(
    servers: &[Server],
    family: Option<AddressFamily>,
    size: usize,
    bits: u32,
) -> Vec<Option<u32>> {
    let mut slots = vec![None; size];
    // ip_vs_mh_gcd_weight: over the non-zero last weights.
    let g = servers
        .iter()
        .map(|s| s.last_weight)
        .filter(|&w| w > 0)
        .fold(0, gcd);
    if g == 0 {
        return slots;
    }
    // ip_vs_mh_shift_weight: keep the largest weight/gcd within `bits` bits.
    let largest = servers.iter().map(|s| s.last_weight).max().unwrap_or(0) / g;
    let shift = fls(largest).saturating_sub(bits);

    struct Setup {
        perm: usize,
        skip: usize,
        turns: u32,
    }
    let mut setups: Vec<Setup> = servers
        .iter()
        .map(|s| {
            let offset = hash_key(s.address, family, s.port, HASH1, 0) as usize % size;
            let skip = hash_key(s.address, family, s.port, HASH2, 0) as usize % (size - 1) + 1;
            let turns = match (s.last_weight / g) >> shift {
                0 => u32::from(s.last_weight != 0),
                t => t,
            };
            Setup {
                perm: offset,
                skip,
                turns,
            }
        })
        .collect();

    let mut taken = vec![false; size];
    let mut filled = 0;
    // Some server has turns >= 1 (g > 0), so each round fills a slot.
    loop {
        for (i, setup) in setups.iter_mut().enumerate() {
            for _ in 0..setup.turns {
                while taken[setup.perm] {
                    setup.perm += setup.skip;
                    if setup.perm >= size {
                        setup.perm -= size;
                    }
                }
                taken[setup.perm] = true;
                slots[setup.perm] = Some(i as u32);
                filled += 1;
                if filled == size {
                    return slots;
                }
            }
        }
    }
}
