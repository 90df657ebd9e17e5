//! Avatars: `profile_picture` points at kanban's own SVGs of initials,
//! served without a token under strict keys; an operator's URL template
//! points it at an external service instead.

use quick_xml::events::Event;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, expect, expect_msg, id, spawn_stack, spawn_stack_custom};

/// What an SVG answer holds, read as XML (a malformed document fails).
#[derive(Debug, Default)]
struct Drawing {
    root: String,
    namespace: String,
    elements: Vec<String>,
    attributes: Vec<String>,
    text: String,
}

fn read_svg(svg: &str) -> Drawing {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut drawing = Drawing::default();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|err| panic!("{err}: {svg}"))
        {
            Event::Start(element) | Event::Empty(element) => {
                let name = String::from_utf8(element.name().as_ref().to_vec()).unwrap();
                for attribute in element.attributes() {
                    let attribute = attribute.unwrap();
                    let key = String::from_utf8(attribute.key.as_ref().to_vec()).unwrap();
                    if drawing.root.is_empty() && key == "xmlns" {
                        drawing.namespace = attribute.unescape_value().unwrap().into_owned();
                    }
                    drawing.attributes.push(key);
                }
                if drawing.root.is_empty() {
                    drawing.root = name.clone();
                }
                drawing.elements.push(name);
            }
            Event::Text(text) => drawing.text.push_str(&text.unescape().unwrap()),
            Event::End(_) => {}
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {svg}"),
        }
    }
    drawing
}

/// GETs an avatar URL as a browser's `<img>` would: no token.
async fn fetch_svg(client: &reqwest::Client, url: &str) -> (reqwest::header::HeaderMap, Drawing) {
    let answer = client.get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{url}");
    let headers = answer.headers().clone();
    let drawing = read_svg(&answer.text().await.unwrap());
    (headers, drawing)
}

#[tokio::test]
async fn profile_pictures_are_kanbans_own_svgs_of_the_initials() {
    let stack = spawn_stack().await;
    let jane = stack.user("Jane", "Doe", "jane@mail.com").await;
    let login = json!({"email": "jane@mail.com", "password": PASSWORD});
    let answer = expect(
        stack.send(Method::POST, "/login", None, Some(login)).await,
        StatusCode::OK,
    )
    .await;
    let url = answer["profile_picture"].as_str().unwrap().to_owned();
    let prefix = format!("{}/avatars/JD-", stack.kanban_url);
    assert!(
        url.starts_with(&prefix) && url.ends_with(".svg"),
        "absolute, on kanban: {url}"
    );
    // The same URL wherever Jane shows.
    let me = expect(stack.get("/user", &jane).await, StatusCode::OK).await;
    assert_eq!(me["profile_picture"], url.as_str());
    let organization = stack.organization(&jane, "Avatars").await;
    let members = expect(
        stack
            .get(
                &format!("/organizations/{}/members", id(&organization)),
                &jane,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members[0]["profile_picture"], url.as_str());

    let (headers, drawing) = fetch_svg(&stack.client, &url).await;
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    assert_eq!(drawing.root, "svg");
    assert_eq!(drawing.namespace, "http://www.w3.org/2000/svg");
    assert_eq!(drawing.text, "JD");
    assert_eq!(drawing.elements, ["svg", "circle", "text"]);
    assert!(
        !drawing
            .attributes
            .iter()
            .any(|a| a.starts_with("on") || a.contains("href") || a == "style"),
        "{:?}",
        drawing.attributes
    );

    // A cache revalidating gets 304 without the picture.
    let revalidated = stack
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());
    assert!(revalidated.bytes().await.unwrap().is_empty());
    let stale = stack
        .client
        .get(&url)
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);

    // Letters beyond ASCII: percent-encoded in the URL, drawn as written.
    let emile = stack.user("émile", "Zola", "emile@mail.com").await;
    let me = expect(stack.get("/user", &emile).await, StatusCode::OK).await;
    let url = me["profile_picture"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/avatars/%C3%89Z-", stack.kanban_url)),
        "{url}"
    );
    let (_, drawing) = fetch_svg(&stack.client, url).await;
    assert_eq!(drawing.text, "ÉZ");
}

#[tokio::test]
async fn only_the_keys_kanban_writes_are_served() {
    let stack = spawn_stack().await;
    let get = |path: &'static str| stack.client.get(stack.url(path)).send();
    for path in [
        "/avatars/jd-3.svg",
        "/avatars/JD-16.svg",
        "/avatars/JD-03.svg",
        "/avatars/JD-3.png",
        "/avatars/JD-3",
        "/avatars/JD.svg",
        "/avatars/JDX-3.svg",
        "/avatars/%3Cscript%3E-1.svg",
        "/avatars/J%3C-1.svg",
        "/avatars/%26-1.svg",
        "/avatars/J%20D-1.svg",
        "/avatars/..%2F..%2Fuser-1.svg",
    ] {
        let answer = get(path).await.unwrap();
        assert_ne!(answer.headers()["content-type"], "image/svg+xml", "{path}");
        expect_msg(answer, StatusCode::NOT_FOUND, "Avatar not found").await;
    }
    // Outside the route's one path segment: the router's 404.
    for path in ["/avatars/", "/avatars/JD-3.svg/x"] {
        assert_eq!(
            get(path).await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Not UTF-8 once decoded: poem refuses the path parameter itself, as it
    // does on every route; nothing is drawn.
    let answer = get("/avatars/%FF-1.svg").await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    // A name without a letter or digit gets the fallback.
    let (_, drawing) = fetch_svg(&stack.client, &stack.url("/avatars/_-0.svg")).await;
    assert_eq!(drawing.text, "?");
}

#[tokio::test]
async fn a_template_points_profile_pictures_at_an_external_service() {
    let redis = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let template = "https://avatars.example/api/?name={name}&rounded=true";
    let stack = spawn_stack_custom(
        redis,
        vec![("KANBAN_AVATAR_URL_TEMPLATE", template.to_owned())],
    )
    .await;
    let zoe = stack.user("Zoë", "O'Neil", "zoe@mail.com").await;
    let expected = "https://avatars.example/api/?name=Zo%C3%AB%20O%27Neil&rounded=true";
    let login = json!({"email": "zoe@mail.com", "password": PASSWORD});
    let answer = expect(
        stack.send(Method::POST, "/login", None, Some(login)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["profile_picture"], expected);
    let me = expect(stack.get("/user", &zoe).await, StatusCode::OK).await;
    assert_eq!(me["profile_picture"], expected);
}

#[test]
fn a_malformed_template_stops_the_service_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kanban-service"))
        .env_clear()
        .env(
            "KANBAN_AVATAR_URL_TEMPLATE",
            "https://{name}.avatars.example/",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("setting KANBAN_AVATAR_URL_TEMPLATE is invalid"),
        "{stderr}"
    );
}
