//! The keepalived.conf lexer: words, quoted strings, braces, `#` and `!`
//! comments, `include` (globs relative to the including file), `$NAME=value`
//! definitions and `@ID` / `@^ID` conditional lines, into a tree of
//! statements that each keep their file and line.
//!
//! The syntax follows keepalived.conf(5), "Configuration file syntax":
//! a statement is a line of words; a `{` opens its block (on the same line
//! or the next), `}` closes it.
//!
//! A large file (thousands of virtual servers) is read in one pass over
//! borrowed lines: a token keeps its file as an index and its word as the
//! one `String` the statement then takes over, so reading allocates little
//! more than the words themselves.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfigError, Location};

/// How deep `include` may nest (keepalived has no limit but a loop would
/// never end).
const MAX_INCLUDE_DEPTH: usize = 32;

/// One statement: a keyword and its arguments, and its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Where its first word is.
    pub location: Location,
    /// The keyword and its arguments (quotes removed; never empty), in one
    /// allocation: joined by `"`, which no word can hold (a quoted word
    /// ends at one, a bare word stops before one).
    words: Box<str>,
    /// The block that follows, if any.
    pub block: Option<Vec<Statement>>,
}

/// What joins a statement's words (see [`Statement::words`]).
const SEPARATOR: u8 = b'"';

impl Statement {
    /// A statement of `words` (at least one, none holding a `"`).
    fn new(location: Location, words: &str) -> Self {
        Self {
            location,
            words: words.into(),
            block: None,
        }
    }

    /// The keyword (the first word).
    pub fn keyword(&self) -> &str {
        split_first(&self.words).0
    }

    /// The arguments (every word after the keyword).
    pub fn args(&self) -> Args<'_> {
        Args(split_first(&self.words).1)
    }

    /// Every word, the keyword first.
    pub fn words(&self) -> Words<'_> {
        Words(Some(&self.words))
    }
}

/// The first word of joined `words` and the rest, if there is more.
fn split_first(words: &str) -> (&str, Option<&str>) {
    // A byte search: the separator is ASCII, so it is never inside a
    // character of several bytes.
    match words.bytes().position(|b| b == SEPARATOR) {
        Some(at) => (&words[..at], Some(&words[at + 1..])),
        None => (words, None),
    }
}

/// Words of a statement, in order.
#[derive(Debug, Clone)]
pub struct Words<'a>(Option<&'a str>);

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (word, rest) = split_first(self.0?);
        self.0 = rest;
        Some(word)
    }
}

/// The arguments of a statement, as words.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a>(Option<&'a str>);

