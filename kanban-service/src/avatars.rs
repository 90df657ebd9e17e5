//! Avatars: the picture `profile_picture` names for a person.
//!
//! By default kanban draws them itself: the initials of the name a person
//! is shown with, on a colour derived from that name, as an SVG at
//! `<public URL>/avatars/<key>.svg`. No third party learns a name, and the
//! pictures show on networks without internet access. An operator may
//! instead name an external service with a URL template
//! (`KANBAN_AVATAR_URL_TEMPLATE`), which then receives the names.
//!
//! The key is the avatar's whole content: the initials and a palette index
//! (`JD-7`, `%C3%89Z-3`; `_-5` when the name has no letter or digit). So
//! the URL is the same for a name every time, says nothing the answer
//! naming it does not already show, and a request can only ever get one or
//! two letters drawn on one of the palette's colours: anything else is not
//! a key ([`Avatar::from_file_name`]). No HTTP here: `api::avatars` serves
//! what this module draws.

use std::fmt::Write;

/// The placeholder of `KANBAN_AVATAR_URL_TEMPLATE`.
pub const NAME_PLACEHOLDER: &str = "{name}";

/// What an avatar shows when the name has no letter or digit.
pub const FALLBACK_TEXT: &str = "?";

/// How the key writes "no initials" (not a letter or digit, so it never
/// collides with real initials).
const NO_INITIALS: &str = "_";

/// The background colours, each readable with the text colour
/// [`text_colour`] picks for it (contrast 4.5:1 or more, WCAG AA).
/// Appending colours changes the colour of most names; keep the order.
pub const PALETTE: [[u8; 3]; 16] = [
    [0xB7, 0x1C, 0x1C],
    [0xAD, 0x14, 0x57],
    [0x6A, 0x1B, 0x9A],
    [0x45, 0x27, 0xA0],
    [0x28, 0x35, 0x93],
    [0x15, 0x65, 0xC0],
    [0x02, 0x77, 0xBD],
    [0x00, 0x76, 0x7F],
    [0x00, 0x69, 0x5C],
    [0x2E, 0x7D, 0x32],
    [0x33, 0x69, 0x1E],
    [0xF9, 0xA8, 0x25],
    [0xEF, 0x6C, 0x00],
    [0xBF, 0x36, 0x0C],
    [0x4E, 0x34, 0x2E],
    [0x37, 0x47, 0x4F],
];

const WHITE: [u8; 3] = [0xFF, 0xFF, 0xFF];
const DARK: [u8; 3] = [0x1A, 0x1A, 0x1A];

/// How `profile_picture` URLs are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Avatars {
    /// Drawn by kanban, served under its public URL (without a trailing
    /// slash).
    Served { public_url: String },
    /// An external avatar service.
    External(UrlTemplate),
}

impl Avatars {
    /// Kanban's own avatars under `public_url`, unless a template names an
    /// external service.
    pub fn new(public_url: &str, template: Option<UrlTemplate>) -> Self {
        match template {
            Some(template) => Avatars::External(template),
            None => Avatars::Served {
                public_url: public_url.trim_end_matches('/').to_owned(),
            },
        }
    }

    /// The absolute URL of the avatar of someone shown as `shown_name`.
    pub fn url(&self, shown_name: &str) -> String {
        match self {
            Avatars::Served { public_url } => {
                format!("{public_url}{}", Avatar::for_name(shown_name).path())
            }
            Avatars::External(template) => template.url(shown_name),
        }
    }
}

