//! Man pages and shell completions, generated from the definitions the
//! program itself parses with: the ipvsadm-compatible options from the rows
//! of `crate::options::OPTIONS` (names, value, `-h` line) and the
//! synopsis of `-h`, the desired-state subcommands from their clap parser
//! (`crate::apply::Cli`). Not an API: the `ipvsadm-rs-generate` binary
//! (feature `generate`) is its only user.
//!
//! The popt-style options become a `clap::Command` only to be described:
//! one argument per row, under the heading of its `-h` section, its help the
//! text of its `-h` line. clap_mangen renders the pages and clap_complete
//! the bash, zsh and fish completions from that one command.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, CommandFactory};
use clap_complete::{Generator, Shell};

use crate::options::{OPTIONS, Section};
use crate::popt::Arg as Value;

/// The program's name: the pages' and the completions'.
const NAME: &str = "ipvsadm-rs";

/// The manual section: system administration commands, as ipvsadm's page.
const SECTION: &str = "8";

/// The heading of the options ipvsadm 1.31 does not have.
const ADDITIONS: &str = "ipvsadm-rs additions";

/// Help for rows that have no `-h` line: (long name, heading, help,
/// possible values). Used only while the row has none of its own.
const EXTRA_HELP: &[(&str, &str, &str, &[&str])] = &[
    ("version", "Commands", "display the version", &[]),
    (
        "json",
        ADDITIONS,
        "print the listing as JSON (the desired-state document that apply, diff and check read)",
        &[],
    ),
    (
        "format",
        ADDITIONS,
        "print the listing as ipvsadm does (the default), as a table sized to the terminal, or as JSON",
        &["ipvsadm", "table", "json"],
    ),
];

/// The `.TH` heading of `-h` sections, as clap_mangen upper-cases it.
fn heading(section: Section) -> &'static str {
    match section {
        Section::Commands => "Commands",
        Section::VirtualService => "Virtual service",
        Section::Options => "Options",
        Section::DaemonOptions => "Daemon options",
    }
}

/// What a `-h` line says of its option: the words of the value, and the
/// description (continuation lines joined).
#[derive(Debug, PartialEq, Eq)]
struct HelpLine {
    values: Vec<String>,
    description: String,
}

/// Reads one of ipvsadm's `-h` entries: names and values, then at least two
/// spaces, then the description, which may go on over indented lines.
fn read_help(text: &str) -> HelpLine {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim();
    let (names, description) = match first.rfind("  ") {
        Some(i) => (&first[..i], first[i..].trim()),
        None => (first, ""),
    };
    let mut description = description.to_owned();
    for more in lines {
        description.push(' ');
        description.push_str(more.trim());
    }
    let values = names
        .split(|c: char| c.is_whitespace() || c == '|')
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(|w| w.trim_matches(|c| c == '[' || c == ']').to_owned())
        .collect();
    HelpLine {
        values,
        description,
    }
}