impl<'a> Args<'a> {
    /// Each argument in order.
    pub fn iter(&self) -> Words<'a> {
        Words(self.0)
    }

    /// Argument `n` (0: the first).
    pub fn get(&self, n: usize) -> Option<&'a str> {
        self.iter().nth(n)
    }

    /// The first argument.
    pub fn first(&self) -> Option<&'a str> {
        self.get(0)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The arguments joined by `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }

    /// The arguments as a vector (for keywords read by index).
    pub fn to_vec(&self) -> Vec<&'a str> {
        self.iter().collect()
    }
}

impl<'a> IntoIterator for Args<'a> {
    type Item = &'a str;
    type IntoIter = Words<'a>;

    fn into_iter(self) -> Words<'a> {
        self.iter()
    }
}

/// A word (its byte range in the line) or brace of one line (all of a
/// line's tokens share its place).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Range<usize>),
    Open,
    Close,
}

/// What the lexer needs to know beyond the text.
#[derive(Debug, Clone, Default)]
pub struct LexOptions {
    /// The configuration id that `@ID` lines are kept for (keepalived's
    /// `--config-id`, by default the host name up to its first dot).
    pub config_id: Option<String>,
}

struct Lexer {
    options: LexOptions,
    /// The host's configuration id, read once when an `@` line needs it.
    host_id: Option<String>,
    definitions: HashMap<String, String>,
    /// The current line's tokens (kept to reuse its allocation).
    line: Vec<Token>,
    /// The statements, built as the lines come.
    tree: Tree,
}

/// Reads `path` (and what it includes) into statements.
///
/// # Errors
/// [`ConfigError::Read`] if a file cannot be read, [`ConfigError::Syntax`]
/// on unbalanced braces, an unterminated quote, a bad `@` line or an
/// `include` that matches nothing.
pub fn parse_file(path: &Path, options: &LexOptions) -> Result<Vec<Statement>, ConfigError> {
    let mut lexer = Lexer::new(options);
    lexer.file(path, None, 0)?;
    lexer.parse()
}

/// Reads `text` as if it were the file `name` (includes are relative to
/// its directory).
///
/// # Errors
/// As [`parse_file`].
pub fn parse_str(
    text: &str,
    name: &Path,
    options: &LexOptions,
) -> Result<Vec<Statement>, ConfigError> {
    let mut lexer = Lexer::new(options);
    lexer.text(text, name, 0)?;
    lexer.parse()
}

impl Lexer {
    fn new(options: &LexOptions) -> Self {
        Self {
            options: options.clone(),
            host_id: None,
            definitions: HashMap::new(),
            line: Vec::new(),
            tree: Tree::default(),
        }
    }

    fn file(
        &mut self,
        path: &Path,
        from: Option<&Location>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            location: from.cloned().unwrap_or_else(|| Location::new(path, 0)),
            source,
        })?;
        self.text(&text, path, depth)
    }

    fn config_id(&mut self) -> &str {
        if let Some(id) = &self.options.config_id {
            return id;
        }
        self.host_id.get_or_insert_with(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .unwrap_or_default()
                .trim()
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    }

    fn text(&mut self, text: &str, path: &Path, depth: usize) -> Result<(), ConfigError> {
        let file = Arc::<Path>::from(path);
        let at = |line: usize| Location::shared(file.clone(), line);
        let mut pending = String::new();
        let mut pending_line = 0;
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            // A definition may continue over lines ending in `\`.
            if !pending.is_empty() {
                pending.push('\n');
                pending.push_str(raw.trim_end_matches('\\').trim());
                if !raw.ends_with('\\') {
                    self.define(&std::mem::take(&mut pending), &at(pending_line))?;
                }
                continue;
            }
            let mut line = raw.trim_start();
            if let Some(rest) = line.strip_prefix('@') {
                let (id, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let (negated, id) = match id.strip_prefix('^') {
                    Some(id) => (true, id),
                    None => (false, id),
                };
                if id.is_empty() {
                    return Err(ConfigError::Syntax {
                        location: at(number),
                        reason: "`@` needs a configuration id (`@ID line` or `@^ID line`)".into(),
                    });
                }
                if (id == self.config_id()) == negated {
                    continue;
                }
                line = after.trim_start();
            }
            if line.starts_with('$') && is_definition(line) {
                if line.ends_with('\\') {
                    line.trim_end_matches('\\').trim().clone_into(&mut pending);
                    pending_line = number;
                } else {
                    self.define(line, &at(number))?;
                }
                continue;
            }
            let line = self.substitute(line);
            self.line.clear();
            split_line(&line, &mut self.line).map_err(|()| ConfigError::Syntax {
                location: at(number),
                reason: "unterminated quoted string".into(),
            })?;
            if let Some(Token::Word(first)) = self.line.first()
                && &line[first.clone()] == "include"
            {
                let pattern = match self.line.get(1..) {
                    Some([Token::Word(p)]) => line[p.clone()].to_owned(),
                    _ => {
                        return Err(ConfigError::Syntax {
                            location: at(number),
                            reason: "`include` takes one file name or pattern".into(),
                        });
                    }
                };
                self.include(&pattern, path, &at(number), depth)?;
                continue;
            }
            if !self.line.is_empty() {
                self.tree.line(&line, &self.line, &file, number);
            }
        }
        if !pending.is_empty() {
            self.define(&pending, &at(pending_line))?;
        }
        Ok(())
    }

    fn define(&mut self, text: &str, location: &Location) -> Result<(), ConfigError> {
        let body = text.trim_start_matches('$');
        let (name, value) = body.split_once('=').ok_or_else(|| ConfigError::Syntax {
            location: location.clone(),
            reason: "a definition is `$NAME=value`".into(),
        })?;
        let value = self.substitute(value.trim()).into_owned();
        self.definitions.insert(name.trim().to_owned(), value);
        Ok(())
    }

    /// Replaces `$NAME` and `${NAME}` of known definitions; anything else
    /// is left as written (a `$` in a script argument, for one).
    fn substitute<'t>(&self, line: &'t str) -> Cow<'t, str> {
        if !line.contains('$') || self.definitions.is_empty() {
            return Cow::Borrowed(line);
        }
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, len) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) => (&braced[..end], end + 2),
                    None => ("", 0),
                }
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            };
            match self.definitions.get(name) {
                Some(value) if !name.is_empty() => {
                    out.push_str(value);
                    rest = &after[len..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }

    fn include(
        &mut self,
        pattern: &str,
        from: &Path,
        location: &Location,
        depth: usize,
    ) -> Result<(), ConfigError> {
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::Syntax {
                location: location.clone(),
                reason: format!("includes nest deeper than {MAX_INCLUDE_DEPTH} (a loop?)"),
            });
        }
        let full: PathBuf = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            from.parent().unwrap_or(Path::new(".")).join(pattern)
        };
        let text = full.to_string_lossy().into_owned();
        let paths = glob::glob(&text).map_err(|e| ConfigError::Syntax {
            location: location.clone(),
            reason: format!("bad include pattern `{pattern}`: {e}"),
        })?;
        let mut files: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ConfigError::Syntax {
                location: location.clone(),
                reason: format!("include `{pattern}`: no file matches {text}"),
            });
        }
        for file in files {
            self.file(&file, Some(location), depth + 1)?;
        }
        Ok(())
    }

    /// The statements read, or the first error of their braces.
    fn parse(self) -> Result<Vec<Statement>, ConfigError> {
        self.tree.finish()
    }
}

/// Whether a line starting with `$` defines (`$NAME=...`) rather than uses.
fn is_definition(line: &str) -> bool {
    let body = &line[1..];
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    name_end > 0 && body[name_end..].trim_start().starts_with('=')
}

/// Splits one line into words and braces onto `tokens`; a word starting
/// with `#` or `!` starts a comment; `"..."` is one word. Fails on an
/// unterminated quote.
fn split_line(line: &str, tokens: &mut Vec<Token>) -> Result<(), ()> {
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(());
        };
        match c {
            '#' | '!' => return Ok(()),
            '{' => {
                tokens.push(Token::Open);
                rest = &rest[1..];
            }
            '}' => {
                tokens.push(Token::Close);
                rest = &rest[1..];
            }
            '"' => {
                let body = &rest[1..];
                let end = body.find('"').ok_or(())?;
                let from = line.len() - body.len();
                tokens.push(Token::Word(from..from + end));
                rest = &body[end + 1..];
            }
            _ => {
                let end = word_end(rest);
                let from = line.len() - rest.len();
                let word = &rest[..end];
                rest = &rest[end..];
                // A `{` at the end of a word (`name{`) still opens a block;
                // a `}` inside a word stays (a regex such as `a{2}`).
                if word.len() > 1 && word.ends_with('{') {
                    tokens.push(Token::Word(from..from + end - 1));
                    tokens.push(Token::Open);
                } else {
                    tokens.push(Token::Word(from..from + end));
                }
            }
        }
    }
}

