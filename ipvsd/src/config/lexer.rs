//! The keepalived.conf lexer: words, quoted strings, braces, `#` and `!`
//! comments, `include` (globs relative to the including file), `$NAME=value`
//! definitions and `@ID` / `@^ID` conditional lines, into a tree of
//! statements that each keep their file and line.
//!
//! The syntax follows keepalived.conf(5), "Configuration file syntax":
//! a statement is a line of words; a `{` opens its block (on the same line
//! or the next), `}` closes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Location};

/// How deep `include` may nest (keepalived has no limit but a loop would
/// never end).
const MAX_INCLUDE_DEPTH: usize = 32;

/// One statement: a keyword and its arguments, and its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Where its first word is.
    pub location: Location,
    /// The keyword and its arguments (quotes removed; never empty).
    pub words: Vec<String>,
    /// The block that follows, if any.
    pub block: Option<Vec<Statement>>,
}

impl Statement {
    /// The keyword (the first word).
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// The arguments (every word after the keyword).
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String, Location),
    Open(Location),
    Close(Location),
    EndOfLine,
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
    definitions: HashMap<String, String>,
    tokens: Vec<Token>,
}

/// Reads `path` (and what it includes) into statements.
///
/// # Errors
/// [`ConfigError::Read`] if a file cannot be read, [`ConfigError::Syntax`]
/// on unbalanced braces, an unterminated quote, a bad `@` line or an
/// `include` that matches nothing.
pub fn parse_file(path: &Path, options: &LexOptions) -> Result<Vec<Statement>, ConfigError> {
    let mut lexer = Lexer {
        options: options.clone(),
        definitions: HashMap::new(),
        tokens: Vec::new(),
    };
    lexer.file(path, None, 0)?;
    let mut at = 0;
    parse_block(&lexer.tokens, &mut at, None)
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
    let mut lexer = Lexer {
        options: options.clone(),
        definitions: HashMap::new(),
        tokens: Vec::new(),
    };
    lexer.text(text, name, 0)?;
    let mut at = 0;
    parse_block(&lexer.tokens, &mut at, None)
}

impl Lexer {
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

