//! keepalived's `regex` is a PCRE2 pattern (8-bit, as Debian's keepalived
//! 2.2.7 uses PCRE2 10.42) with `regex_options` by PCRE2's names
//! (`check_http.c`); ipvsd matches with the `regex` crate. [`translate`]
//! gives the `regex` crate pattern that reaches the same verdict on every
//! body, or refuses the pattern saying why: what the `regex` crate cannot
//! do (look-around, back-references, atomic groups, possessive quantifiers,
//! recursion, `\K`, ...), and what it would read differently. Never a
//! pattern silently matched another way.
//!
//! What is translated rather than refused:
//! - PCRE2 works on bytes (keepalived sets no UTF mode) with ASCII classes
//!   and case folding: `(?-u)`, and a non-ASCII character of the pattern is
//!   its UTF-8 bytes (a quantifier after it repeats the last byte);
//! - `$` (and `\Z`) also matches before a final newline: `(?:\n?\z)`, where
//!   nothing that takes a character follows it (else refused);
//! - a `{` that is not a `{n}`, `{n,}` or `{n,m}` count is a literal brace;
//! - `\<` and `\>` are literal; in a class, `\b` is a backspace, `[` not
//!   starting `[:name:]` is literal, and `&&` / `~~` are literal.

/// The pattern keepalived gives PCRE2 for a `regex` word: keepalived reads
/// that line with backslash escapes (`parser.c`,
/// `alloc_strvec_quoted_escaped`): `\a \b \E \f \n \r \t \v` are control
/// characters (`\E` is ESC) and a backslash before any other character is
/// dropped, so PCRE2's `\d` is written `\\d` in keepalived.conf.
pub(super) fn unescape(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('E') => out.push('\u{1b}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            // A final lone backslash stays (PCRE2 refuses it anyway).
            None => out.push('\\'),
        }
    }
    out
}

/// The `regex_options` that change how a pattern reads.
#[derive(Debug, Default, Clone, Copy)]
struct Options {
    caseless: bool,
    multiline: bool,
    dotall: bool,
    extended: bool,
    ungreedy: bool,
    dollar_endonly: bool,
    alt_circumflex: bool,
    allow_empty_class: bool,
}

/// Reads one `regex_options` name.
///
/// # Errors
/// The reason an option is refused: unknown to keepalived, or with no
/// `regex` crate equivalent.
pub(super) fn check_option(name: &str) -> Result<(), String> {
    let mut o = Options::default();
    set_option(&mut o, name)
}

fn set_option(o: &mut Options, name: &str) -> Result<(), String> {
    match name {
        "caseless" => o.caseless = true,
        "multiline" => o.multiline = true,
        "dotall" => o.dotall = true,
        "extended" => o.extended = true,
        "ungreedy" => o.ungreedy = true,
        "dollar_endonly" => o.dollar_endonly = true,
        "alt_circumflex" => o.alt_circumflex = true,
        "allow_empty_class" => o.allow_empty_class = true,
        "utf" | "ucp" => {
            return Err(format!(
                "regex option `{name}`: PCRE2's Unicode mode fails on a body that is not UTF-8 and makes `[[:alpha:]]` and the like Unicode; the regex crate would match otherwise"
            ));
        }
        // Matcher tuning, callouts, capture bookkeeping, limits on what a
        // pattern may contain, an offset limit keepalived never sets: no
        // verdict changes.
        "auto_callout"
        | "dupnames"
        | "match_unset_backref"
        | "never_ucp"
        | "never_utf"
        | "no_auto_capture"
        | "no_auto_possess"
        | "no_dotstar_anchor"
        | "no_start_optimize"
        | "never_backslash_c"
        | "alt_verbnames"
        | "use_offset_limit" => {}
        "firstline" => {
            return Err(
                "regex option `firstline` (a match must start on the first line) has no equivalent in the regex crate"
                    .into(),
            );
        }
        "alt_bsux" => {
            return Err(
                "regex option `alt_bsux` (JavaScript's \\u, \\U and \\x) has no equivalent in the regex crate"
                    .into(),
            );
        }
        other => return Err(format!("`{other}` is not a regex option keepalived knows")),
    }
    Ok(())
}

