//! Errors and notes of reading a configuration: each names the file and line.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A place in a configuration file: the file as it was named (an included
/// file by its resolved path) and the line, counted from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: Arc<Path>,
    /// The line, from 1 (0: the file as a whole).
    pub line: usize,
}

impl Location {
    /// A place in `file` at `line` (from 1). Copies the path; a reader
    /// naming many places in one file shares it with [`Location::shared`].
    pub fn new(file: impl AsRef<Path>, line: usize) -> Self {
        Self::shared(Arc::from(file.as_ref()), line)
    }

    /// A place in `file` at `line`, sharing the path (no copy).
    pub fn shared(file: Arc<Path>, line: usize) -> Self {
        Self { file, line }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}", self.file.display(), self.line)
        }
    }
}

/// Why a configuration was refused. Its `Display` is `FILE:LINE: reason`,
/// the form `ipvsd check` prints.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{location}: cannot read: {source}")]
    Read {
        /// The file (line 0), or the `include` line that named it.
        location: Location,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not well formed (an unbalanced brace, an unterminated quote, ...).
    #[error("{location}: {reason}")]
    Syntax {
        /// Where.
        location: Location,
        /// What is wrong.
        reason: String,
    },
    /// A keyword ipvsd does not support (it is never silently ignored).
    #[error("{location}: unsupported keyword `{keyword}` {context}")]
    Unsupported {
        /// Where.
        location: Location,
        /// The keyword.
        keyword: String,
        /// Where it was met, such as `in virtual_server`.
        context: String,
    },
    /// A VRRP block or keyword ipvsd does not support (it is never
    /// silently ignored); `--checker-only` skips every VRRP block.
    #[error(
        "{location}: unsupported VRRP keyword `{keyword}` {context}; \
         --checker-only skips VRRP, like `keepalived --check`"
    )]
    Vrrp {
        /// Where.
        location: Location,
        /// The block or keyword.
        keyword: String,
        /// Where it was met, such as `in vrrp_instance`.
        context: String,
    },
    /// A supported keyword with a value that is wrong.
    #[error("{location}: `{keyword}`: {reason}")]
    Invalid {
        /// Where.
        location: Location,
        /// The keyword.
        keyword: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    /// Where the problem is.
    pub fn location(&self) -> &Location {
        match self {
            Self::Read { location, .. }
            | Self::Syntax { location, .. }
            | Self::Unsupported { location, .. }
            | Self::Vrrp { location, .. }
            | Self::Invalid { location, .. } => location,
        }
    }

    /// The keyword at fault, if one is.
    pub fn keyword(&self) -> Option<&str> {
        match self {
            Self::Unsupported { keyword, .. }
            | Self::Vrrp { keyword, .. }
            | Self::Invalid { keyword, .. } => Some(keyword),
            Self::Read { .. } | Self::Syntax { .. } => None,
        }
    }

    pub(crate) fn invalid(
        location: &Location,
        keyword: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            location: location.clone(),
            keyword: keyword.into(),
            reason: reason.into(),
        }
    }
}

/// Something worth telling about an accepted configuration: a skipped VRRP
/// block, a value keepalived corrects, data kept but not acted on yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub location: Location,
    /// What.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: note: {}", self.location, self.message)
    }
}