    fn config_id(&self) -> String {
        self.options.config_id.clone().unwrap_or_else(|| {
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
        let mut pending = String::new();
        let mut pending_line = 0;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            // A definition may continue over lines ending in `\`.
            if !pending.is_empty() {
                pending.push('\n');
                pending.push_str(raw.trim_end_matches('\\').trim());
                if !raw.ends_with('\\') {
                    self.define(
                        &std::mem::take(&mut pending),
                        &Location::new(path, pending_line),
                    )?;
                }
                continue;
            }
            let location = Location::new(path, number);
            let mut line = raw.trim_start();
            if let Some(rest) = line.strip_prefix('@') {
                let (id, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let (negated, id) = match id.strip_prefix('^') {
                    Some(id) => (true, id),
                    None => (false, id),
                };
                if id.is_empty() {
                    return Err(ConfigError::Syntax {
                        location,
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
                    pending = line.trim_end_matches('\\').trim().to_owned();
                    pending_line = number;
                } else {
                    self.define(line, &location)?;
                }
                continue;
            }
            let line = self.substitute(line);
            let words = split_line(&line, &location)?;
            if let Some(Token::Word(first, _)) = words.first()
                && first == "include"
            {
                let pattern = match words.get(1) {
                    Some(Token::Word(p, _)) if words.len() == 2 => p.clone(),
                    _ => {
                        return Err(ConfigError::Syntax {
                            location,
                            reason: "`include` takes one file name or pattern".into(),
                        });
                    }
                };
                self.include(&pattern, path, &location, depth)?;
                continue;
            }
            if !words.is_empty() {
                self.tokens.extend(words);
                self.tokens.push(Token::EndOfLine);
            }
        }
        if !pending.is_empty() {
            self.define(&pending, &Location::new(path, pending_line))?;
        }
        Ok(())
    }

    fn define(&mut self, text: &str, location: &Location) -> Result<(), ConfigError> {
        let body = text.trim_start_matches('$');
        let (name, value) = body.split_once('=').ok_or_else(|| ConfigError::Syntax {
            location: location.clone(),
            reason: "a definition is `$NAME=value`".into(),
        })?;
        let value = self.substitute(value.trim());
        self.definitions.insert(name.trim().to_owned(), value);
        Ok(())
    }

    /// Replaces `$NAME` and `${NAME}` of known definitions; anything else
    /// is left as written (a `$` in a script argument, for one).
    fn substitute(&self, line: &str) -> String {
        if !line.contains('$') || self.definitions.is_empty() {
            return line.to_owned();
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
        out
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
}

/// Whether a line starting with `$` defines (`$NAME=...`) rather than uses.
fn is_definition(line: &str) -> bool {
    let body = &line[1..];
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    name_end > 0 && body[name_end..].trim_start().starts_with('=')
}

/// Splits one line into words and braces; a word starting with `#` or `!`
/// starts a comment; `"..."` is one word.
fn split_line(line: &str, location: &Location) -> Result<Vec<Token>, ConfigError> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' || c == '!' {
            break;
        }
        if c == '{' {
            chars.next();
            tokens.push(Token::Open(location.clone()));
            continue;
        }
        if c == '}' {
            chars.next();
            tokens.push(Token::Close(location.clone()));
            continue;
        }
        if c == '"' {
            chars.next();
            let mut word = String::new();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                word.push(c);
            }
            if !closed {
                return Err(ConfigError::Syntax {
                    location: location.clone(),
                    reason: "unterminated quoted string".into(),
                });
            }
            tokens.push(Token::Word(word, location.clone()));
            continue;
        }
        let mut word = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c.is_whitespace() || c == '"' {
                break;
            }
            word.push(c);
            chars.next();
        }
        // A `{` at the end of a word (`name{`) still opens a block; a `}`
        // inside a word stays (a regex such as `a{2}`).
        let opens = word.len() > 1 && word.ends_with('{');
        if opens {
            word.pop();
        }
        tokens.push(Token::Word(word, location.clone()));
        if opens {
            tokens.push(Token::Open(location.clone()));
        }
    }
    Ok(tokens)
}

fn parse_block(
    tokens: &[Token],
    at: &mut usize,
    opened: Option<&Location>,
) -> Result<Vec<Statement>, ConfigError> {
    let mut statements: Vec<Statement> = Vec::new();
    // Whether the last statement ended a line and could still take a block
    // opened on the next line.
    let mut may_open = false;
    loop {
        match tokens.get(*at) {
            None => {
                return match opened {
                    Some(location) => Err(ConfigError::Syntax {
                        location: location.clone(),
                        reason: "this `{` is never closed".into(),
                    }),
                    None => Ok(statements),
                };
            }
            Some(Token::EndOfLine) => *at += 1,
            Some(Token::Close(location)) => {
                *at += 1;
                return match opened {
                    Some(_) => Ok(statements),
                    None => Err(ConfigError::Syntax {
                        location: location.clone(),
                        reason: "`}` closes no block".into(),
                    }),
                };
            }
            Some(Token::Open(location)) => {
                *at += 1;
                match statements.last_mut() {
                    Some(last) if may_open && last.block.is_none() => {
                        last.block = Some(parse_block(tokens, at, Some(location))?);
                    }
                    _ => {
                        return Err(ConfigError::Syntax {
                            location: location.clone(),
                            reason: "`{` without a keyword before it".into(),
                        });
                    }
                }
                may_open = false;
            }
            Some(Token::Word(_, location)) => {
                let location = location.clone();
                let mut words = Vec::new();
                while let Some(Token::Word(w, _)) = tokens.get(*at) {
                    words.push(w.clone());
                    *at += 1;
                }
                let mut statement = Statement {
                    location: location.clone(),
                    words,
                    block: None,
                };
                may_open = false;
                match tokens.get(*at) {
                    Some(Token::Open(open)) => {
                        *at += 1;
                        statement.block = Some(parse_block(tokens, at, Some(open))?);
                    }
                    Some(Token::EndOfLine) => may_open = true,
                    _ => {}
                }
                statements.push(statement);
            }
        }
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
        s.words.iter().map(String::as_str).collect()
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