/// What a piece of the pattern is, for the checks that need the pattern's
/// shape (what may follow `$`, what follows `^`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Takes one character (a literal, `.`, an escape class, a class).
    Atom,
    /// `*`, `?` or `{0...}`: may take nothing.
    MaybeNone,
    /// `+` or `{n...}` with n > 0.
    AtLeastOnce,
    Open,
    Close,
    Alt,
    Caret,
    Dollar,
    /// `\b`, `\B`, `\A`, `\z`.
    Assertion,
    /// Whitespace and comments under `extended`.
    Nothing,
}

struct Token {
    kind: Kind,
    out: String,
}

/// The `regex` crate pattern for a PCRE2 `pattern` and its `options`.
///
/// # Errors
/// Why the pattern or an option cannot be matched the same way.
pub(crate) fn translate(pattern: &str, options: &[String]) -> Result<String, String> {
    let mut o = Options::default();
    for name in options {
        set_option(&mut o, name)?;
    }
    let tokens = scan(pattern, &o)?;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == Kind::Dollar && t.out != "$" && !only_zero_width_after(&tokens, i + 1) {
            return Err(
                "`$` followed by more pattern: PCRE2's `$` also matches before a final newline, which the regex crate can only take as a character at the end (set `dollar_endonly` or `multiline` to use a plain end)"
                    .into(),
            );
        }
        if t.kind == Kind::Caret && o.multiline && !o.alt_circumflex && !takes_one(&tokens, i + 1) {
            return Err(
                "`^` with `multiline` not followed by a character: PCRE2's `^` does not match after a newline that ends the body, the regex crate's does (add `alt_circumflex` to accept that)"
                    .into(),
            );
        }
    }
    let mut flags = String::new();
    for (on, f) in [
        (o.caseless, 'i'),
        (o.multiline, 'm'),
        (o.dotall, 's'),
        (o.extended, 'x'),
        (o.ungreedy, 'U'),
    ] {
        if on {
            flags.push(f);
        }
    }
    // Bytes, ASCII classes and ASCII case folding, as PCRE2 without UTF.
    let mut out = format!("(?{flags}-u)");
    for t in &tokens {
        out.push_str(&t.out);
    }
    regex::bytes::Regex::new(&out).map_err(|e| {
        let why = e.to_string();
        let last = why.lines().last().unwrap_or(&why).trim();
        format!("the regex crate refuses it: {last}")
    })?;
    Ok(out)
}

/// Reads the pattern into tokens, refusing what has no equivalent.
fn scan(pattern: &str, o: &Options) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let push = |tokens: &mut Vec<Token>, kind, out: String| tokens.push(Token { kind, out });
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let (kind, out, next) = escape(&chars, i, false)?;
                push(&mut tokens, kind, out);
                i = next;
                continue;
            }
            '[' => {
                let (out, next) = class(&chars, i, o)?;
                push(&mut tokens, Kind::Atom, out);
                i = next;
                continue;
            }
            '(' => {
                let (kind, out, next) = group_open(&chars, i)?;
                push(&mut tokens, kind, out);
                i = next;
                continue;
            }
            ')' => push(&mut tokens, Kind::Close, ")".into()),
            '|' => push(&mut tokens, Kind::Alt, "|".into()),
            '^' => push(&mut tokens, Kind::Caret, "^".into()),
            '$' => {
                let out = if o.multiline || o.dollar_endonly {
                    "$"
                } else {
                    r"(?:\n?\z)"
                };
                push(&mut tokens, Kind::Dollar, out.into());
            }
            '*' | '+' | '?' => {
                repeatable(&tokens)?;
                let kind = if c == '+' {
                    Kind::AtLeastOnce
                } else {
                    Kind::MaybeNone
                };
                push(&mut tokens, kind, c.to_string());
                i = after_quantifier(&chars, i + 1, o, &mut tokens)?;
                continue;
            }
            '{' => match counted(&chars, i) {
                Some((min, end)) => {
                    repeatable(&tokens)?;
                    let kind = if min == 0 {
                        Kind::MaybeNone
                    } else {
                        Kind::AtLeastOnce
                    };
                    push(&mut tokens, kind, chars[i..end].iter().collect());
                    i = after_quantifier(&chars, end, o, &mut tokens)?;
                    continue;
                }
                // PCRE2 10.42: not a count, a literal brace.
                None => push(&mut tokens, Kind::Atom, r"\{".into()),
            },
            '#' if o.extended => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p);
                push(&mut tokens, Kind::Nothing, chars[i..end].iter().collect());
                i = end;
                continue;
            }
            c if o.extended && c.is_whitespace() => push(&mut tokens, Kind::Nothing, c.into()),
            // PCRE2 without UTF sees the bytes: each one an item of its own.
            c if !c.is_ascii() => {
                for b in c.encode_utf8(&mut [0; 4]).bytes() {
                    push(&mut tokens, Kind::Atom, format!("\\x{b:02x}"));
                }
            }
            c => push(&mut tokens, Kind::Atom, c.to_string()),
        }
        i += 1;
    }
    Ok(tokens)
}

