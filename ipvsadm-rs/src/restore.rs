//! Reading `-R` input: lines of standard input, each split into the words
//! of a command line as ipvsadm's config stream splits them. Pure, so it can
//! be fuzzed; running the lines is the execution stage's job.

use std::io::{self, BufRead};

/// Where a line of `-R` input is: its number and text, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Its number, counting from 1.
    pub number: usize,
    /// The line as read, without its end of line (bytes that are not UTF-8
    /// replaced by U+FFFD).
    pub text: String,
}

/// One line of `-R` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreLine {
    /// Which line it is.
    pub origin: Origin,
    /// Its words; empty for a blank line.
    pub words: Vec<String>,
}

/// Splits a line as ipvsadm's config stream does: words separated by
/// spaces, tabs and carriage returns, with every word `ipvsadm` dropped. As
/// a deliberate difference from ipvsadm 1.31 (which aborts on them), a word
/// starting with `#` begins a comment.
pub fn words(line: &str) -> Vec<String> {
    // A line of -R input has up to about eight words: one allocation.
    let mut out = Vec::with_capacity(8);
    for word in line.split([' ', '\t', '\r']) {
        if word.is_empty() {
            continue;
        }
        if word.starts_with('#') {
            break;
        }
        if word != "ipvsadm" {
            out.push(word.to_owned());
        }
    }
    out
}

/// The lines of `input`, numbered. A last line without a new line still
/// counts; a line that is not UTF-8 is read, not dropped (its words then
/// fail to parse, with their line number).
pub struct Lines<R> {
    input: R,
    number: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// Reads lines from `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            number: 0,
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = io::Result<RestoreLine>;

    fn next(&mut self) -> Option<Self::Item> {
        self.buf.clear();
        match self.input.read_until(b'\n', &mut self.buf) {
            Ok(0) => None,
            Ok(_) => {
                self.number += 1;
                if self.buf.last() == Some(&b'\n') {
                    self.buf.pop();
                }
                let text = String::from_utf8_lossy(&self.buf).into_owned();
                let words = words(&text);
                Some(Ok(RestoreLine {
                    origin: Origin {
                        number: self.number,
                        text,
                    },
                    words,
                }))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Vec<(usize, Vec<String>)> {
        Lines::new(input)
            .map(|l| l.map(|l| (l.origin.number, l.words)))
            .collect::<io::Result<_>>()
            .unwrap_or_default()
    }

    #[test]
    fn lines_are_numbered_and_split_as_ipvsadm_does() {
        let got =
            read(b"ipvsadm -A -t 1.2.3.4:80\n\n\t-a\t-t 1.2.3.4:80 -r 10.0.0.1 ipvsadm\r\n-C");
        assert_eq!(
            got,
            vec![
                (1, vec!["-A".into(), "-t".into(), "1.2.3.4:80".into()]),
                (2, vec![]),
                (
                    3,
                    vec![
                        "-a".into(),
                        "-t".into(),
                        "1.2.3.4:80".into(),
                        "-r".into(),
                        "10.0.0.1".into()
                    ]
                ),
                (4, vec!["-C".into()]),
            ]
        );
    }

    #[test]
    fn comments_end_a_line() {
        assert_eq!(words("# all of it"), Vec::<String>::new());
        assert_eq!(words("-C # flush"), vec!["-C".to_owned()]);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_kept_with_its_number() {
        let got: Vec<RestoreLine> = Lines::new(&b"-C\n-A -t \xff:80\n-C\n"[..])
            .collect::<io::Result<_>>()
            .unwrap_or_default();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].origin.number, 2);
        assert_eq!(got[1].words, vec!["-A", "-t", "\u{fffd}:80"]);
    }
}
