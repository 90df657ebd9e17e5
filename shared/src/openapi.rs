//! The OpenAPI document as served: poem-openapi's rendering, completed
//! with what the shared HTTP layer answers on every route (413 past the
//! body limit, 415 for a body that is not JSON, both in the route's own
//! error shape) and what the rendering leaves implicit (unsigned integers
//! are never negative, text never carries U+0000), then with what a
//! service adds of its own.

use serde_json::{Map, Value, json};

/// A service's own additions to its document.
pub type Addition = fn(&mut Value);

/// The document `rendered` (poem-openapi's JSON) with the shared
/// completions, then the service's `addition`. A document that does not
/// parse is served as it is.
pub fn complete(rendered: &str, addition: Option<Addition>) -> String {
    let Ok(mut document) = serde_json::from_str::<Value>(rendered) else {
        return rendered.to_owned();
    };
    unsigned_minimums(&mut document);
    nul_free_text(&mut document);
    body_refusals(&mut document);
    if let Some(addition) = addition {
        addition(&mut document);
    }
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| rendered.to_owned())
}

/// `uint32` and `uint64` (and the narrower ones) get `minimum: 0`: a
/// negative value is refused as malformed.
fn unsigned_minimums(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let unsigned = object
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|format| format.starts_with("uint"));
            if unsigned && !object.contains_key("minimum") {
                object.insert("minimum".to_owned(), json!(0));
            }
            object.values_mut().for_each(unsigned_minimums);
        }
        Value::Array(items) => items.iter_mut().for_each(unsigned_minimums),
        _ => {}
    }
}

/// No text carries U+0000 (fields refuse it, see [`crate::required`], and
/// so does the body limit in paths and queries, see [`crate::limits`]):
/// free text is documented as NUL-free, and text that must not be blank
/// as NUL-free with a character that is not a space.
fn nul_free_text(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let free_text = object.get("type").and_then(Value::as_str) == Some("string")
                && !object.contains_key("enum")
                && !object.contains_key("format");
            if free_text {
                let pattern = match object.get("pattern").and_then(Value::as_str) {
                    None => Some(NUL_FREE),
                    Some(r"\S") => Some(NUL_FREE_NOT_BLANK),
                    Some(_) => None,
                };
                if let Some(pattern) = pattern {
                    object.insert("pattern".to_owned(), json!(pattern));
                }
            }
            object.values_mut().for_each(nul_free_text);
        }
        Value::Array(items) => items.iter_mut().for_each(nul_free_text),
        _ => {}
    }
}

const NUL_FREE: &str = r"^[^\u0000]*$";
const NUL_FREE_NOT_BLANK: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// Every operation that takes a body may answer 413 (over the body limit)
/// and 415 (not a media type it reads), in the shape of its own 400.
fn body_refusals(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(Value::as_object_mut)
    {
        if !operation.contains_key("requestBody") {
            continue;
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let shape = responses
            .get("400")
            .and_then(|bad| bad.get("content"))
            .cloned();
        for (status, description) in [
            ("413", "The body is larger than the service accepts."),
            (
                "415",
                "The body is not in a media type the route reads (see the request body).",
            ),
        ] {
            if responses.contains_key(status) {
                continue;
            }
            let mut response = Map::new();
            response.insert("description".to_owned(), json!(description));
            if let Some(content) = &shape {
                response.insert("content".to_owned(), content.clone());
            }
            responses.insert(status.to_owned(), Value::Object(response));
        }
    }
}

/// The operation at `path` and `method` (lower case), if documented.
pub fn operation<'a>(document: &'a mut Value, path: &str, method: &str) -> Option<&'a mut Value> {
    document.get_mut("paths")?.get_mut(path)?.get_mut(method)
}

/// Adds `rule`'s keywords (`maxLength`, `pattern`, `enum`, ...) to the
/// property `property` of the component schema `schema`, if documented.
pub fn refine_property(document: &mut Value, schema: &str, property: &str, rule: Value) {
    let pointer = format!("/components/schemas/{schema}/properties/{property}");
    if let (Some(target), Value::Object(rule)) = (document.pointer_mut(&pointer), rule) {
        for (keyword, value) in rule {
            target[keyword] = value;
        }
    }
}

/// The query or path parameter `name` of an operation, if documented.
pub fn parameter<'a>(operation: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    operation
        .get_mut("parameters")?
        .as_array_mut()?
        .iter_mut()
        .find(|parameter| parameter.get("name").and_then(Value::as_str) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_may_be_refused_in_the_routes_own_shape_and_unsigned_is_never_negative() {
        let rendered = json!({
            "paths": {
                "/a": {
                    "post": {
                        "requestBody": {"content": {"application/json": {}}},
                        "parameters": [{"name": "limit", "schema": {"type": "integer", "format": "uint32", "maximum": 9}}],
                        "responses": {"200": {}, "400": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/x"}}}}}
                    },
                    "get": {"responses": {"200": {}}}
                }
            }
        });
        let completed: Value =
            serde_json::from_str(&complete(&rendered.to_string(), None)).unwrap();
        let post = &completed["paths"]["/a"]["post"];
        for status in ["413", "415"] {
            assert_eq!(
                post["responses"][status]["content"],
                json!({"application/json": {"schema": {"$ref": "#/x"}}})
            );
        }
        assert_eq!(post["parameters"][0]["schema"]["minimum"], 0);
        let get = &completed["paths"]["/a"]["get"]["responses"];
        assert!(get.get("413").is_none() && get.get("415").is_none());
    }

    #[test]
    fn a_service_adds_its_own() {
        fn addition(document: &mut Value) {
            let op = operation(document, "/a", "get").unwrap();
            parameter(op, "type").unwrap()["schema"]["enum"] = json!(["x"]);
        }
        let rendered = json!({"paths": {"/a": {"get": {"parameters": [{"name": "type", "schema": {"type": "string"}}]}}}});
        let completed: Value =
            serde_json::from_str(&complete(&rendered.to_string(), Some(addition))).unwrap();
        assert_eq!(
            completed["paths"]["/a"]["get"]["parameters"][0]["schema"]["enum"],
            json!(["x"])
        );
    }
}