/// A quantifier must follow something it can repeat (PCRE2 refuses it
/// after an assertion or another quantifier; the regex crate would take it).
fn repeatable(tokens: &[Token]) -> Result<(), String> {
    match tokens.iter().rev().find(|t| t.kind != Kind::Nothing) {
        Some(t) if matches!(t.kind, Kind::Atom | Kind::Close) => Ok(()),
        _ => Err(
            "a quantifier with nothing to repeat before it (the start, an assertion or another quantifier): PCRE2 refuses it"
                .into(),
        ),
    }
}

/// After a quantifier: a lazy `?` is kept, a possessive `+` refused
/// (with `extended`, also after whitespace, which both engines skip).
fn after_quantifier(
    chars: &[char],
    i: usize,
    o: &Options,
    tokens: &mut [Token],
) -> Result<usize, String> {
    let mut j = i;
    while o.extended && chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    match chars.get(j) {
        Some('+') => Err(
            "a possessive quantifier (`*+`, `++`, `?+`, `{n}+`): the regex crate has none (it would read a repetition of a repetition)"
                .into(),
        ),
        Some('?') => {
            if let Some(last) = tokens.last_mut() {
                last.out.push('?');
            }
            Ok(j + 1)
        }
        _ => Ok(i),
    }
}

/// `{n}`, `{n,}` or `{n,m}` at `i`: its minimum and the index after it.
fn counted(chars: &[char], i: usize) -> Option<(u64, usize)> {
    let close = i + chars[i..].iter().position(|&c| c == '}')?;
    let inner: String = chars[i + 1..close].iter().collect();
    let (min, max) = match inner.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (inner.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(min) || max.is_some_and(|m| !m.is_empty() && !digits(m)) {
        return None;
    }
    Some((min.parse().ok()?, close + 1))
}

/// A `(` at `i`: a group's opening, or a flag setting (`(?i)`) that opens
/// none; its output and the index after it.
fn group_open(chars: &[char], i: usize) -> Result<(Kind, String, usize), String> {
    let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
    let refuse = |what: &str| Err(format!("{what}: the regex crate has none"));
    if rest.starts_with("(*") {
        return refuse("a backtracking verb or start option `(*...)`");
    }
    if !rest.starts_with("(?") {
        return Ok((Kind::Open, "(".into(), i + 1));
    }
    let after = &rest[2..];
    if after.starts_with(':') {
        return Ok((Kind::Open, "(?:".into(), i + 3));
    }
    if after.starts_with("<=") || after.starts_with("<!") {
        return refuse("look-behind `(?<=` / `(?<!`");
    }
    if after.starts_with('=') || after.starts_with('!') {
        return refuse("look-ahead `(?=` / `(?!`");
    }
    if after.starts_with("P<") {
        return Ok((Kind::Open, "(?P<".into(), i + 4));
    }
    if after.starts_with('<') {
        return Ok((Kind::Open, "(?<".into(), i + 3));
    }
    match after.chars().next() {
        Some('>') => refuse("an atomic group `(?>`"),
        Some('|') => refuse("a branch reset group `(?|`"),
        Some('#') => refuse("a comment group `(?#...)` (use `extended` and `#`)"),
        Some('(') => refuse("a conditional group `(?(`"),
        Some('C') => refuse("a callout `(?C`"),
        Some('\'') => refuse("a group named with quotes `(?'name'` (write `(?<name>`)"),
        Some('P' | 'R' | '&' | '+' | '0'..='9') => refuse(
            "recursion or a back-reference by name (`(?R)`, `(?1)`, `(?&name)`, `(?P=name)`, `(?P>name)`)",
        ),
        Some(_) => {
            // Inline flags: `i`, `s` and `U` read the same; `m` and `x`
            // change how this module reads the pattern, so they are options.
            let end = chars[i + 2..]
                .iter()
                .position(|&c| c == ')' || c == ':')
                .map(|p| i + 2 + p)
                .ok_or_else(|| "an unclosed `(?`".to_owned())?;
            let flags: String = chars[i + 2..end].iter().collect();
            if let Some(bad) = flags.chars().find(|f| !matches!(f, 'i' | 's' | 'U' | '-')) {
                return Err(match bad {
                    'm' | 'x' => format!(
                        "the inline flag `{bad}`: use `regex_options {}` for the whole pattern",
                        if bad == 'm' { "multiline" } else { "extended" }
                    ),
                    _ => format!("the inline flag `{bad}`: the regex crate has none"),
                });
            }
            let kind = if chars[end] == ')' {
                Kind::Nothing
            } else {
                Kind::Open
            };
            Ok((kind, chars[i..=end].iter().collect(), end + 1))
        }
        None => Err("an unclosed `(?`".into()),
    }
}

/// A backslash escape at `i` (in a class when `in_class`): its kind, its
/// output and the index after it.
fn escape(chars: &[char], i: usize, in_class: bool) -> Result<(Kind, String, usize), String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("a `\\` ends the pattern".into());
    };
    let none = |what: &str| Err(format!("`\\{c}` ({what}): the regex crate has none"));
    match c {
        '1'..='9' => none("a back-reference"),
        'g' | 'k' => none("a back-reference"),
        '0' => none("an octal character: write `\\xHH`"),
        'o' => none("an octal character: write `\\x{...}`"),
        'K' => none("reset the match start"),
        'G' => none("the first matching position"),
        'Q' | 'E' => none("quoting: escape each character instead"),
        'C' => none("one code unit"),
        'X' => none("an extended grapheme cluster"),
        'R' => none("any newline sequence"),
        'h' | 'H' => none("horizontal whitespace: write the class out"),
        'v' | 'V' => none(
            "vertical whitespace (the regex crate's `\\v` is a vertical tab): write the class out",
        ),
        'N' => none("not a newline"),
        'e' => none("escape: write `\\x1b`"),
        'c' => none("a control character: write `\\xHH`"),
        'u' | 'U' => none("PCRE2 refuses it without `alt_bsux`"),
        'b' if in_class => Ok((Kind::Atom, r"\x08".into(), i + 2)),
        'Z' => {
            if in_class {
                return none("end of subject");
            }
            // The end, or before a final newline, whatever the options.
            Ok((Kind::Dollar, r"(?:\n?\z)".into(), i + 2))
        }
        'b' | 'B' | 'A' | 'z' => Ok((Kind::Assertion, format!("\\{c}"), i + 2)),
        // PCRE2 reads these as the literal characters.
        '<' | '>' => Ok((Kind::Atom, c.to_string(), i + 2)),
        'x' => {
            // `\x{...}` or up to two hex digits; the regex crate wants two.
            if chars.get(i + 2) == Some(&'{') {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| i + p)
                    .ok_or_else(|| "an unclosed `\\x{`".to_owned())?;
                return Ok((Kind::Atom, chars[i..=close].iter().collect(), close + 1));
            }
            let hex: String = chars[i + 2..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            let value = u32::from_str_radix(&hex, 16).unwrap_or(0);
            Ok((Kind::Atom, format!("\\x{value:02x}"), i + 2 + hex.len()))
        }
        'p' | 'P' => {
            // `\pL` or `\p{...}`.
            let end = if chars.get(i + 2) == Some(&'{') {
                chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| i + p + 1)
                    .ok_or_else(|| "an unclosed `\\p{`".to_owned())?
            } else {
                (i + 3).min(chars.len())
            };
            Ok((Kind::Atom, chars[i..end].iter().collect(), end))
        }
        c => Ok((Kind::Atom, format!("\\{c}"), i + 2)),
    }
}

