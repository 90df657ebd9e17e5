//! The avatars `profile_picture` points at: SVGs of initials, drawn by
//! `crate::avatars`. No token: an avatar carries only its initials and
//! colour, both in its URL.

use poem_openapi::param::{Header, Path};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};
use shared::error::ErrorBody;

use super::ApiTags;
use super::error::AVATAR_NOT_FOUND;
use crate::avatars::Avatar;

/// A year: the URL names the whole content (initials and colour), so an
/// answer never goes stale. A new drawing (`Avatar::svg`) keeps the URLs
/// and gets new entity tags; caches holding the old one keep it until it
/// expires.
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

#[derive(ApiResponse)]
pub enum AvatarAnswer {
    /// The avatar: the initials on the colour, as SVG.
    #[oai(status = 200, content_type = "image/svg+xml")]
    Svg(
        Binary<Vec<u8>>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
        /// Pages of any origin may show it (also under
        /// `Cross-Origin-Embedder-Policy: require-corp`).
        #[oai(header = "Cross-Origin-Resource-Policy")]
        String,
    ),
    /// Unchanged: the `If-None-Match` tag is the current one.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Cache-Control")] String,
    ),
    /// Not an avatar `profile_picture` names.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

pub struct AvatarsApi;

#[OpenApi(tag = "ApiTags::Avatars")]
impl AvatarsApi {
    /// An avatar (SVG of initials)
    ///
    /// The URL comes from a `profile_picture`; no token is needed. `file`
    /// is the key and `.svg`: one or two initials (URL-encoded, `_` for
    /// none), a dash and a colour index, e.g. `JD-7.svg`. Anything else
    /// answers 404.
    #[oai(path = "/avatars/:file", method = "get")]
    async fn avatar(
        &self,
        file: Path<String>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> AvatarAnswer {
        let Some(avatar) = Avatar::from_file_name(&file.0) else {
            return AvatarAnswer::NotFound(Json(ErrorBody::msg_only(AVATAR_NOT_FOUND)));
        };
        let etag = avatar.etag();
        if if_none_match.0.is_some_and(|tags| matches(&tags, &etag)) {
            return AvatarAnswer::NotModified(etag, CACHE_CONTROL.to_owned());
        }
        AvatarAnswer::Svg(
            Binary(avatar.svg().into_bytes()),
            etag,
            CACHE_CONTROL.to_owned(),
            "cross-origin".to_owned(),
        )
    }
}

/// Whether an `If-None-Match` list names `etag` (weak tags compare equal,
/// as RFC 9110 asks for this header) or is `*`.
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_compare_weakly() {
        let etag = "\"0123456789abcdef\"";
        assert!(matches(etag, etag));
        assert!(matches("\"other\", W/\"0123456789abcdef\"", etag));
        assert!(matches("*", etag));
        assert!(!matches("\"other\"", etag));
        assert!(!matches("0123456789abcdef", etag));
    }
}