/// Where the bare word at the start of `text` ends: at white space or a
/// `"`. ASCII is judged byte by byte (a large file is mostly ASCII); from
/// the first other character on, by characters.
fn word_end(text: &str) -> usize {
    for (i, b) in text.bytes().enumerate() {
        if !b.is_ascii() {
            let rest = &text[i..];
            return i + rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
        }
        // `char::is_whitespace` in ASCII: tab, line feed, vertical tab,
        // form feed, carriage return, space.
        if matches!(b, b'\t'..=b'\r' | b' ' | b'"') {
            return i;
        }
    }
    text.len()
}

/// The statement tree, built line by line as the lexer reads (no list of
/// every token of the file is kept). A brace error is kept, not returned,
/// until the whole text is read: an error of the text itself (a quote, an
/// include) further on is the one reported, as when all is read first.
#[derive(Debug, Default)]
struct Tree {
    /// Statements of the blocks being read, outermost first: a block is
    /// moved out of it whole when it closes, into a vector of its size.
    done: Vec<Statement>,
    /// The open blocks, innermost last: where their statements start in
    /// `done` (their owner is the statement just before) and their `{`.
    open: Vec<(usize, Location)>,
    /// Whether the last statement ended a line and could still take a
    /// block opened on the next line.
    may_open: bool,
    /// The words of the statement being read (joined as in a
    /// [`Statement`]), and where it is.
    words: String,
    at: Option<Location>,
    /// The first brace error.
    error: Option<ConfigError>,
}

