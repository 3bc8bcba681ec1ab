//! The OpenAPI document and the router say the same: every route the server answers (outside
//! the dashboard) is in the document with its methods, and every documented operation is a
//! route. The routes are read from the router's source, where each is declared once.

use std::collections::BTreeSet;

/// `(method, path)` of every `.route(…)` in `source`; `nested` is `(start, prefix)`: routes in
/// the statement that begins with `start` (`let v1 = …;`, nested under `/api/v1`) get `prefix`.
fn routes_in(source: &str, nested: Option<(&str, &str)>) -> BTreeSet<(String, String)> {
    let region = nested.and_then(|(start, _)| {
        let begin = source.find(start)?;
        Some(begin..begin + source[begin..].find(';')?)
    });
    let mut found = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        let rest = &source[at + ".route(".len()..];
        // The call's text: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.len(), |(i, _)| i);
        let call = &rest[..end];
        let path = call
            .split('"')
            .nth(1)
            .expect("a route's path is a string literal");
        let prefix = match (nested, &region) {
            (Some((_, prefix)), Some(region)) if region.contains(&at) => prefix,
            _ => "",
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0
                    || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && call.as_bytes()[i - 1] != b'_'
            });
            if called {
                found.insert((method.to_owned(), format!("{prefix}{path}")));
            }
        }
    }
    found
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_a_route() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let api = std::fs::read_to_string(root.join("src/api/mod.rs")).unwrap();
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let mut served = routes_in(&api, Some(("let v1 = Router::new()", "/api/v1")));
    served.extend(routes_in(&lib, None));
    assert!(served.len() > 30, "the routes were not found: {served:?}");

    let document: serde_json::Value = serde_json::from_str(&lunas_web::openapi_json()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
}

#[test]
fn the_route_reader_sees_methods_and_nests() {
    let source = r#"let v1 = Router::new()
        .route("/a/{id}", get(a::get).put(a::put))
        .route("/b", axum::routing::delete(b::gone));
    Router::new()
        .route("/c", post(c::take).layer(DefaultBodyLimit::max(9)))
        .nest("/api/v1", v1)"#;
    let found: Vec<_> = routes_in(source, Some(("let v1 = Router::new()", "/api/v1")))
        .into_iter()
        .collect();
    let expect: Vec<(String, String)> = [
        ("delete", "/api/v1/b"),
        ("get", "/api/v1/a/{id}"),
        ("post", "/c"),
        ("put", "/api/v1/a/{id}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(found, expect);
}
