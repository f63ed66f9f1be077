//! `ipvsd`: the director daemon (see the crate's README).

fn main() -> std::process::ExitCode {
    ipvsd::run()
}
