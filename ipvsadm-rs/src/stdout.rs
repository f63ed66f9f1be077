//! Standard output where a reader that went away (`| head`) is not an
//! error but any other failure to write (a full disk) is: the first such
//! failure is kept, for the program to report and exit non-zero.

use std::io::{self, Write};

/// A writer that remembers how writing failed.
pub struct Output<W: Write> {
    inner: W,
    /// Set once the reader has closed the pipe: everything after is dropped.
    closed: bool,
    /// The first failure other than a closed pipe.
    failure: Option<io::Error>,
}

impl<W: Write> Output<W> {
    /// Writes to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            closed: false,
            failure: None,
        }
    }

    /// Flushes, and gives the first failure that was not a closed pipe.
    pub fn finish(mut self) -> Option<io::Error> {
        let _ = self.flush();
        self.failure
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
            } else if self.failure.is_none() {
                self.failure = Some(io::Error::new(e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.note(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_not_a_failure_but_a_full_disk_is() {
        let mut closed = Output::new(Failing(io::ErrorKind::BrokenPipe));
        assert!(closed.write_all(b"listing").is_err());
        assert!(closed.finish().is_none());
        let mut full = Output::new(Failing(io::ErrorKind::StorageFull));
        assert!(full.write_all(b"listing").is_err());
        assert_eq!(
            full.finish().map(|e| e.kind()),
            Some(io::ErrorKind::StorageFull)
        );
    }
}
