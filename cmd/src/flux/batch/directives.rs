//! `#FLUX:` directives of a batch script (as flux-core reads them): lines of the script's
//! first comment block (after the `#!` line) that start with `#FLUX:` (or `# flux:`, any
//! case), each split into words like a shell would.

use anyhow::bail;

/// The option words of the directives in `script`, in order.
pub fn parse(script: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    for (n, line) in script.lines().enumerate() {
        let line = line.trim();
        if n == 0 && line.starts_with("#!") {
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix('#') else {
            // The first command ends the comment block.
            break;
        };
        let comment = comment.trim_start();
        if comment.len() >= 5 && comment[..5].eq_ignore_ascii_case("flux:") {
            match split(&comment[5..]) {
                Ok(w) => words.extend(w),
                Err(e) => bail!("line {}: {e}", n + 1),
            }
        }
    }
    Ok(words)
}

/// Split `text` into words: blanks separate, `'...'` and `"..."` quote, `\` escapes, and
/// an unquoted `#` starts a comment.
pub fn split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                words.extend(word.take());
            }
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => w.push(c),
                            None => return Err("unterminated quote".into()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    word.get_or_insert_with(String::new).push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_of_the_first_comment_block() {
        let script = "#!/bin/bash\n#FLUX: -N1\n# flux: --job-name='my job' -t 5m\n\n\
                      # plain comment\n#FLUX: --output=x.out # trailing\n\
                      hostname\n#FLUX: -N 4\n";
        assert_eq!(
            parse(script).unwrap(),
            ["-N1", "--job-name=my job", "-t", "5m", "--output=x.out"]
        );
        assert!(parse("#!/bin/sh\n#FLUX: --job-name='x\n").is_err());
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split(r#"a "b c" d\ e 'f"g'"#).unwrap(),
            ["a", "b c", "d e", "f\"g"]
        );
        assert_eq!(split("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split("''").unwrap(), [""]);
    }
}