/// An `http(s)://` URL of an external avatar service with `{name}` where
/// the URL-encoded name goes (in the path or the query, never the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    /// Checks a template; the error says what is wrong, in one line.
    pub fn new(template: &str) -> Result<Self, String> {
        let template = template.trim();
        if !template.contains(NAME_PLACEHOLDER) {
            return Err(format!(
                "{template:?} has no {NAME_PLACEHOLDER} placeholder"
            ));
        }
        if template.replace(NAME_PLACEHOLDER, "").contains(['{', '}']) {
            return Err(format!(
                "{template:?} has braces other than the {NAME_PLACEHOLDER} placeholder"
            ));
        }
        if template.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{template:?} contains spaces or control characters"
            ));
        }
        // A sample name no real host or user name contains.
        const SAMPLE: &str = "x0f1e2d-avatar-name";
        let sample = template.replace(NAME_PLACEHOLDER, SAMPLE);
        let parsed = match reqwest::Url::parse(&sample) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
            _ => return Err(format!("{template:?} is not an http:// or https:// URL")),
        };
        let in_authority = parsed.host_str().is_some_and(|host| host.contains(SAMPLE))
            || parsed.username().contains(SAMPLE)
            || parsed.password().is_some_and(|p| p.contains(SAMPLE));
        if in_authority {
            return Err(format!(
                "{template:?} puts {NAME_PLACEHOLDER} in the host; it belongs in the path or query"
            ));
        }
        Ok(Self(template.to_owned()))
    }

    /// The URL for `name` (trimmed, every byte but `A-Z a-z 0-9 - _ . ~`
    /// percent-encoded).
    pub fn url(&self, name: &str) -> String {
        self.0.replace(NAME_PLACEHOLDER, &url_escape(name.trim()))
    }
}

fn url_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// One or two initials of a name: the first letter or digit of its first
/// word and of its last word (words split at white space; a word without
/// a letter or digit does not count), upper case where the script has
/// case. Empty when the name has no letter or digit.
pub fn initials(name: &str) -> String {
    let firsts: Vec<char> = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .map(upper)
        .collect();
    match firsts.as_slice() {
        [] => String::new(),
        [only] => only.to_string(),
        [first, .., last] => [*first, *last].iter().collect(),
    }
}

/// The upper case of a character when it is one character (`ß`, whose
/// upper case is `SS`, stays `ß`).
fn upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

/// Whether `c` can be an initial as [`initials`] writes them.
fn is_initial(c: char) -> bool {
    c.is_alphanumeric() && upper(c) == c
}

/// The palette index of a name: the same for the same name, whatever its
/// case and spacing.
pub fn colour_index(name: &str) -> usize {
    let normal = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (fnv1a(normal.as_bytes()) % PALETTE.len() as u64) as usize
}

/// 64-bit FNV-1a: small, and stable across builds and platforms (the
/// standard library's hashers promise neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// sRGB relative luminance (WCAG 2).
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// The WCAG contrast ratio of two colours (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// White or near-black, whichever reads better on `background`.
pub fn text_colour(background: [u8; 3]) -> [u8; 3] {
    if contrast(background, WHITE) >= contrast(background, DARK) {
        WHITE
    } else {
        DARK
    }
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// Text as XML character data or a double-quoted attribute value.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// An avatar: initials on a palette colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    /// As [`initials`] writes them; empty for none.
    initials: String,
    /// An index into [`PALETTE`].
    colour: usize,
}

/// Longer file names are never keys (two initials of four UTF-8 bytes,
/// percent-decoded, a dash, two digits and `.svg`).
const MAX_FILE_NAME: usize = 2 * 4 + 1 + 2 + 4;

impl Avatar {
    pub fn for_name(name: &str) -> Self {
        Self {
            initials: initials(name),
            colour: colour_index(name),
        }
    }

    /// The initials it shows (empty: [`FALLBACK_TEXT`] is shown).
    pub fn initials(&self) -> &str {
        &self.initials
    }

    pub fn colour(&self) -> usize {
        self.colour
    }

    /// `JD-7`: the initials (URL-encoded; `_` for none), a dash and the
    /// palette index.
    pub fn key(&self) -> String {
        let initials = if self.initials.is_empty() {
            NO_INITIALS.to_owned()
        } else {
            url_escape(&self.initials)
        };
        format!("{initials}-{}", self.colour)
    }

    /// `/avatars/JD-7.svg`, relative to kanban's public URL.
    pub fn path(&self) -> String {
        format!("/avatars/{}.svg", self.key())
    }

