//! An option scanner that behaves as popt does for ipvsadm's table, so that
//! every command line scans, and fails, the way ipvsadm 1.31's does.
//!
//! What popt does, and so what this does:
//! - options and plain arguments may be mixed; plain arguments are kept, in
//!   order, for the caller (`--` makes every later word one);
//! - `-abc` is `-a -b -c`; a short option that takes a value takes the rest
//!   of the word (`-t1.2.3.4:80`, with a leading `=` dropped) or else the next word;
//! - `--name=value` or `--name value`; long names must be spelled out;
//! - an optional value (`-p [timeout]`) is the next word only if it does not
//!   start with `-`;
//! - an error names the whole word being scanned (`-Lq: unknown option`).

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// A flag.
    None,
    /// A value is required.
    Required,
    /// A value may follow.
    Optional,
}

/// One option of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec<T: Copy> {
    /// The long name, without `--`.
    pub long: &'static str,
    /// The short letter, if any.
    pub short: Option<char>,
    /// Its value.
    pub arg: Arg,
    /// What the caller calls it.
    pub tag: T,
}

/// A scanning error, as popt reports it: the word, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// The argv word being scanned when it failed.
    pub word: String,
    /// popt's text: "unknown option", "missing argument" or "option does not take an argument".
    pub reason: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.word, self.reason)
    }
}

/// Scans `args` (without the program name) against `table`.
#[derive(Debug)]
pub struct Scanner<'a, T: Copy> {
    table: &'a [Spec<T>],
    args: &'a [String],
    next: usize,
    /// The rest of a short-option cluster being scanned, and its word.
    cluster: Option<(usize, usize)>,
    only_args: bool,
    leftovers: Vec<String>,
}

impl<'a, T: Copy> Scanner<'a, T> {
    /// A scanner over `args`.
    pub fn new(table: &'a [Spec<T>], args: &'a [String]) -> Self {
        Self {
            table,
            args,
            next: 0,
            cluster: None,
            only_args: false,
            leftovers: Vec::new(),
        }
    }

    fn error(&self, word: usize, reason: &'static str) -> ScanError {
        ScanError {
            word: self.args[word].clone(),
            reason,
        }
    }

    /// The next option and its value, `Ok(None)` at the end.
    ///
    /// # Errors
    /// An unknown option, a missing value, or a value given to a flag.
    pub fn next_opt(&mut self) -> Result<Option<(T, Option<String>)>, ScanError> {
        if let Some((word, at)) = self.cluster.take() {
            return self.short(word, at).map(Some);
        }
        while self.next < self.args.len() {
            let word = self.next;
            self.next += 1;
            let text = &self.args[word];
            if self.only_args || !text.starts_with('-') || text == "-" {
                self.leftovers.push(text.clone());
                continue;
            }
            if text == "--" {
                self.only_args = true;
                continue;
            }
            if let Some(long) = text.strip_prefix("--") {
                return self.long(word, long).map(Some);
            }
            return self.short(word, 1).map(Some);
        }
        Ok(None)
    }

