//! Kanban's OpenAPI document is a reviewed artefact: any change of the HTTP
//! contract shows as a diff of `openapi.snapshot.json`. After an intended
//! change, `UPDATE_SNAPSHOTS=1 cargo test -p kanban-service openapi`
//! rewrites the file; commit it with the change.

use std::path::PathBuf;

use serde_json::{Map, Value};

/// The document's server; fixed, so the snapshot does not depend on a port.
const SERVER: &str = "http://kanban.example";

/// `value` with every object's keys in sorted order.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(String, Value)> = object.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, canonical(value)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn rendered() -> String {
    let spec = kanban_service::api::openapi(SERVER).spec();
    let document: Value = serde_json::from_str(&spec).expect("the document is JSON");
    let mut text = serde_json::to_string_pretty(&canonical(document)).expect("render");
    text.push('\n');
    text
}

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.snapshot.json");
    let current = rendered();
    assert_eq!(current, rendered(), "the document is not deterministic");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &current).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; create it with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if let Some((line, (was, is))) = committed
        .lines()
        .zip(current.lines())
        .enumerate()
        .find(|(_, (was, is))| was != is)
    {
        panic!(
            "the OpenAPI document changed at line {} of {}:\n  snapshot: {was}\n  now:      {is}\n\
             if the change is intended, rerun with UPDATE_SNAPSHOTS=1 and commit the file",
            line + 1,
            path.display()
        );
    }
    assert_eq!(
        committed.lines().count(),
        current.lines().count(),
        "the OpenAPI document changed length; rerun with UPDATE_SNAPSHOTS=1 if intended"
    );
    assert_eq!(
        committed, current,
        "the OpenAPI document changed (line endings?)"
    );
}