    /// The avatar a file name (`JD-7.svg`, percent-decoded) names; `None`
    /// for anything [`Avatar::key`] does not write: more than two
    /// characters, a character that is not an initial (lower case,
    /// punctuation, markup), an index out of the palette or with a leading
    /// zero, another extension.
    pub fn from_file_name(file: &str) -> Option<Self> {
        if file.len() > MAX_FILE_NAME {
            return None;
        }
        let (initials, colour) = file.strip_suffix(".svg")?.rsplit_once('-')?;
        let canonical_number = !colour.is_empty()
            && colour.len() <= 2
            && colour.bytes().all(|b| b.is_ascii_digit())
            && (colour == "0" || !colour.starts_with('0'));
        if !canonical_number {
            return None;
        }
        let colour: usize = colour.parse().ok().filter(|&i| i < PALETTE.len())?;
        let initials = if initials == NO_INITIALS {
            String::new()
        } else {
            let count = initials.chars().count();
            if !(1..=2).contains(&count) || !initials.chars().all(is_initial) {
                return None;
            }
            initials.to_owned()
        };
        Some(Self { initials, colour })
    }

    /// The picture: a circle of the colour with the initials centred,
    /// drawn with presentation attributes only (no style, script or link),
    /// so it renders under `default-src 'none'`.
    pub fn svg(&self) -> String {
        let background = PALETTE[self.colour];
        let text = if self.initials.is_empty() {
            FALLBACK_TEXT
        } else {
            &self.initials
        };
        let size = if text.chars().count() > 1 { 48 } else { 60 };
        let text = xml_escape(text);
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"128\" height=\"128\" \
             viewBox=\"0 0 128 128\" role=\"img\" aria-label=\"{text}\">\
             <circle cx=\"64\" cy=\"64\" r=\"64\" fill=\"{background}\"/>\
             <text x=\"64\" y=\"64\" dy=\"0.35em\" text-anchor=\"middle\" \
             font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif\" \
             font-size=\"{size}\" font-weight=\"600\" fill=\"{foreground}\">{text}</text></svg>",
            background = hex(background),
            foreground = hex(text_colour(background)),
        )
    }

    /// The entity tag of [`Avatar::svg`]: a hash of the drawing, so a new
    /// drawing of the same key gets a new tag.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", fnv1a(self.svg().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_the_first_and_last_words_letters_in_upper_case() {
        assert_eq!(initials("Jane Doe"), "JD");
        assert_eq!(initials("  jane   mary doe "), "JD");
        assert_eq!(initials("zoë"), "Z");
        assert_eq!(initials("émile zola"), "ÉZ");
        assert_eq!(initials("Ærøskøbing Ørsted"), "ÆØ");
        assert_eq!(initials("李小龙"), "李");
        assert_eq!(initials("Жанна Дарк"), "ЖД");
        assert_eq!(initials("jane.doe@mail.com"), "J");
        assert_eq!(initials("Jean-Luc Picard"), "JP");
        assert_eq!(initials("(Jane) — Doe"), "JD");
        assert_eq!(initials("R2 d2"), "RD");
        assert_eq!(initials("straße"), "S");
        assert_eq!(initials("ßtraße"), "ß", "no one-letter upper case: kept");
        // Nothing to take an initial from: the fallback.
        assert_eq!(initials(""), "");
        assert_eq!(initials("  "), "");
        assert_eq!(initials("<> & !"), "");
        let nameless = Avatar::for_name("");
        assert_eq!(nameless.key(), format!("_-{}", colour_index("")));
        assert!(nameless.svg().contains(">?</text>"));
    }

    #[test]
    fn the_colour_follows_the_name_and_every_colour_reads_well() {
        assert_eq!(colour_index("Jane Doe"), colour_index("  jane   DOE "));
        let colours: std::collections::BTreeSet<usize> = (0..200)
            .map(|i| colour_index(&format!("Person {i}")))
            .collect();
        assert!(colours.len() > PALETTE.len() / 2, "spread: {colours:?}");
        for background in PALETTE {
            let ratio = contrast(background, text_colour(background));
            assert!(ratio >= 4.5, "{} reads at {ratio:.2}:1", hex(background));
        }
        assert_eq!(text_colour([0xF9, 0xA8, 0x25]), DARK);
        assert_eq!(text_colour([0x28, 0x35, 0x93]), WHITE);
        assert!((contrast(WHITE, [0, 0, 0]) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn keys_round_trip_and_nothing_else_is_a_key() {
        for name in [
            "Jane Doe",
            "zoë",
            "Émile Zola",
            "李小龙",
            "",
            "ßtraße",
            "R2 d2",
        ] {
            let avatar = Avatar::for_name(name);
            // The router hands the handler the percent-decoded file name.
            let shown = match avatar.initials() {
                "" => "_",
                initials => initials,
            };
            let file = format!("{shown}-{}.svg", avatar.colour());
            assert_eq!(Avatar::from_file_name(&file), Some(avatar), "{name}");
        }
        let emile = Avatar::for_name("Émile Zola");
        assert_eq!(emile.key(), format!("%C3%89Z-{}", emile.colour()));
        assert!(Avatar::for_name("李小龙").key().starts_with("%E6%9D%8E-"));
        let jd = Avatar::from_file_name("JD-7.svg").unwrap();
        assert_eq!((jd.initials(), jd.colour()), ("JD", 7));
        assert!(Avatar::from_file_name("_-15.svg").is_some());
        for bad in [
            "",
            ".svg",
            "JD.svg",
            "JD-.svg",
            "-3.svg",
            "jd-3.svg",
            "Jd-3.svg",
            "JDX-3.svg",
            "JD-16.svg",
            "JD-03.svg",
            "JD-+3.svg",
            "JD-3.png",
            "JD-3.svg.svg",
            "JD-3",
            "J D-3.svg",
            "J<-3.svg",
            "<s-3.svg",
            "&-3.svg",
            "__-3.svg",
            "_J-3.svg",
            "J-D-3.svg",
            "é-3.svg",
            "%C3%89-3.svg",
            "JD-3.SVG",
            "JD-99999999999999999999.svg",
        ] {
            assert_eq!(Avatar::from_file_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_initial_the_names_give_is_a_valid_key() {
        // Whatever letter or digit a name starts with, its avatar's key
        // is accepted back: no name gets a broken picture.
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            if c.is_alphanumeric() {
                assert!(is_initial(upper(c)), "{c:?} U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn the_drawing_is_escaped_static_svg() {
        let svg = Avatar::for_name("Jane Doe").svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(">JD</text>") && svg.contains("aria-label=\"JD\""));
        for absent in ["<script", "style", "href", " on", "<!"] {
            assert!(!svg.contains(absent), "{absent} in {svg}");
        }
        assert_eq!(
            xml_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
        let one = Avatar::from_file_name("J-1.svg").unwrap();
        assert_ne!(
            one.etag(),
            Avatar::from_file_name("J-2.svg").unwrap().etag()
        );
        assert_eq!(one.etag(), one.clone().etag());
        assert!(one.etag().starts_with('"') && one.etag().len() == 18);
    }

    #[test]
    fn urls_point_at_kanban_or_at_the_template() {
        let served = Avatars::new("https://boards.example.com/", None);
        let key = Avatar::for_name("Jane Doe").key();
        assert_eq!(
            served.url("Jane Doe"),
            format!("https://boards.example.com/avatars/{key}.svg")
        );
        let template =
            UrlTemplate::new("https://ui-avatars.com/api/?name={name}&rounded=true").unwrap();
        let external = Avatars::new("https://boards.example.com", Some(template));
        assert_eq!(
            external.url(" Zoë O'Neil "),
            "https://ui-avatars.com/api/?name=Zo%C3%AB%20O%27Neil&rounded=true"
        );
        assert_eq!(
            UrlTemplate::new("http://avatars.internal/{name}/{name}.png")
                .unwrap()
                .url("a&b"),
            "http://avatars.internal/a%26b/a%26b.png"
        );
        assert!(UrlTemplate::new("https://placeholder.example/a/{name}").is_ok());
        for bad in [
            "https://ui-avatars.com/api/",
            "https://ui-avatars.com/api/?name={Name}",
            "https://ui-avatars.com/api/?name={name}&size={size}",
            "ftp://avatars.example/{name}",
            "avatars.example/{name}",
            "/avatars/{name}",
            "https://{name}.avatars.example/",
            "https://{name}@avatars.example/",
            "https://user:{name}@avatars.example/",
            "https://avatars.example/{name} x",
        ] {
            let err = UrlTemplate::new(bad).unwrap_err();
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
