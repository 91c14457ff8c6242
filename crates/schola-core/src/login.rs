//! Login names: a scheme such as `{given}.{family}`, transliterated to lower-case ASCII the way
//! German, Belgian and Dutch schools expect (ä→ae, ö→oe, ü→ue, ß→ss, é→e, ł→l, ø→o, apostrophes
//! dropped); other scripts go through `deunicode`. Clashes get a counter, chosen by the store.

/// Longest login we hand out: Samba, NSS and mail local parts all cope with 32.
pub const MAX_LOGIN_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Given,
    Family,
    GivenInitial,
    FamilyInitial,
    Literal(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginScheme(Vec<Part>);

impl Default for LoginScheme {
    fn default() -> Self {
        LoginScheme(vec![Part::Given, Part::Literal('.'), Part::Family])
    }
}

impl LoginScheme {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("'{s}' has an unclosed '{{'"))?;
                parts.push(match &after[..end] {
                    "given" => Part::Given,
                    "family" => Part::Family,
                    "g" => Part::GivenInitial,
                    "f" => Part::FamilyInitial,
                    other => {
                        return Err(format!("unknown placeholder '{{{other}}}' (use {{given}}, {{family}}, {{g}} or {{f}})"));
                    }
                });
                rest = &after[end + 1..];
            } else {
                let c = rest.chars().next().unwrap_or('.');
                if !matches!(c, '.' | '-' | '_') {
                    return Err(format!(
                        "'{c}' is not allowed between placeholders (use '.', '-' or '_')"
                    ));
                }
                parts.push(Part::Literal(c));
                rest = &rest[c.len_utf8()..];
            }
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Part::Given | Part::Family))
        {
            return Err(format!("'{s}' must contain {{given}} or {{family}}"));
        }
        Ok(LoginScheme(parts))
    }

    /// The login before any clash counter, or `None` if the names leave nothing usable.
    pub fn base_login(&self, given: &str, family: &str) -> Option<String> {
        let g = ascii_fold(given);
        let f = ascii_fold(family);
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Given => out.push_str(&g),
                Part::Family => out.push_str(&f),
                Part::GivenInitial => out.extend(g.chars().next()),
                Part::FamilyInitial => out.extend(f.chars().next()),
                Part::Literal(c) => out.push(*c),
            }
        }
        let out = tidy(&out);
        // leave room for a counter
        let out: String = out.chars().take(MAX_LOGIN_LEN - 3).collect();
        let out = out.trim_end_matches(['.', '-', '_']).to_string();
        if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
            None
        } else {
            Some(out)
        }
    }
}

/// `base`, `base2`, `base3`, …
pub fn with_counter(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}{n}")
    }
}

/// Lower-case ASCII letters, digits and hyphens from a name part.
pub fn ascii_fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            '\'' | '’' | '`' | '´' | 'ʼ' => {}
            ' ' | '-' | '‐' | '–' => out.push('-'),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            c if c.is_ascii() => {}
            c => {
                for d in deunicode::deunicode_char(c).unwrap_or("").chars() {
                    if d.is_ascii_alphanumeric() {
                        out.push(d.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    tidy(&out)
}

/// Collapses runs of separators and trims them from the ends.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let sep = matches!(c, '.' | '-' | '_');
        if sep && (out.is_empty() || out.ends_with(['.', '-', '_'])) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches(['.', '-', '_']).to_string()
}

/// Checks a login an admin typed: lower-case ASCII letter first, then letters, digits, `.-_`.
pub fn validate_login(login: &str) -> Result<(), String> {
    if login.is_empty() {
        return Err("the login is empty".into());
    }
    if login.len() > MAX_LOGIN_LEN {
        return Err(format!(
            "the login '{login}' is longer than {MAX_LOGIN_LEN} characters"
        ));
    }
    if !login.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "the login '{login}' must start with a lower-case letter a-z"
        ));
    }
    if let Some(c) = login
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
    {
        return Err(format!(
            "the login '{}' contains '{}'; use a-z, 0-9, '.', '-' and '_'",
            login.escape_debug(),
            c.escape_debug()
        ));
    }
    if login.ends_with(['.', '-', '_']) {
        return Err(format!(
            "the login '{login}' must not end with '.', '-' or '_'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(given: &str, family: &str) -> String {
        LoginScheme::default().base_login(given, family).unwrap()
    }

    #[test]
    fn transliterates_as_schools_expect() {
        assert_eq!(login("Anna", "Müller"), "anna.mueller");
        assert_eq!(login("Jürgen", "Groß"), "juergen.gross");
        assert_eq!(login("Zoë", "Ößwald"), "zoe.oesswald");
        assert_eq!(login("Renée", "D'Hondt"), "renee.dhondt");
        assert_eq!(login("Łukasz", "Søren"), "lukasz.soren");
        assert_eq!(
            login("Anne-Sophie", "van der Berg"),
            "anne-sophie.van-der-berg"
        );
        assert_eq!(login("François", "Lefèvre"), "francois.lefevre");
        assert_eq!(login("Дмитрий", "Иванов"), "dmitrii.ivanov");
        assert_eq!(login("Ayşe", "Yılmaz"), "ayse.yilmaz");
    }

    #[test]
    fn schemes() {
        let s = LoginScheme::parse("{g}{family}").unwrap();
        assert_eq!(s.base_login("Anna", "Müller").unwrap(), "amueller");
        let s = LoginScheme::parse("{family}_{given}").unwrap();
        assert_eq!(s.base_login("Anna", "Müller").unwrap(), "mueller_anna");
        assert!(LoginScheme::parse("{given}+{family}").is_err());
        assert!(
            LoginScheme::parse("{vorname}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert!(LoginScheme::parse("{g}.{f}").is_err());
    }

    #[test]
    fn long_names_leave_room_for_a_counter() {
        let l = login("Maximilian-Alexander", "Hohenzollern-Sigmaringen");
        assert!(l.len() <= MAX_LOGIN_LEN - 3, "{l}");
        assert!(!l.ends_with(['-', '.']));
        assert!(with_counter(&l, 99).len() <= MAX_LOGIN_LEN);
    }

    #[test]
    fn names_without_letters_give_no_login() {
        assert_eq!(LoginScheme::default().base_login("", "'"), None);
        assert_eq!(
            LoginScheme::parse("{given}").unwrap().base_login("42", "x"),
            None
        );
    }

    #[test]
    fn login_validation_names_the_problem() {
        assert!(validate_login("anna.mueller").is_ok());
        assert!(validate_login("Anna").unwrap_err().contains("lower-case"));
        assert!(
            validate_login("anna müller").unwrap_err().contains("'ü'")
                || validate_login("anna müller").unwrap_err().contains("' '")
        );
        assert!(validate_login(&"a".repeat(33)).unwrap_err().contains("32"));
    }
}