impl Tree {
    /// Takes one line's tokens.
    fn line(&mut self, text: &str, tokens: &[Token], file: &Arc<Path>, number: usize) {
        if self.error.is_some() {
            return;
        }
        for token in tokens {
            match token {
                Token::Word(range) => {
                    if self.at.is_none() {
                        self.at = Some(Location::shared(file.clone(), number));
                    } else {
                        self.words.push(char::from(SEPARATOR));
                    }
                    self.words.push_str(&text[range.clone()]);
                }
                Token::Open => {
                    let after_words = self.end_statement();
                    let fits = after_words
                        || (self.may_open
                            && self.done.len() > self.start()
                            && self.done.last().is_some_and(|last| last.block.is_none()));
                    if !fits {
                        self.error = Some(ConfigError::Syntax {
                            location: Location::shared(file.clone(), number),
                            reason: "`{` without a keyword before it".into(),
                        });
                        return;
                    }
                    self.open
                        .push((self.done.len(), Location::shared(file.clone(), number)));
                    self.may_open = false;
                }
                Token::Close => {
                    self.end_statement();
                    if self.close().is_none() {
                        self.error = Some(ConfigError::Syntax {
                            location: Location::shared(file.clone(), number),
                            reason: "`}` closes no block".into(),
                        });
                        return;
                    }
                }
            }
        }
        // The end of the line: a statement on it may take a block opened
        // on the next.
        if self.end_statement() {
            self.may_open = true;
        }
    }

    /// Where the innermost open block's statements start in `done`.
    fn start(&self) -> usize {
        self.open.last().map_or(0, |(start, _)| *start)
    }

    /// Ends the statement being read, if any: true if there was one.
    fn end_statement(&mut self) -> bool {
        let Some(location) = self.at.take() else {
            return false;
        };
        self.done.push(Statement::new(location, &self.words));
        self.words.clear();
        self.may_open = false;
        true
    }

    /// Closes the innermost block, giving it to its statement; `None` at
    /// the top level.
    fn close(&mut self) -> Option<()> {
        let (start, _) = self.open.pop()?;
        let block: Vec<Statement> = self.done.drain(start..).collect();
        if let Some(owner) = self.done.last_mut() {
            owner.block = Some(block);
        }
        self.may_open = false;
        Some(())
    }

