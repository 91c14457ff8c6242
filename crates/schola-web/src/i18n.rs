//! Languages: every visible string comes from the Fluent files in `locales/<lang>/*.ftl`
//! (Project Fluent, through the maintained `fluent-templates` crate, compiled into the binary).
//!
//! The language of a page is, in order: the person's own choice (stored in the directory), the
//! best match in the browser's `Accept-Language`, the school's default language, English.
//! Numbers and dates are written the way the chosen language writes them.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader as _, langid};
use schola_core::directory::Language;
use time::OffsetDateTime;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // no Unicode isolation marks around values: pages are HTML, not mixed-direction text
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static DE: LanguageIdentifier = langid!("de");
static EN: LanguageIdentifier = langid!("en");
static NL: LanguageIdentifier = langid!("nl");
static FR: LanguageIdentifier = langid!("fr");

fn id(lang: Language) -> &'static LanguageIdentifier {
    match lang {
        Language::De => &DE,
        Language::En => &EN,
        Language::Nl => &NL,
        Language::Fr => &FR,
    }
}

/// The best language for a browser's `Accept-Language` header (RFC 9110 §12.5.4: weighted
/// tags, `q=0` meaning "not this one"), or `None` when it asks for none Schola speaks.
pub fn negotiate(accept_language: &str) -> Option<Language> {
    let mut best: Option<(f32, usize, Language)> = None;
    for (pos, item) in accept_language.split(',').enumerate().take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let Some(lang) = Language::from_tag(tag) else {
            continue;
        };
        // higher weight wins; on a tie, the earlier tag
        if best.is_none_or(|(bq, bpos, _)| q > bq || (q == bq && pos < bpos)) {
            best = Some((q, pos, lang));
        }
    }
    best.map(|(_, _, l)| l)
}

/// Picks the language of a page.
pub fn choose(
    person: Option<Language>,
    accept_language: Option<&str>,
    school_default: Option<Language>,
) -> Language {
    person
        .or_else(|| accept_language.and_then(negotiate))
        .or(school_default)
        .unwrap_or(Language::En)
}

/// The translations of one language, handed to every template as `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Language,
}

impl Default for Tr {
    fn default() -> Self {
        Tr { lang: Language::En }
    }
}

impl Tr {
    pub fn new(lang: Language) -> Tr {
        Tr { lang }
    }

