//! A markdown text cut into claims: its sentences, where a list item is one
//! sentence whatever its length. Headings, code blocks, HTML and tables say
//! nothing to check and are left out. The same cut gives an answer's
//! passages, the places a claim is looked for.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Words before a full stop that do not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "eg", "ie", "vs", "etc", "cf", "approx", "dr", "mr", "mrs", "ms", "prof", "st",
    "no", "fig", "al", "ca", "resp", "incl", "min", "max", "jr", "sr",
];

/// The byte spans of the claims of `text`, in order, at most `max`.
pub fn split(text: &str, max: usize) -> Vec<(usize, usize)> {
    let mut claims = Vec::new();
    // Block containers open around the text being read.
    let mut blocks: Vec<Container> = Vec::new();
    // Inside a heading, a code block, HTML or a table: not claims.
    let mut skipped = 0usize;
    let mut run: Option<(usize, usize)> = None;
    let parser = Parser::new_ext(
        text,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES,
    );
    for (event, range) in parser.into_offset_iter() {
        if claims.len() >= max {
            break;
        }
        let boundary = match &event {
            Event::Start(tag) => match block(tag) {
                Some(container) => {
                    flush(text, &mut run, &blocks, &mut claims);
                    if container == Container::Skipped {
                        skipped += 1;
                    }
                    blocks.push(container);
                    true
                }
                None => false,
            },
            Event::End(tag) => match block_end(tag) {
                true => {
                    flush(text, &mut run, &blocks, &mut claims);
                    if blocks.pop() == Some(Container::Skipped) {
                        skipped -= 1;
                    }
                    true
                }
                false => false,
            },
            Event::Rule | Event::DisplayMath(_) => {
                flush(text, &mut run, &blocks, &mut claims);
                true
            }
            _ => false,
        };
        if !boundary && skipped == 0 {
            run = Some(run.map_or((range.start, range.end), |(s, e)| {
                (s.min(range.start), e.max(range.end))
            }));
        }
    }
    flush(text, &mut run, &blocks, &mut claims);
    claims.truncate(max);
    claims
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Paragraph,
    Item,
    /// Any other block whose text may be claims (a quote, a list).
    Other,
    Skipped,
}

fn block(tag: &Tag<'_>) -> Option<Container> {
    Some(match tag {
        Tag::Paragraph => Container::Paragraph,
        Tag::Item => Container::Item,
        Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::Table(_) => Container::Skipped,
        // Model output is not trusted HTML: a line that starts with a tag
        // (a model echoing `<answer-…>`) is read as text.
        Tag::HtmlBlock => Container::Other,
        Tag::BlockQuote(_)
        | Tag::List(_)
        | Tag::FootnoteDefinition(_)
        | Tag::DefinitionList
        | Tag::DefinitionListTitle
        | Tag::DefinitionListDefinition
        | Tag::MetadataBlock(_) => Container::Other,
        Tag::TableHead | Tag::TableRow | Tag::TableCell => Container::Other,
        _ => return None,
    })
}

fn block_end(tag: &TagEnd) -> bool {
    !matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Image
            | TagEnd::Superscript
            | TagEnd::Subscript
    )
}

/// Ends the text read so far: one claim for a list item's text, its
/// sentences for any other.
fn flush(
    text: &str,
    run: &mut Option<(usize, usize)>,
    blocks: &[Container],
    claims: &mut Vec<(usize, usize)>,
) {
    let Some((start, end)) = run.take() else {
        return;
    };
    let in_item = blocks
        .iter()
        .rev()
        .find(|b| **b != Container::Paragraph)
        .is_some_and(|b| *b == Container::Item);
    if in_item {
        push_trimmed(text, start, end, claims);
    } else {
        sentences(text, start, end, claims);
    }
}

