//! The two facts ARCHITECTURE.md promises about the shape of the code, checked on the sources:
//! each crate depends only on the lunas crates below it, and no crate's top-level modules import
//! each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lunas crates each crate may use in `[dependencies]` (dev-dependencies are free).
const ALLOWED: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("store", &["lunas-core"]),
    ("engine", &["lunas-core", "lunas-store"]),
    ("web", &["lunas-core", "lunas-engine"]),
    (
        "cli",
        &["lunas-core", "lunas-store", "lunas-engine", "lunas-web"],
    ),
    (
        "bench",
        &["lunas-core", "lunas-store", "lunas-engine", "lunas-web"],
    ),
];

#[test]
fn each_crate_depends_only_on_the_crates_below_it() {
    for (krate, allowed) in ALLOWED {
        let manifest: toml::Table =
            fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
        let used: BTreeSet<&str> = manifest
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| {
                d.keys()
                    .map(String::as_str)
                    .filter(|k| k.starts_with("lunas-"))
                    .collect()
            })
            .unwrap_or_default();
        let allowed: BTreeSet<&str> = allowed.iter().copied().collect();
        let extra: Vec<_> = used.difference(&allowed).collect();
        assert!(extra.is_empty(), "{krate} depends on {extra:?}");
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source mentions as `crate::name` (in paths and in `use crate::{…}`
/// groups), its unit tests left out.
fn mentions(source: &str) -> BTreeSet<String> {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let mut found = BTreeSet::new();
    let name = |rest: &str| -> Option<String> {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect();
        (!name.is_empty() && rest[name.len()..].starts_with("::")).then_some(name)
    };
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').filter_map(|part| name(part.trim())));
        } else if let Some(module) = name(rest) {
            found.insert(module);
        }
    }
    found
}

#[test]
fn no_crate_has_an_import_circle_between_its_modules() {
    for (krate, _) in ALLOWED {
        let src = workspace().join("crates").join(krate).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &files {
            let relative = file.strip_prefix(&src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            // The crate root declares every module and holds the crate's façade.
            if top == "lib" || top == "main" {
                continue;
            }
            let uses = mentions(&fs::read_to_string(file).unwrap());
            edges
                .entry(top.clone())
                .or_default()
                .extend(uses.into_iter().filter(|m| *m != top));
        }
        let modules: BTreeSet<String> = edges.keys().cloned().collect();
        for edges_of in edges.values_mut() {
            edges_of.retain(|m| modules.contains(m));
        }
        // A circle exists exactly when some module reaches itself.
        for start in &modules {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<(&String, Vec<&String>)> = vec![(start, vec![start])];
            while let Some((module, path)) = stack.pop() {
                for next in &edges[module] {
                    assert!(
                        next != start,
                        "crates/{krate}: an import circle {}",
                        path.iter()
                            .chain([&next])
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(" → ")
                    );
                    if seen.insert(next) {
                        let mut longer = path.clone();
                        longer.push(next);
                        stack.push((next, longer));
                    }
                }
            }
        }
    }
}

#[test]
fn the_circle_check_sees_paths_and_groups() {
    let found = mentions("use crate::{a::X, b, c::d::Y};\nfn f() { crate::e::g(); }\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["a", "c", "e"].map(String::from)
    );
}