/// The choices a description lists as "one of a|b|c".
fn one_of(description: &str) -> Vec<String> {
    let Some((_, rest)) = description.split_once("one of ") else {
        return Vec::new();
    };
    let list = rest.split([',', ' ', '.']).next().unwrap_or_default();
    list.split('|')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The synopsis lines of `-h`, with the program's name.
fn synopsis() -> Vec<String> {
    let text = crate::usage::usage(NAME);
    let body = text.split_once("Usage:\n").map_or("", |(_, b)| b);
    body.lines()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect()
}

/// The choices the synopsis gives an option in braces (`--start-daemon
/// {master|backup}`).
fn braced_choices(synopsis: &[String], long: &str) -> Vec<String> {
    let flag = format!("--{long} {{");
    synopsis
        .iter()
        .find_map(|line| {
            let (_, rest) = line.split_once(&flag)?;
            let (list, _) = rest.split_once('}')?;
            Some(list.split('|').map(str::to_owned).collect())
        })
        .unwrap_or_default()
}

/// One row's argument: names, value, heading and help.
fn option_arg(
    long: &'static str,
    short: Option<char>,
    value: Value,
    help: Option<(Section, &'static str)>,
    synopsis: &[String],
) -> Arg {
    let mut arg = Arg::new(long).long(long);
    if let Some(c) = short {
        arg = arg.short(c);
    }
    let (head, line, mut choices) = match help {
        Some((section, text)) => {
            let line = read_help(text);
            let choices = one_of(&line.description);
            // The description lists them already.
            arg = arg.hide_possible_values(!choices.is_empty());
            (heading(section), line, choices)
        }
        None => {
            let (head, text, choices) = EXTRA_HELP
                .iter()
                .find(|(name, ..)| *name == long)
                .map_or((ADDITIONS, "", &[][..]), |(_, head, text, choices)| {
                    (*head, *text, *choices)
                });
            let line = HelpLine {
                values: Vec::new(),
                description: text.to_owned(),
            };
            (
                head,
                line,
                choices.iter().map(|c| (*c).to_owned()).collect(),
            )
        }
    };
    let mut value_name = line.values.last().cloned();
    if choices.is_empty() {
        choices = braced_choices(synopsis, long);
        if !choices.is_empty() {
            value_name = Some(choices.join("|"));
            arg = arg.hide_possible_values(true);
        }
    }
    arg = arg.help(line.description).help_heading(head);
    let value_name = value_name.unwrap_or_else(|| long.to_owned());
    arg = match value {
        // A flag, or (`--set tcp tcpfin udp`) one that the words after it
        // go with.
        Value::None if line.values.is_empty() => arg.action(ArgAction::SetTrue),
        Value::None => arg
            .action(ArgAction::Set)
            .num_args(line.values.len())
            .value_names(line.values),
        Value::Required => arg.action(ArgAction::Set).value_name(value_name),
        Value::Optional => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .value_name(value_name),
    };
    if !choices.is_empty() {
        arg = arg.value_parser(PossibleValuesParser::new(choices));
    }
    arg
}

/// The whole command line as one clap command: every option row, and the
/// desired-state subcommands.
pub(crate) fn command() -> clap::Command {
    let synopsis = synopsis();
    let mut usage = synopsis.clone();
    let mut cmd = clap::Command::new(NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .about("drop-in replacement for ipvsadm 1.31, with JSON, tables and desired-state apply")
        .long_about(
            "ipvsadm-rs sets up, maintains and inspects the virtual server table of the Linux \
             kernel's IP Virtual Server (IPVS), as ipvsadm 1.31 does: the same options, output, \
             messages and exit statuses, byte for byte. Installed or linked as ipvsadm, it answers \
             to that name.\n\n\
             It adds JSON and table views of every listing (--json, --format) and the \
             desired-state commands apply, diff and check, which read the JSON that \
             ipvsadm-rs -L --json prints.",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .subcommand_help_heading("DESIRED-STATE COMMANDS")
        .subcommand_value_name("command");
    for spec in OPTIONS {
        // A second row of the same option (`-l` for `--list`) is an alias.
        if cmd.get_arguments().any(|a| a.get_id() == spec.long) {
            if let Some(c) = spec.short {
                cmd = cmd.mut_arg(spec.long, |a| a.visible_short_alias(c));
            }
            continue;
        }
        cmd = cmd.arg(option_arg(
            spec.long,
            spec.short,
            spec.arg,
            spec.tag.help,
            &synopsis,
        ));
    }
    let desired = crate::apply::Cli::command();
    for sub in desired.get_subcommands() {
        cmd = cmd.subcommand(sub.clone());
    }
    cmd.build();
    for sub in cmd.get_subcommands() {
        let line = sub.clone().render_usage().to_string();
        usage.push(line.trim_start_matches("Usage:").trim().to_owned());
    }
    cmd.override_usage(usage.join("\n"))
}

/// Extra sections of the main page, as roff.
const MAIN_PAGE_END: &str = r#".SH "EXIT STATUS"
The ipvsadm commands exit as ipvsadm 1.31 does: 0 on success, non-zero on failure.
\fBapply\fR, \fBdiff\fR and \fBcheck\fR exit 0 when done, 1 when an apply failed and left
the table as it found it (or \fBdiff\fR found differences), 2 on bad input or without IPVS,
3 when an apply failed and left the table changed.
.SH FILES
.TP
\fI/etc/ipvs\-rs/table.json\fR
The desired state that the Debian package's \fBipvsadm\-rs.service\fR applies at boot
(\fBipvsadm\-rs apply \-f\fR) and saves at shutdown (\fBipvsadm\-rs \-L \-\-json\fR),
with settings in \fI/etc/default/ipvsadm\-rs\fR.
.SH "SEE ALSO"
\fBipvsadm\-rs\-apply\fR(8), \fBipvsadm\-rs\-diff\fR(8), \fBipvsadm\-rs\-check\fR(8),
\fBipvsadm\fR(8), \fBmodprobe\fR(8)
"#;

/// Renders the main page: clap_mangen's sections, then ours.
fn main_page(cmd: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone())
        .section(SECTION)
        .source(format!("{NAME} {}", env!("CARGO_PKG_VERSION")))
        .manual("System Administration");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(MAIN_PAGE_END.as_bytes())
}

/// Writes into `dir` the man pages (`man8/ipvsadm-rs.8`, one page per
/// subcommand such as `man8/ipvsadm-rs-apply.8`, and `man8/ipvsadm.8`, a
/// `.so` link for an install as ipvsadm) and the completions
/// (`completions/ipvsadm-rs.bash`, `completions/_ipvsadm-rs`,
/// `completions/ipvsadm-rs.fish`), creating the folders. Gives the files
/// written.
///
/// # Errors
/// Any error creating a folder or writing a file.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let cmd = command();
    let man_dir = dir.join(format!("man{SECTION}"));
    std::fs::create_dir_all(&man_dir)?;

    let path = man_dir.join(format!("{NAME}.{SECTION}"));
    let mut page = Vec::new();
    main_page(&cmd, &mut page)?;
    std::fs::write(&path, page)?;
    written.push(path);

    for sub in cmd.get_subcommands() {
        let man = clap_mangen::Man::new(sub.clone())
            .section(SECTION)
            .source(format!("{NAME} {}", env!("CARGO_PKG_VERSION")))
            .manual("System Administration");
        written.push(man.generate_to(&man_dir)?);
    }

    let path = man_dir.join(format!("ipvsadm.{SECTION}"));
    std::fs::write(&path, format!(".so man{SECTION}/{NAME}.{SECTION}\n"))?;
    written.push(path);

    let completions = dir.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), NAME, &mut script);
        let mut script = String::from_utf8(script).map_err(std::io::Error::other)?;
        if shell == Shell::Bash {
            script = bash_fix(&script);
        }
        let path = completions.join(shell.file_name(NAME));
        std::fs::write(&path, script)?;
        written.push(path);
    }
    Ok(written)
}