/// The sentences of `text[start..end]`.
fn sentences(text: &str, start: usize, end: usize, claims: &mut Vec<(usize, usize)>) {
    let slice = &text[start..end];
    let mut from = 0;
    let mut chars = slice.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let wide = matches!(c, '。' | '！' | '？');
        if !matches!(c, '.' | '!' | '?' | '…') && !wide {
            continue;
        }
        // The stop, more stops, and what closes around it (`?!`, `."`, `.)`).
        let mut stop = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if matches!(
                d,
                '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']' | '*' | '_'
            ) {
                stop = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let followed_by_space = chars.peek().is_none_or(|(_, d)| d.is_whitespace());
        if !(followed_by_space || wide) {
            continue;
        }
        if c == '.' && stop == i + 1 && abbreviation(&slice[from..i]) {
            continue;
        }
        push_trimmed(text, start + from, start + stop, claims);
        from = stop;
    }
    push_trimmed(text, start + from, end, claims);
}

/// Whether the word before a full stop is an abbreviation or an initial.
fn abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    (lower.chars().count() == 1 && lower.chars().all(char::is_alphabetic))
        || ABBREVIATIONS.contains(&lower.as_str())
}

/// Adds `text[start..end]` without the space and the tags (`<answer-…>`)
/// around it, when it has a letter or a digit.
fn push_trimmed(text: &str, start: usize, end: usize, claims: &mut Vec<(usize, usize)>) {
    let (mut start, mut end) = (start, end);
    loop {
        let piece = &text[start..end];
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            return;
        }
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        (start, end) = (start + lead, end - trail);
        let tag_len = |s: &str| {
            s.find('>')
                .filter(|n| *n < 80 && !s[..*n].contains(char::is_whitespace))
        };
        if trimmed.starts_with('<')
            && let Some(n) = tag_len(trimmed)
        {
            start += n + 1;
        } else if trimmed.ends_with('>')
            && let Some(open) = trimmed.rfind('<')
        {
            let tag = &trimmed[open..];
            if tag.len() > 80 || tag.contains(char::is_whitespace) {
                break;
            }
            end -= tag.len();
        } else {
            break;
        }
    }
    if text[start..end].chars().any(char::is_alphanumeric) {
        claims.push((start, end));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(text: &str) -> Vec<&str> {
        split(text, 100)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn sentences_items_and_what_is_left_out() {
        let text = "# Boiling\n\nWater boils at 100 °C at sea level. At altitude, e.g. in Denver, it \
                    boils lower! Is that so?\n\n- A pressure cooker raises it.\n- Salt barely \
                    changes it. Really.\n\n```\nlet t = 100.0;\n```\n\n> Dr. Smith measured 2.5 \
                    degrees.\n\nSo it goes…\n";
        assert_eq!(
            claims(text),
            [
                "Water boils at 100 °C at sea level.",
                "At altitude, e.g. in Denver, it boils lower!",
                "Is that so?",
                "A pressure cooker raises it.",
                "Salt barely changes it. Really.",
                "Dr. Smith measured 2.5 degrees.",
                "So it goes…",
            ]
        );
    }

    #[test]
    fn markup_stays_in_the_claim_and_unicode_is_cut_on_boundaries() {
        let text = "It is **blue**. Das Wasser kocht bei 100 °C. 水は100度で沸騰する。次の文。\n\n1. First *item*\n   over two lines\n2. `code` in an item\n";
        assert_eq!(
            claims(text),
            [
                "It is **blue**.",
                "Das Wasser kocht bei 100 °C.",
                "水は100度で沸騰する。",
                "次の文。",
                "First *item*\n   over two lines",
                "`code` in an item",
            ]
        );
    }

    #[test]
    fn a_tag_a_model_echoes_is_text_around_its_claims() {
        let text = "<answer-5e58bbe39cd9>\nStore herbs in water. Keep them cool.\n</answer-5e58bbe39cd9>\n";
        assert_eq!(claims(text), ["Store herbs in water.", "Keep them cool."]);
        // Only a tag, or only space: no claim, and no panic.
        assert!(claims("<a>\n\n  \n\n</a>").is_empty());
        assert!(claims("𖫳.\n```\n ```").len() <= 1);
    }

    #[test]
    fn the_count_is_capped() {
        let text = "One claim here. ".repeat(50);
        assert_eq!(split(&text, 7).len(), 7);
        assert!(split("", 7).is_empty());
        assert!(split("```\ncode.\n```\n", 7).is_empty());
    }
}