/// A class `[...]` at `i`: its output and the index after it.
fn class(chars: &[char], i: usize, o: &Options) -> Result<(String, usize), String> {
    let mut out = String::from("[");
    let mut j = i + 1;
    if chars.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        if o.allow_empty_class {
            return Err(
                "an empty class `[]` (`allow_empty_class`): the regex crate has none".into(),
            );
        }
        // A `]` first is a literal.
        out.push_str(r"\]");
        j += 1;
    }
    while j < chars.len() {
        let c = chars[j];
        match c {
            ']' => {
                out.push(']');
                return Ok((out, j + 1));
            }
            '\\' => {
                let (_, e, next) = escape(chars, j, true)?;
                out.push_str(&e);
                j = next;
                continue;
            }
            '[' => {
                let posix = chars.get(j + 1) == Some(&':');
                let end = posix
                    .then(|| {
                        chars[j + 2..]
                            .windows(2)
                            .position(|w| w == [':', ']'])
                            .map(|p| j + 2 + p)
                    })
                    .flatten();
                match end {
                    Some(end) => {
                        let name: String = chars[j + 2..end].iter().collect();
                        if name == "<" || name == ">" {
                            return Err(format!("`[[:{name}:]]` (a word boundary): write `\\b`"));
                        }
                        out.extend(&chars[j..end + 2]);
                        j = end + 2;
                        continue;
                    }
                    // PCRE2: a literal `[` (the regex crate would nest a class).
                    None => out.push_str(r"\["),
                }
            }
            '&' | '~' if chars.get(j + 1) == Some(&c) => {
                // The regex crate's set operations; PCRE2's literals.
                out.push('\\');
                out.push(c);
            }
            '-' if chars.get(j + 1) == Some(&'-') => {
                return Err(
                    "`--` in a class (the regex crate reads a set difference): escape one `\\-`"
                        .into(),
                );
            }
            c if o.extended && (c.is_whitespace() || c == '#') => {
                return Err(format!(
                    "{c:?} in a class with `extended`: PCRE2 keeps it, the regex crate ignores it; escape it"
                ));
            }
            c if !c.is_ascii() => {
                for b in c.encode_utf8(&mut [0; 4]).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
        j += 1;
    }
    Err("an unclosed class `[`".into())
}

/// Whether only group ends, other alternatives and more `$` follow token
/// `from` to the end of the pattern: then `$` may take the final newline
/// (not before `\z` or `\b`, which would then see another position).
fn only_zero_width_after(tokens: &[Token], from: usize) -> bool {
    let mut j = from;
    while j < tokens.len() {
        match tokens[j].kind {
            Kind::Close | Kind::Nothing | Kind::Dollar => j += 1,
            Kind::MaybeNone | Kind::AtLeastOnce if j > 0 && tokens[j - 1].kind == Kind::Close => {
                j += 1;
            }
            // Another alternative: skip to the end of its group.
            Kind::Alt => {
                let mut depth = 0usize;
                j += 1;
                while j < tokens.len() {
                    match tokens[j].kind {
                        Kind::Open => depth += 1,
                        Kind::Close if depth == 0 => break,
                        Kind::Close => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => return false,
        }
    }
    true
}

/// Whether the pattern from token `from` must take a character before it
/// can end (zero-width items skipped; a group counts when every one of its
/// alternatives must).
fn takes_one(tokens: &[Token], from: usize) -> bool {
    let mut j = from;
    while j < tokens.len() {
        match tokens[j].kind {
            Kind::Atom => match next(tokens, j + 1) {
                Some((k, Kind::MaybeNone)) => j = k + 1,
                _ => return true,
            },
            Kind::Open => {
                let Some(close) = group_end(tokens, j) else {
                    return false;
                };
                let optional = match next(tokens, close + 1) {
                    Some((k, Kind::MaybeNone)) => Some(k),
                    _ => None,
                };
                if optional.is_none()
                    && alternatives(tokens, j)
                        .iter()
                        .all(|&a| takes_one_within(tokens, a, close))
                {
                    return true;
                }
                j = optional.unwrap_or(close) + 1;
            }
            Kind::Caret | Kind::Dollar | Kind::Assertion | Kind::Nothing => j += 1,
            _ => return false,
        }
    }
    false
}

/// The first token from `from` that is not whitespace or a comment.
fn next(tokens: &[Token], from: usize) -> Option<(usize, Kind)> {
    (from..tokens.len())
        .map(|k| (k, tokens[k].kind))
        .find(|&(_, kind)| kind != Kind::Nothing)
}

/// [`takes_one`] for an alternative that ends at its `|` or at `close`.
fn takes_one_within(tokens: &[Token], from: usize, close: usize) -> bool {
    let end = (from..close)
        .scan(0usize, |depth, k| {
            let at = *depth;
            match tokens[k].kind {
                Kind::Open => *depth += 1,
                Kind::Close => *depth = depth.saturating_sub(1),
                _ => {}
            }
            Some((k, at))
        })
        .find(|&(k, at)| at == 0 && tokens[k].kind == Kind::Alt)
        .map_or(close, |(k, _)| k);
    takes_one(&tokens[..end], from)
}

/// The index of the `)` closing the group opened at `open`.
fn group_end(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first token of each alternative of the group opened at `open`.
fn alternatives(tokens: &[Token], open: usize) -> Vec<usize> {
    let mut starts = vec![open + 1];
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close if depth == 0 => break,
            Kind::Close => depth -= 1,
            Kind::Alt if depth == 0 => starts.push(k + 1),
            _ => {}
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(pattern: &str, options: &[&str]) -> regex::bytes::Regex {
        let options: Vec<String> = options.iter().map(|&s| s.to_owned()).collect();
        match translate(pattern, &options) {
            Ok(p) => regex::bytes::Regex::new(&p).unwrap(),
            Err(e) => panic!("{pattern:?} refused: {e}"),
        }
    }

    fn refused(pattern: &str, options: &[&str]) -> String {
        let options: Vec<String> = options.iter().map(|&s| s.to_owned()).collect();
        match translate(pattern, &options) {
            Ok(p) => panic!("{pattern:?} accepted as {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn what_the_regex_crate_cannot_do_is_refused_with_the_reason() {
        for (pattern, why) in [
            ("(?=ok)", "look-ahead"),
            ("(?!error)", "look-ahead"),
            ("(?<=a)b", "look-behind"),
            ("(?<!a)b", "look-behind"),
            (r"(a)\1", "back-reference"),
            (r"(?<n>a)\k<n>", "back-reference"),
            (r"(a)\g1", "back-reference"),
            ("(?P=n)", "back-reference"),
            ("(?>a+)b", "atomic"),
            ("a++b", "possessive"),
            ("a*+", "possessive"),
            ("a{2}+", "possessive"),
            ("(?R)", "recursion"),
            ("(?1)", "recursion"),
            ("(*UTF)a", "verb"),
            (r"a\Kb", "match start"),
            (r"\Qa.b\E", "quoting"),
            (r"\h", "horizontal"),
            (r"a\v", "vertical"),
            (r"[\v]", "vertical"),
            (r"\R", "newline"),
            (r"\e", "escape"),
            (r"\012", "octal"),
            (r"\0", "octal"),
            ("(?(1)a|b)", "conditional"),
            ("(?#note)a", "comment"),
            ("(?|(a)|(b))", "branch reset"),
            ("[[:<:]]a", "word boundary"),
            ("[a--b]", "set difference"),
            ("(?m)^a", "multiline"),
            ("(?x)a b", "extended"),
            ("a**", "nothing to repeat"),
            (r"\b+", "nothing to repeat"),
            ("^*", "nothing to repeat"),
        ] {
            let e = refused(pattern, &[]);
            assert!(e.contains(why), "{pattern:?}: {e}");
        }
        // With `extended` both engines skip whitespace before the `+`.
        for pattern in ["a+ +b", "a{2} +"] {
            let e = refused(pattern, &["extended"]);
            assert!(e.contains("possessive"), "{pattern:?}: {e}");
        }
        assert!(ok("a+ ?b", &["extended"]).is_match(b"aab"));
    }

    #[test]
    fn options_without_an_equivalent_are_refused() {
        assert!(refused("a", &["firstline"]).contains("firstline"));
        assert!(refused("a", &["alt_bsux"]).contains("alt_bsux"));
        assert!(refused("a", &["no_such_option"]).contains("no_such_option"));
        assert!(refused("a", &["utf"]).contains("UTF-8"));
        assert!(refused("a", &["utf", "ucp"]).contains("UTF-8"));
        assert!(refused("[]a]", &["allow_empty_class"]).contains("empty class"));
        assert!(refused("[a b]", &["extended"]).contains("extended"));
        assert!(check_option("caseless").is_ok());
        assert!(check_option("no_start_optimize").is_ok());
        assert!(check_option("firstline").is_err());
    }

    #[test]
    fn options_become_flags() {
        let r = ok("^ok$", &["caseless", "multiline"]);
        assert!(r.is_match(b"status\nOK\n"));
        assert!(!r.is_match(b"status\nOK go\n"));
        let r = ok("a.b", &["dotall"]);
        assert!(r.is_match(b"a\nb"));
        assert!(!ok("a.b", &[]).is_match(b"a\nb"));
        let r = ok(
            "a b # comment\n c",
            &["extended", "ungreedy", "no_auto_possess"],
        );
        assert!(r.is_match(b"abc"));
    }

    #[test]
    fn bytes_and_ascii_classes() {
        // PCRE2 without UTF: `.` is one byte, `\w` ASCII.
        assert!(!ok(r"^\w$", &[]).is_match("é".as_bytes()));
        assert!(ok(r"^..$", &[]).is_match("é".as_bytes()));
        // A quantifier after a non-ASCII character repeats its last byte.
        assert!(ok("^é*$", &[]).is_match(b"\xc3"));
        assert!(ok("^é+$", &[]).is_match(b"\xc3\xa9\xa9"));
        assert!(ok("^[é]+$", &[]).is_match(b"\xa9\xc3"));
        assert!(!ok("(?i)é", &[]).is_match("É".as_bytes()));
        assert!(ok(r"^\xff", &[]).is_match(b"\xff"));
    }

    #[test]
    fn dollar_also_matches_before_a_final_newline() {
        let r = ok("ok$", &[]);
        assert!(
            r.is_match(b"all ok\n"),
            "PCRE2's `$` before the final newline"
        );
        assert!(r.is_match(b"all ok"));
        assert!(!r.is_match(b"ok\nmore\n"));
        assert!(ok(r"ok\Z", &[]).is_match(b"ok\n"));
        assert!(ok("(ok$|fine)", &[]).is_match(b"ok\n"));
        assert!(!ok("ok$", &["dollar_endonly"]).is_match(b"ok\n"));
        assert!(refused(r"ok$\n", &[]).contains("final newline"));
        assert!(refused(r"(ok$)x", &[]).contains("final newline"));
        assert!(refused(r"ok\Z\z", &[]).contains("final newline"));
        assert!(ok(r"ok$$", &[]).is_match(b"ok\n"));
        // With multiline `$` is the end of any line in both.
        assert!(ok(r"ok$\n", &["multiline"]).is_match(b"ok\n"));
    }

    #[test]
    fn multiline_caret_must_be_followed_by_a_character() {
        assert!(ok("^OK", &["multiline"]).is_match(b"x\nOK"));
        assert!(ok(r"^\s*(OK|FINE)$", &["multiline"]).is_match(b"x\n  FINE\n"));
        assert!(refused("^$", &["multiline"]).contains("alt_circumflex"));
        assert!(refused("^(a|)", &["multiline"]).contains("alt_circumflex"));
        assert!(refused("^a?", &["multiline"]).contains("alt_circumflex"));
        // alt_circumflex: PCRE2 then matches there too, as the regex crate.
        assert!(ok("^$", &["multiline", "alt_circumflex"]).is_match(b"a\n"));
        // Without multiline `^` is the start only, in both.
        assert!(ok("^$", &[]).is_match(b""));
    }

    #[test]
    fn keepalived_unescapes_the_regex_line_first() {
        assert_eq!(unescape(r"\\d+ ok"), r"\d+ ok");
        assert_eq!(unescape(r"a\.b"), "a.b", "a lone backslash is dropped");
        assert_eq!(unescape(r"a\tb\n"), "a\tb\n");
        assert_eq!(unescape(r"x\"), r"x\");
        assert!(ok(&unescape(r"^\\d+$"), &[]).is_match(b"42\n"));
    }

    #[test]
    fn pcre_literals_stay_literals() {
        assert!(
            ok(r"a{,3}", &[]).is_match(b"a{,3}"),
            "not a count in PCRE2 10.42"
        );
        assert!(ok(r"x{2}", &[]).is_match(b"xx"));
        assert!(ok(r"\<b\>", &[]).is_match(b"<b>"));
        assert!(ok(r"[\b]", &[]).is_match(b"\x08"));
        assert!(ok(r"[a[b]", &[]).is_match(b"["));
        assert!(ok(r"[&&]", &[]).is_match(b"&"));
        assert!(ok(r"[]a]", &[]).is_match(b"]"));
        assert!(ok(r"[[:digit:]]+", &[]).is_match(b"42"));
        assert!(ok(r"\x4", &[]).is_match(b"\x04"));
        assert!(ok(r"a+?b*?", &[]).is_match(b"ab"));
        assert!(ok(r"(?i)OK", &[]).is_match(b"ok"));
        assert!(ok(r"(?<name>a)(?:b)", &[]).is_match(b"ab"));
    }
}