    /// The statements, or the first brace error.
    fn finish(mut self) -> Result<Vec<Statement>, ConfigError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.end_statement();
        if let Some((_, location)) = self.open.pop() {
            return Err(ConfigError::Syntax {
                location,
                reason: "this `{` is never closed".into(),
            });
        }
        Ok(self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Statement>, ConfigError> {
        parse_str(
            text,
            Path::new("/nonexistent/test.conf"),
            &LexOptions {
                config_id: Some("high".into()),
            },
        )
    }

    fn words(s: &Statement) -> Vec<&str> {
        s.words().collect()
    }

    #[test]
    fn blocks_comments_and_lines() {
        let tree = parse(
            "! comment\nglobal_defs {\n  router_id LVS # trailing\n}\n\nvirtual_server 10.0.0.1 80\n{\n  lb_algo rr ! also a comment\n}\n",
        )
        .unwrap();
        assert_eq!(tree.len(), 2);
        assert_eq!(words(&tree[0]), ["global_defs"]);
        let block = tree[0].block.as_ref().unwrap();
        assert_eq!(words(&block[0]), ["router_id", "LVS"]);
        assert_eq!(block[0].location.line, 3);
        assert_eq!(words(&tree[1]), ["virtual_server", "10.0.0.1", "80"]);
        assert_eq!(tree[1].location.line, 6);
        let vs = tree[1].block.as_ref().unwrap();
        assert_eq!(words(&vs[0]), ["lb_algo", "rr"]);
        assert_eq!(vs[0].location.line, 8);
    }

    #[test]
    fn one_line_blocks_and_quotes() {
        let tree = parse("notification_email { a@b c@d }\nmisc_path \"/bin/x a b\" # c\n").unwrap();
        let block = tree[0].block.as_ref().unwrap();
        assert_eq!(words(&block[0]), ["a@b", "c@d"]);
        assert_eq!(words(&tree[1]), ["misc_path", "/bin/x a b"]);
    }

    #[test]
    fn unbalanced_braces_name_the_line() {
        let e = parse("a {\n b\n").unwrap_err();
        assert_eq!(e.location().line, 1);
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = parse("a\n}\n").unwrap_err();
        assert_eq!(e.location().line, 2);
        let e = parse("x \"open\n").unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
    }

    #[test]
    fn a_block_may_open_on_the_next_line_only_after_a_statement() {
        let tree = parse("a 1\n\n# c\n{\n b\n}\n").unwrap();
        assert_eq!(words(&tree[0].block.as_ref().unwrap()[0]), ["b"]);
        let e = parse("a { }\n{\n}\n").unwrap_err();
        assert_eq!(e.location().line, 2);
        assert!(e.to_string().contains("without a keyword"), "{e}");
        let tree = parse("a { b { c }\n d }\ne\n").unwrap();
        let a = tree[0].block.as_ref().unwrap();
        assert_eq!(words(&a[0]), ["b"]);
        assert_eq!(words(&a[0].block.as_ref().unwrap()[0]), ["c"]);
        assert_eq!((words(&a[1]), a[1].location.line), (vec!["d"], 2));
        assert_eq!(words(&tree[1]), ["e"]);
    }

    #[test]
    fn an_error_of_the_text_wins_over_an_earlier_brace_error() {
        // The whole text is read before its braces are judged.
        let e = parse("}\nx \"open\n").unwrap_err();
        assert_eq!(e.location().line, 2);
        assert!(e.to_string().contains("unterminated"), "{e}");
        let e = parse("}\n{\n").unwrap_err();
        assert_eq!(e.location().line, 1);
        assert!(e.to_string().contains("closes no block"), "{e}");
        let e = parse("a {\n b {\n").unwrap_err();
        assert_eq!(e.location().line, 2);
    }

    #[test]
    fn empty_quoted_words_are_words() {
        let tree = parse("a \"\" b\n\"\"\n\"\" \"\"\nk\n").unwrap();
        assert_eq!(words(&tree[0]), ["a", "", "b"]);
        assert_eq!(tree[0].args().to_vec(), ["", "b"]);
        assert_eq!(tree[0].args().len(), 2);
        assert_eq!((tree[1].keyword(), tree[1].args().len()), ("", 0));
        assert_eq!(tree[2].args().to_vec(), [""]);
        assert!(tree[3].args().is_empty());
        assert_eq!(tree[3].args().first(), None);
        assert_eq!(tree[0].args().join(" "), " b");
    }

    #[test]
    fn words_end_at_any_white_space_or_a_quote() {
        let tree = parse("a\u{0b}b c\u{a0}d \u{e9}t\u{e9}\"x\" f\u{2003}g\th\r\n").unwrap();
        assert_eq!(
            words(&tree[0]),
            ["a", "b", "c", "d", "\u{e9}t\u{e9}", "x", "f", "g", "h"]
        );
    }

    #[test]
    fn definitions_are_substituted() {
        let tree = parse(
            "$PORT=8080\n$VIP=10.0.0.1\nvirtual_server $VIP ${PORT} { }\nmisc_path \"/bin/x $1\"\n",
        )
        .unwrap();
        assert_eq!(words(&tree[0]), ["virtual_server", "10.0.0.1", "8080"]);
        assert_eq!(words(&tree[1]), ["misc_path", "/bin/x $1"]);
    }

    #[test]
    fn conditional_lines_follow_the_config_id() {
        let tree = parse("@high priority 170\n@low priority 85\n@^low weight 2\n@^high weight 3\n")
            .unwrap();
        let all: Vec<Vec<&str>> = tree.iter().map(words).collect();
        assert_eq!(all, [vec!["priority", "170"], vec!["weight", "2"]]);
        assert!(parse("@ x\n").is_err());
    }

    #[test]
    fn include_globs_relative_to_the_including_file() {
        let dir = std::env::temp_dir().join(format!("ipvsd-lexer-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "b 2\n").unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "a 1\n").unwrap();
        std::fs::write(dir.join("main.conf"), "top {\ninclude conf.d/*.conf\n}\n").unwrap();
        let tree = parse_file(&dir.join("main.conf"), &LexOptions::default()).unwrap();
        let block = tree[0].block.as_ref().unwrap();
        assert_eq!(words(&block[0]), ["a", "1"]);
        assert_eq!(words(&block[1]), ["b", "2"]);
        assert!(block[1].location.file.ends_with("conf.d/b.conf"));
        std::fs::write(dir.join("loop.conf"), "include loop.conf\n").unwrap();
        let e = parse_file(&dir.join("loop.conf"), &LexOptions::default()).unwrap_err();
        assert!(e.to_string().contains("deeper"), "{e}");
        let e = parse_str(
            "include nothing-*.conf\n",
            &dir.join("x.conf"),
            &LexOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("no file matches"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
