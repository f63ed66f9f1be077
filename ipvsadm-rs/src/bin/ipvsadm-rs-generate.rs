//! Writes ipvsadm-rs's man pages and bash/zsh/fish completions into a
//! folder (the first argument, `target/assets` by default), generated from
//! the same definitions the program parses with:
//!
//! ```text
//! cargo run -p ipvsadm-rs --features generate --bin ipvsadm-rs-generate -- target/assets
//! ```
//!
//! Built only with the `generate` feature, so `cargo install` leaves it out.

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| "target/assets".into(), std::path::PathBuf::from);
    match ipvsadm_rs::generate::write_all(&dir) {
        Ok(files) => {
            for file in files {
                println!("{}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ipvsadm-rs-generate: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