/// clap_complete's bash script spells a subcommand's state two ways when
/// the program's name has a hyphen, so that options after `apply` never
/// complete (clap-rs/clap#6421, open): the loop says `ipvsadm__rs__subcmd__apply`,
/// the case arm `ipvsadm__subcmd__rs__subcmd__apply`. Spells the arms as the loop
/// does; a no-op once clap_complete is fixed.
fn bash_fix(script: &str) -> String {
    let escaped = NAME.replace('-', "__");
    let wrong = format!("{}__subcmd__", NAME.replace('-', "__subcmd__"));
    script.replace(&wrong, &format!("{escaped}__subcmd__"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_help_line_gives_its_values_and_description() {
        let line = read_help(
            "  --scheduler    -s scheduler         one of rr|wrr|lc,\n                                      the default scheduler is wlc.",
        );
        assert_eq!(line.values, ["scheduler"]);
        assert_eq!(
            line.description,
            "one of rr|wrr|lc, the default scheduler is wlc."
        );
        assert_eq!(one_of(&line.description), ["rr", "wrr", "lc"]);
        let set = read_help("  --set tcp tcpfin udp        set connection timeout values");
        assert_eq!(set.values, ["tcp", "tcpfin", "udp"]);
        let p = read_help("  --persistent   -p [timeout]         persistent service");
        assert_eq!(p.values, ["timeout"]);
        assert_eq!(p.description, "persistent service");
    }

    #[test]
    fn every_row_is_described() {
        let cmd = command();
        for spec in OPTIONS {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(spec.long));
            let help = arg.and_then(|a| a.get_help()).map(|h| h.to_string());
            assert!(
                help.is_some_and(|h| !h.is_empty()),
                "--{} has no help",
                spec.long
            );
        }
        let start = cmd.get_arguments().find(|a| a.get_id() == "start-daemon");
        let values: Vec<String> = start
            .map(|a| a.get_possible_values())
            .unwrap_or_default()
            .iter()
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(values, ["master", "backup"]);
    }

    #[test]
    fn the_listed_formats_are_the_ones_the_parser_takes() {
        for (.., choices) in EXTRA_HELP {
            for choice in *choices {
                let args: Vec<String> = ["-L", "--format", choice]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                assert!(crate::parse::parse(&args).is_ok(), "--format {choice}");
            }
        }
    }

    #[test]
    fn the_files_name_the_options_and_subcommands() {
        let dir = std::env::temp_dir().join(format!("ipvsadm-rs-generate-{}", std::process::id()));
        let written = write_all(&dir).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        let main = read("man8/ipvsadm-rs.8");
        for word in [
            r"\-\-json",
            r"\-\-tun\-type",
            "apply",
            "diff",
            "check",
            "gue",
        ] {
            assert!(main.contains(word), "the main page lacks {word}");
        }
        assert!(read("man8/ipvsadm-rs-apply.8").contains(r"\-\-prune"));
        for page in ["man8/ipvsadm-rs-apply.8", "man8/ipvsadm-rs-diff.8"] {
            assert!(read(page).contains(r"\-\-canonical\-order"), "{page}");
        }
        assert_eq!(read("man8/ipvsadm.8"), ".so man8/ipvsadm-rs.8\n");
        for file in [
            "completions/ipvsadm-rs.bash",
            "completions/_ipvsadm-rs",
            "completions/ipvsadm-rs.fish",
        ] {
            let text = read(file);
            // fish names long options without their dashes.
            for word in ["json", "tun-type", "gue", "apply", "dry-run", "master"] {
                assert!(text.contains(word), "{file} lacks {word}");
            }
        }
        // Every state the bash loop can reach has its arm.
        let bash = read("completions/ipvsadm-rs.bash");
        for sub in ["apply", "diff", "check"] {
            let state = format!("ipvsadm__rs__subcmd__{sub}");
            assert!(bash.contains(&format!("cmd=\"{state}\"")), "{state}");
            assert!(bash.contains(&format!("{state})")), "no arm for {state}");
        }
        assert_eq!(written.len(), 8);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
