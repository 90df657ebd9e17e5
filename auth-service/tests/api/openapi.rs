//! The account manager's OpenAPI document is a reviewed artefact: any
//! change of the HTTP contract shows as a diff of `openapi.snapshot.json`.
//! After an intended change, `UPDATE_SNAPSHOTS=1 cargo test -p auth-service
//! openapi` rewrites the file; commit it with the change.

use std::path::Path;

use shared::testing::{assert_snapshot, snapshot_text};

/// The document's server; fixed, so the snapshot does not depend on a port.
const SERVER: &str = "http://auth.example";

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let render = || snapshot_text(&auth_service::api::document(SERVER));
    let current = render();
    assert_eq!(current, render(), "the document is not deterministic");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.snapshot.json");
    assert_snapshot(&path, &current);
}
