//! The pages' words: every label comes from `locales/<lang>.json`, none is written in a
//! template. Chinese is the default; English is chosen with `?lang=en` (then remembered in a
//! cookie) or by the browser's `Accept-Language`.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::{Agency, ApplicationKind, ApplicationState, EnterpriseStatus, Role, Sector};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The cookie that remembers a reader's choice.
pub const COOKIE: &str = "lang";

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `zh-Hans` …, `en`, `en-GB` …; anything else is not ours.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of `?lang=`, else the cookie's, else the best of `Accept-Language` that we
    /// have, else Chinese.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        query
            .and_then(Lang::from_code)
            .or_else(|| cookie.and_then(Lang::from_code))
            .or_else(|| accept.and_then(best_accepted))
            .unwrap_or(Lang::Zh)
    }
}

/// The highest-weighted language of an `Accept-Language` header we can answer in (the first of
/// equal weights).
fn best_accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::from_code) else {
            continue;
        };
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

type Messages = HashMap<String, String>;

fn load(json: &str, name: &str) -> Messages {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("locales/{name}.json: {e}"))
}

static ZH: LazyLock<Messages> =
    LazyLock::new(|| load(include_str!("../../locales/zh-CN.json"), "zh-CN"));
static EN: LazyLock<Messages> = LazyLock::new(|| load(include_str!("../../locales/en.json"), "en"));

fn messages(lang: Lang) -> &'static Messages {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The translator a template holds.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn is_zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// The message for `key`; a missing one shows its key (and a test fails: see below).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        messages(self.lang)
            .get(key)
            .map(String::as_str)
            .unwrap_or(key)
    }

    fn dynamic(&self, prefix: &str, code: &'static str) -> &'static str {
        messages(self.lang)
            .get(&format!("{prefix}.{code}"))
            .map(String::as_str)
            .unwrap_or(code)
    }

    pub fn kind(&self, kind: &ApplicationKind) -> &'static str {
        self.dynamic("kind", kind.as_str())
    }

    pub fn sector(&self, sector: &Sector) -> &'static str {
        self.dynamic("sector", sector.as_str())
    }

    pub fn state(&self, state: &ApplicationState) -> &'static str {
        self.dynamic("state", state.as_str())
    }

    pub fn role(&self, role: &Role) -> &'static str {
        self.dynamic("role", role.as_str())
    }

    pub fn agency(&self, agency: &Agency) -> &'static str {
        self.dynamic("agency", agency.as_str())
    }

    pub fn enterprise_status(&self, status: &EnterpriseStatus) -> &'static str {
        self.dynamic("enterprise_status", status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RecordStatus;

    #[test]
    fn both_languages_have_the_same_messages() {
        let zh: std::collections::BTreeSet<_> = ZH.keys().collect();
        let en: std::collections::BTreeSet<_> = EN.keys().collect();
        assert_eq!(
            zh, en,
            "locales/zh-CN.json and locales/en.json differ in keys"
        );
        for (k, v) in ZH.iter().chain(EN.iter()) {
            assert!(!v.trim().is_empty(), "{k} is empty");
        }
    }

    /// Every `t.get("…")` in a template names a message, and every code a page turns into a
    /// message key (`kind.*`, `sector.*`, `status.*`) has one.
    #[test]
    fn every_label_the_pages_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("t.get(\"").skip(1) {
                    used.push((path.clone(), piece.split('"').next().unwrap().to_owned()));
                }
            }
        }
        assert!(used.len() > 50, "templates were found and read");
        for (path, key) in used {
            assert!(
                ZH.contains_key(&key),
                "{}: no message {key}",
                path.display()
            );
        }
        let mut keys: Vec<String> = ApplicationKind::ALL
            .iter()
            .map(|k| format!("kind.{k}"))
            .collect();
        keys.extend(Sector::ALL.iter().map(|s| format!("sector.{s}")));
        keys.extend(ApplicationState::ALL.iter().map(|s| format!("state.{s}")));
        keys.extend(Role::ALL.iter().map(|r| format!("role.{r}")));
        keys.extend(Agency::ALL.iter().map(|a| format!("agency.{a}")));
        keys.extend(
            EnterpriseStatus::ALL
                .iter()
                .map(|s| format!("enterprise_status.{s}")),
        );
        for s in RecordStatus::ALL {
            keys.push(format!("status.{s}"));
            keys.push(format!("status_explain.{s}"));
        }
        for key in keys {
            assert!(ZH.contains_key(&key), "no message {key}");
        }
    }

    #[test]
    fn the_language_is_the_query_then_the_cookie_then_the_browser_then_chinese() {
        use Lang::*;
        assert_eq!(Lang::negotiate(None, None, None), Zh);
        assert_eq!(Lang::negotiate(Some("en"), Some("zh"), None), En);
        assert_eq!(Lang::negotiate(Some("fr"), Some("en"), None), En);
        assert_eq!(Lang::negotiate(None, None, Some("en-GB,en;q=0.9")), En);
        assert_eq!(
            Lang::negotiate(None, None, Some("fr;q=1, en;q=0.5, zh-CN;q=0.8")),
            Zh
        );
        assert_eq!(Lang::negotiate(None, None, Some("de, fr")), Zh);
        assert_eq!(Lang::negotiate(None, Some("zh-CN"), Some("en")), Zh);
    }
}
