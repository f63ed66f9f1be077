//! Typed payloads for what the kernel sends as bare integers: flag sets that
//! keep every bit (named or not), and enums that keep unknown values.

/// Defines a flag set over an integer: named bits as associated constants,
/// every other bit kept as it came.
macro_rules! flag_set {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty) {
            $( $(#[$fmeta:meta])* $flag:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name($int);

        impl $name {
            $( $(#[$fmeta])* pub const $flag: Self = Self($value); )*

            /// The named bits, with their C names, for `Debug`.
            const NAMED: &'static [(&'static str, $int)] = &[$((stringify!($flag), $value)),*];

            /// No bit set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// Every bit of the integer set (a mask that changes everything).
            pub const fn all_bits() -> Self {
                Self(<$int>::MAX)
            }

            /// The set of exactly these bits, named or not.
            pub const fn from_bits_retain(bits: $int) -> Self {
                Self(bits)
            }

            /// The bits, as the kernel has them.
            pub const fn bits(self) -> $int {
                self.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every bit of `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether any bit of `other` is set.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// Sets the bits of `other`.
            pub fn insert(&mut self, other: Self) {
                self.0 |= other.0;
            }

            /// Clears the bits of `other`.
            pub fn remove(&mut self, other: Self) {
                self.0 &= !other.0;
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                let mut rest = self.0;
                let mut first = true;
                for (name, bits) in Self::NAMED {
                    if *bits != 0 && rest & bits == *bits {
                        if !first {
                            f.write_str(" | ")?;
                        }
                        f.write_str(name)?;
                        rest &= !bits;
                        first = false;
                    }
                }
                if rest != 0 || first {
                    if !first {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{rest:#x}")?;
                }
                f.write_str(")")
            }
        }

        impl From<$int> for $name {
            fn from(bits: $int) -> Self {
                Self(bits)
            }
        }

        impl From<$name> for $int {
            fn from(set: $name) -> Self {
                set.0
            }
        }

        impl std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: Self) {
                self.0 |= rhs.0;
            }
        }

        impl std::ops::BitAnd for $name {
            type Output = Self;
            fn bitand(self, rhs: Self) -> Self {
                Self(self.0 & rhs.0)
            }
        }

        impl std::ops::Not for $name {
            type Output = Self;
            fn not(self) -> Self {
                Self(!self.0)
            }
        }
    };
}

/// Defines an enum over an integer: named values as variants, every other
/// value kept in `Other`.
macro_rules! value_enum {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not name (never one of the named ones:
            /// `From` maps those to their variant).
            Other($int),
        }

        impl From<$int> for $name {
            fn from(value: $int) -> Self {
                match value {
                    $( v if v == $value => Self::$variant, )*
                    other => Self::Other(other),
                }
            }
        }

        impl From<$name> for $int {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )*
                    $name::Other(other) => other,
                }
            }
        }
    };
}

pub(crate) use {flag_set, value_enum};
