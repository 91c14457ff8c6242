//! What the text says about its own shape: the delimiter, and a quote that is never closed.

/// The delimiters an export uses, in the order a tie is settled.
const CANDIDATES: [u8; 3] = [b';', b'\t', b','];

/// How many records the delimiter is guessed from.
const SAMPLE_RECORDS: usize = 20;

/// The delimiter that splits the first records (outside quotes) the same number of times in
/// most of them; `,` when none splits anything.
pub(super) fn delimiter(text: &str) -> u8 {
    let rows = sample_counts(text.as_bytes());
    let mut best = (0usize, 0usize, b',');
    for (k, &d) in CANDIDATES.iter().enumerate() {
        // the most common number of splits, and in how many rows
        let mut modes: Vec<(usize, usize)> = Vec::new();
        for row in &rows {
            match modes.iter_mut().find(|(n, _)| *n == row[k]) {
                Some(m) => m.1 += 1,
                None => modes.push((row[k], 1)),
            }
        }
        let Some(&(splits, rows_with)) = modes
            .iter()
            .filter(|(n, _)| *n > 0)
            .max_by_key(|&&(n, c)| (c, n))
        else {
            continue;
        };
        if (rows_with, splits) > (best.0, best.1) {
            best = (rows_with, splits, d);
        }
    }
    best.2
}

/// Per record of the first [`SAMPLE_RECORDS`] non-blank ones: how often each candidate occurs
/// outside quotes. A quote opens a quoted field only at the start of a field.
fn sample_counts(b: &[u8]) -> Vec<[usize; 3]> {
    let mut rows = Vec::new();
    let mut counts = [0usize; 3];
    let mut blank = true;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < b.len() && rows.len() < SAMPLE_RECORDS {
        let c = b[i];
        i += 1;
        if in_quotes {
            if c == b'"' {
                if b.get(i) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
            continue;
        }
        if c == b'\n' {
            if !blank {
                rows.push(counts);
            }
            counts = [0; 3];
            blank = true;
            field_start = true;
        } else if let Some(k) = CANDIDATES.iter().position(|&d| d == c) {
            counts[k] += 1;
            blank = false;
            field_start = true;
        } else if c != b'\r' {
            in_quotes = c == b'"' && field_start;
            blank = false;
            field_start = false;
        }
    }
    if !blank && rows.len() < SAMPLE_RECORDS {
        rows.push(counts);
    }
    rows
}

/// The line of a quote that opens a field and is never closed (the rest of the file would be
/// that one field), read the way the `csv` crate reads: a quote opens a quoted field only at
/// the start of a field, `""` inside is a quote.
pub(super) fn unclosed_quote(text: &str, delimiter: u8) -> Option<u64> {
    let b = text.as_bytes();
    let mut line = 1u64;
    let mut opened = 0u64;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c == b'\n' {
            line += 1;
        }
        if in_quotes {
            if c == b'"' {
                if b.get(i) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if c == b'"' && field_start {
            in_quotes = true;
            opened = line;
            field_start = false;
        } else {
            field_start = c == delimiter || c == b'\n' || c == b'\r';
        }
    }
    in_quotes.then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_that_splits_every_row_alike_wins() {
        assert_eq!(
            delimiter("5a;Müller;Anna;01.02.2015;1;\r\n5b;Li;Bo;;2;\r\n"),
            b';'
        );
        assert_eq!(delimiter("id,given_name\n1,Anna\n"), b',');
        assert_eq!(delimiter("id\tgiven_name\n1\tAnna, Lena\n"), b'\t');
        // commas in the subjects column, not in the header
        assert_eq!(
            delimiter("Kürzel;Nachname;Vorname;Fächer\nMÜL;Müller;Jürgen;Ma,Ph\n"),
            b';'
        );
        // delimiters inside quotes do not count, nor do doubled quotes
        assert_eq!(
            delimiter("id,name\n1,\"Dupont; Jr.\"\n2,\"a \"\"b\"\"; c\"\n3,\"x;\ny;\"\n"),
            b','
        );
        assert_eq!(delimiter("just one column\n"), b',');
        assert_eq!(delimiter(""), b',');
    }

    #[test]
    fn an_unclosed_quote_is_found_where_it_opens() {
        assert_eq!(unclosed_quote("a;b\n1;\"x\"\"y\"\n", b';'), None);
        assert_eq!(unclosed_quote("a;b\n1;\"x\ny\"\n", b';'), None);
        // a quote inside an unquoted field is a character
        assert_eq!(unclosed_quote("a;b\n1;Jean \"JJ\n", b';'), None);
        assert_eq!(unclosed_quote("a;b\n1;\"x\n2;y\n3;z\n", b';'), Some(2));
        assert_eq!(unclosed_quote("a,b\r\n1,\"x\r\n", b','), Some(2));
    }
}