    fn long(&mut self, word: usize, long: &str) -> Result<(T, Option<String>), ScanError> {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (long, None),
        };
        let spec = *self
            .table
            .iter()
            .find(|s| s.long == name)
            .ok_or_else(|| self.error(word, "unknown option"))?;
        match (spec.arg, inline) {
            (Arg::None, Some(_)) => Err(self.error(word, "option does not take an argument")),
            (Arg::None, None) => Ok((spec.tag, None)),
            (_, Some(value)) => Ok((spec.tag, Some(value))),
            (arg, None) => self.value_from_next(word, arg).map(|v| (spec.tag, v)),
        }
    }

    /// The option at byte `at` of the short cluster `word`.
    fn short(&mut self, word: usize, at: usize) -> Result<(T, Option<String>), ScanError> {
        let text = &self.args[word];
        let Some(c) = text[at..].chars().next() else {
            return Err(self.error(word, "unknown option"));
        };
        let rest = at + c.len_utf8();
        let spec = *self
            .table
            .iter()
            .find(|s| s.short == Some(c))
            .ok_or_else(|| self.error(word, "unknown option"))?;
        if spec.arg == Arg::None {
            if rest < text.len() {
                self.cluster = Some((word, rest));
            }
            return Ok((spec.tag, None));
        }
        if rest < text.len() {
            let value = &text[rest..];
            return Ok((
                spec.tag,
                Some(value.strip_prefix('=').unwrap_or(value).to_owned()),
            ));
        }
        self.value_from_next(word, spec.arg).map(|v| (spec.tag, v))
    }

    fn value_from_next(&mut self, word: usize, arg: Arg) -> Result<Option<String>, ScanError> {
        match self.args.get(self.next) {
            None if arg == Arg::Optional => Ok(None),
            None => Err(self.error(word, "missing argument")),
            Some(next) if arg == Arg::Optional && next.starts_with('-') => Ok(None),
            Some(next) => {
                self.next += 1;
                Ok(Some(next.clone()))
            }
        }
    }

    /// How many words have been taken so far.
    pub fn consumed(&self) -> usize {
        self.next
    }

    /// Every remaining plain argument (after the options are all scanned).
    pub fn into_leftovers(self) -> Vec<String> {
        self.leftovers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Spec<char>] = &[
        Spec {
            long: "list",
            short: Some('L'),
            arg: Arg::None,
            tag: 'L',
        },
        Spec {
            long: "numeric",
            short: Some('n'),
            arg: Arg::None,
            tag: 'n',
        },
        Spec {
            long: "tcp-service",
            short: Some('t'),
            arg: Arg::Required,
            tag: 't',
        },
        Spec {
            long: "persistent",
            short: Some('p'),
            arg: Arg::Optional,
            tag: 'p',
        },
        Spec {
            long: "set",
            short: None,
            arg: Arg::None,
            tag: 'S',
        },
    ];

    /// What a scan gave: the options, how it ended, the plain arguments.
    type Scanned = (
        Vec<(char, Option<String>)>,
        Result<(), ScanError>,
        Vec<String>,
    );

    fn scan(words: &[&str]) -> Scanned {
        let args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let mut s = Scanner::new(TABLE, &args);
        let mut out = Vec::new();
        let end = loop {
            match s.next_opt() {
                Ok(Some(o)) => out.push(o),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        (out, end, s.into_leftovers())
    }

    #[test]
    fn clusters_values_and_leftovers() {
        let (opts, end, left) = scan(&[
            "-Ln",
            "-t1.2.3.4:80",
            "x",
            "--tcp-service=a",
            "-t",
            "-b",
            "--",
            "-n",
        ]);
        assert!(end.is_ok());
        assert_eq!(
            opts,
            [
                ('L', None),
                ('n', None),
                ('t', Some("1.2.3.4:80".into())),
                ('t', Some("a".into())),
                ('t', Some("-b".into()))
            ]
        );
        assert_eq!(left, ["x", "-n"]);
        assert_eq!(scan(&["-t=v"]).0, [('t', Some("v".into()))]);
    }

    #[test]
    fn optional_values_skip_options() {
        assert_eq!(scan(&["-p", "-n"]).0, [('p', None), ('n', None)]);
        assert_eq!(scan(&["-p", "60"]).0, [('p', Some("60".into()))]);
        assert_eq!(scan(&["-p"]).0, [('p', None)]);
        assert_eq!(scan(&["--persistent=5"]).0, [('p', Some("5".into()))]);
    }

    #[test]
    fn errors_name_the_whole_word() {
        assert_eq!(
            scan(&["-Lq"]).1.unwrap_err().to_string(),
            "-Lq: unknown option"
        );
        assert_eq!(
            scan(&["--numer"]).1.unwrap_err().to_string(),
            "--numer: unknown option"
        );
        assert_eq!(
            scan(&["-L", "-t"]).1.unwrap_err().to_string(),
            "-t: missing argument"
        );
        assert_eq!(
            scan(&["--set=1"]).1.unwrap_err().to_string(),
            "--set=1: option does not take an argument"
        );
        assert_eq!(
            scan(&["-1"]).1.unwrap_err().to_string(),
            "-1: unknown option"
        );
    }
}
