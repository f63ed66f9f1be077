//! Large generated tables for the tests and benchmarks that need them,
//! written straight to a file as `-R` input, so that the process making
//! them never holds the text (see [`crate::measure`] for why that matters).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `-R` input for `services` TCP services (`10.A.B.C:80`, wrr), each
/// with `servers` masqueraded real servers (`172.(16+r).B.C:8080`, weight
/// r+1), to a scratch file named after `name`; returns its path.
///
/// # Panics
/// When the scratch file cannot be written: a test-bed failure.
pub fn restore_input(name: &str, services: usize, servers: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}.restore", std::process::id()));
    write(&path, services, servers).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

fn write(path: &Path, services: usize, servers: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for s in 0..services {
        let (b, c) = ((s / 250) % 250, s % 250 + 1);
        let vip = format!("10.{}.{b}.{c}:80", s / 62_500);
        writeln!(out, "-A -t {vip} -s wrr")?;
        for r in 0..servers {
            writeln!(
                out,
                "-a -t {vip} -r 172.{}.{b}.{c}:8080 -m -w {}",
                16 + r,
                r + 1
            )?;
        }
    }
    out.flush()
}