    /// The `lang` attribute of the page.
    pub fn code(&self) -> &'static str {
        self.lang.as_str()
    }

    /// The text for `key`. A missing key (which the tests rule out) shows the key itself and
    /// is logged, rather than failing the page.
    pub fn t(&self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The text for `key` with one named value, e.g. `t1("home-welcome", "name", &name)`.
    pub fn t1(&self, key: &str, name: &'static str, value: &str) -> String {
        let mut args = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value.to_string()));
        self.lookup(key, Some(&args))
    }

    /// The text for `key` with a count: `$count` selects the plural form, `$n` is the count
    /// written the way this language writes numbers.
    pub fn tn(&self, key: &str, count: impl Borrow<i64>) -> String {
        let count = *count.borrow();
        let mut args = HashMap::new();
        args.insert(Cow::Borrowed("count"), FluentValue::from(count));
        args.insert(Cow::Borrowed("n"), FluentValue::from(self.number(count)));
        self.lookup(key, Some(&args))
    }

    /// The text for `key` with several named values.
    pub fn targs(&self, key: &str, values: &[(&'static str, String)]) -> String {
        let args = values
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone())))
            .collect::<HashMap<_, _>>();
        self.lookup(key, Some(&args))
    }

    fn lookup(&self, key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        match LOCALES.try_lookup_complete(id(self.lang), key, args) {
            Some(s) => s,
            None => {
                tracing::error!(key, lang = self.code(), "missing translation");
                key.to_string()
            }
        }
    }

    /// An integer with this language's digit grouping: 5,000 · 5.000 · 5 000.
    pub fn number(&self, n: impl Borrow<i64>) -> String {
        let n = *n.borrow();
        let sep = match self.lang {
            Language::En => ",",
            Language::De | Language::Nl => ".",
            Language::Fr => "\u{202f}",
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// A date the way this language writes it: 23 Nov 2026 · 23.11.2026 · 23-11-2026 · 23/11/2026.
    pub fn date(&self, unix: impl Borrow<i64>) -> String {
        let unix = *unix.borrow();
        let Ok(t) = OffsetDateTime::from_unix_timestamp(unix) else {
            return unix.to_string();
        };
        let (d, m, y) = (t.day(), u8::from(t.month()), t.year());
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        match self.lang {
            Language::En => format!("{d} {} {y}", MONTHS[usize::from(m - 1) % 12]),
            Language::Fr => format!("{d:02}/{m:02}/{y}"),
            Language::De => format!("{d:02}.{m:02}.{y}"),
            Language::Nl => format!("{d:02}-{m:02}-{y}"),
        }
    }

    /// A date and time (UTC until the appliance has a time-zone setting) in this language.
    pub fn datetime(&self, unix: impl Borrow<i64>) -> String {
        let unix = *unix.borrow();
        let Ok(t) = OffsetDateTime::from_unix_timestamp(unix) else {
            return unix.to_string();
        };
        format!("{} {:02}:{:02}", self.date(unix), t.hour(), t.minute())
    }

    /// The name of `lang` in `lang` itself, for the language menu.
    pub fn native_name(lang: Language) -> String {
        Tr::new(lang).t("language-name")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn keys_of(lang: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let Some((k, _)) = line.split_once(" =") else {
                    continue;
                };
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    assert!(keys.insert(k.to_string()), "{lang}: key {k} twice");
                }
            }
        }
        keys
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let en = keys_of("en");
        assert!(en.len() > 50, "only {} English keys", en.len());
        for lang in ["de", "nl", "fr"] {
            let other = keys_of(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
    }

    /// Every `t("…")`, `t1("…"`, `tn("…"` and `targs("…"` in the templates and the code names a
    /// key that exists, so no page shows a raw key.
    #[test]
    fn every_key_used_exists() {
        let en = keys_of("en");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut files = Vec::new();
        for dir in ["templates", "src"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        files.push(p);
                    }
                }
            }
        }
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in ["t(\"", "t1(\"", "tn(\"", "targs(\""] {
                for (i, _) in text.match_indices(call) {
                    let before = text[..i].chars().last();
                    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[i + call.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !key.is_empty()
                    {
                        used.insert((key.to_string(), path.display().to_string()));
                    }
                }
            }
        }
        assert!(used.len() > 30, "found only {} keys in use", used.len());
        let missing: Vec<_> = used.iter().filter(|(k, _)| !en.contains(k)).collect();
        assert!(
            missing.is_empty(),
            "keys used but not translated: {missing:?}"
        );
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Language::De));
        assert_eq!(negotiate("es, nl-BE;q=0.5, fr;q=0.4"), Some(Language::Nl));
        assert_eq!(negotiate("fr;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(negotiate("es, it"), None);
        assert_eq!(negotiate(""), None);
        assert_eq!(negotiate("en;q=0.5, nl;q=0.5"), Some(Language::En));
        assert_eq!(choose(Some(Language::Fr), Some("de"), None), Language::Fr);
        assert_eq!(choose(None, Some("es"), Some(Language::Nl)), Language::Nl);
        assert_eq!(choose(None, None, None), Language::En);
    }

    #[test]
    fn numbers_and_dates_in_the_readers_language() {
        let t = |l| Tr::new(l);
        assert_eq!(t(Language::En).number(1_234_567), "1,234,567");
        assert_eq!(t(Language::De).number(5000), "5.000");
        assert_eq!(t(Language::Nl).number(-999), "-999");
        assert_eq!(t(Language::Fr).number(12_000), "12\u{202f}000");
        // 2026-11-23 08:05 UTC
        let at = 1_795_421_100;
        assert_eq!(t(Language::De).date(at), "23.11.2026");
        assert_eq!(t(Language::En).date(at), "23 Nov 2026");
        assert_eq!(t(Language::Nl).date(at), "23-11-2026");
        assert_eq!(t(Language::Fr).datetime(at), "23/11/2026 08:05");
    }

    #[test]
    fn translations_fill_in_values_and_plurals() {
        let de = Tr::new(Language::De);
        assert_eq!(de.tn("people-match", 1), "1 Person gefunden");
        assert_eq!(de.tn("people-match", 5000), "5.000 Personen gefunden");
        assert_eq!(Tr::new(Language::Nl).t("sign-out"), "Afmelden");
        assert_eq!(Tr::native_name(Language::Fr), "Français");
    }
}
