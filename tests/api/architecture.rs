//! The layering of docs/architecture.md, checked by reading the source: what each layer
//! may import, where the state lives, how long a file may be, and that the files'
//! imports form no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src`, as a path relative to `src` (`app/pos/mod.rs`).
fn files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &src(), &mut out);
    out.sort();
    out
}

/// A file's text before its unit tests, without comment lines.
fn code(file: &str) -> String {
    let text = std::fs::read_to_string(src().join(file)).unwrap();
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn app_auth_and_the_command_line_never_reach_into_routes() {
    let offenders: Vec<String> = files()
        .into_iter()
        .filter(|f| f.starts_with("app/") || f.starts_with("auth/") || f == "cli.rs")
        .filter(|f| code(f).contains("crate::routes"))
        .collect();
    assert!(offenders.is_empty(), "they import routes: {offenders:?}");
}

#[test]
fn the_use_cases_know_no_http_framework_and_no_app_state() {
    let offenders: Vec<String> = files()
        .into_iter()
        .filter(|f| f.starts_with("app/"))
        .filter(|f| {
            let code = code(f);
            code.contains("actix") || code.contains("AppState") || code.contains("crate::http")
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "they know actix or the state: {offenders:?}"
    );
}

#[test]
fn no_route_module_imports_another() {
    let modules: Vec<String> = files()
        .into_iter()
        .filter_map(|f| f.strip_prefix("routes/").map(str::to_owned))
        .filter(|f| f != "mod.rs")
        .map(|f| f.trim_end_matches(".rs").to_owned())
        .collect();
    let mut offenders = Vec::new();
    for module in &modules {
        let code = code(&format!("routes/{module}.rs"));
        for other in modules.iter().filter(|m| *m != module) {
            for pattern in [format!("crate::routes::{other}"), format!("super::{other}")] {
                if code.contains(&pattern) {
                    offenders.push(format!("{module} uses {pattern}"));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}

#[test]
fn the_state_lives_in_state_rs_and_only_the_entry_points_use_startup() {
    assert!(!code("startup.rs").contains("pub struct AppState"));
    assert!(code("state.rs").contains("pub struct AppState"));
    let users: Vec<String> = files()
        .into_iter()
        .filter(|f| f != "startup.rs" && f != "cli.rs")
        .filter(|f| code(f).contains("crate::startup"))
        .collect();
    assert!(users.is_empty(), "they import startup: {users:?}");
}

#[test]
fn no_file_is_longer_than_600_lines_before_its_tests() {
    let long: Vec<String> = files()
        .into_iter()
        .filter(|f| f != "db/schema.rs")
        .filter_map(|f| {
            let text = std::fs::read_to_string(src().join(&f)).unwrap();
            let n = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .count();
            (n > 600).then(|| format!("{f}: {n}"))
        })
        .collect();
    assert!(long.is_empty(), "{long:?}");
}

/// The files a file imports: every `crate::`, `self::` and `super::` path it names,
/// `use` groups expanded, mapped to the file that defines the module it reaches.
fn imports(file: &str, all: &BTreeSet<String>) -> BTreeSet<String> {
    let module: Vec<String> = {
        let stem = file.trim_end_matches(".rs");
        let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
        if parts
            .last()
            .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
        {
            parts.pop();
        }
        parts
    };
    let code = code(file);
    let mut paths = Vec::new();
    // `use` statements, groups expanded.
    for statement in code.split(';') {
        if let Some(start) = statement.find("use ") {
            let body = statement[start + 4..].trim();
            let before = &statement[..start];
            if before.trim().is_empty()
                || before.trim_end().ends_with("pub")
                || before.trim_end().ends_with(')')
            {
                expand(body, String::new(), &mut paths);
            }
        }
    }
    // Paths written inline.
    let bytes: Vec<char> = code.chars().collect();
    let text: String = bytes.iter().collect();
    for prefix in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix) {
            let begin = from + at;
            from = begin + prefix.len();
            if begin > 0 {
                let before = text[..begin].chars().last().unwrap();
                if before.is_alphanumeric() || before == '_' || before == '$' || before == ':' {
                    continue;
                }
            }
            let path: String = text[begin..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(path);
        }
    }
    let mut out = BTreeSet::new();
    for path in paths {
        let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut base: Vec<String> = match segments.first() {
            Some(&"crate") => Vec::new(),
            Some(&"self") => module.clone(),
            Some(&"super") => {
                let mut base = module.clone();
                while segments.first() == Some(&"super") {
                    base.pop();
                    segments.remove(0);
                }
                segments.insert(0, "super");
                base
            }
            _ => continue,
        };
        segments.remove(0);
        // The longest module prefix that is a file.
        let mut target = None;
        for segment in segments {
            base.push(segment.to_owned());
            let joined = base.join("/");
            let candidates = [format!("{joined}.rs"), format!("{joined}/mod.rs")];
            match candidates.into_iter().find(|c| all.contains(c)) {
                Some(found) => target = Some(found),
                None => break,
            }
        }
        let target = target.unwrap_or_else(|| {
            base.truncate(base.len().saturating_sub(1));
            let joined = base.join("/");
            if joined.is_empty() {
                "lib.rs".to_owned()
            } else if all.contains(&format!("{joined}.rs")) {
                format!("{joined}.rs")
            } else {
                format!("{joined}/mod.rs")
            }
        });
        if target != file && target != "lib.rs" && all.contains(&target) {
            out.insert(target);
        }
    }
    out
}

/// `a::{b, c::{d}}` → `a::b`, `a::c::d`.
fn expand(body: &str, prefix: String, out: &mut Vec<String>) {
    let body = body.trim();
    match body.find('{') {
        None => {
            for part in body.split(',') {
                let part = part.split(" as ").next().unwrap_or("").trim();
                if !part.is_empty() {
                    out.push(format!("{prefix}{part}"));
                }
            }
        }
        Some(open) => {
            let head = &body[..open];
            let inner = &body[open + 1..body.rfind('}').unwrap_or(body.len())];
            // Split the group at top-level commas.
            let mut depth = 0;
            let mut start = 0;
            let mut parts = Vec::new();
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            parts.push(&inner[start..]);
            for part in parts {
                let part = part.trim();
                if part == "self" {
                    out.push(format!("{prefix}{}", head.trim_end_matches("::")));
                } else if !part.is_empty() {
                    expand(part, format!("{prefix}{head}"), out);
                }
            }
        }
    }
}

/// A circle of the graph, if it has one (depth-first search for a back edge).
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut circle = stack[from..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                0 => {
                    if let Some(circle) = visit(next, graph, state, stack) {
                        return Some(circle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(circle) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(circle);
            }
        }
    }
    None
}

#[test]
fn the_files_import_one_another_without_a_circle() {
    let all: BTreeSet<String> = files().into_iter().collect();
    let graph: BTreeMap<String, BTreeSet<String>> =
        all.iter().map(|f| (f.clone(), imports(f, &all))).collect();
    // The parser sees the edges the design relies on.
    assert!(graph["routes/pos.rs"].contains("app/pos/redeem.rs"));
    assert!(graph["app/pos/redeem.rs"].contains("db/offers.rs"));
    assert!(graph["app/pos/verify.rs"].contains("app/pos/mod.rs"));
    assert!(graph["auth/extract.rs"].contains("app/identity.rs"));
    assert!(graph["state.rs"].contains("app/pos/mod.rs"));
    if let Some(circle) = find_circle(&graph) {
        panic!("an import circle: {}", circle.join(" → "));
    }
}

#[test]
fn groups_expand_and_a_circle_is_found() {
    let mut paths = Vec::new();
    expand(
        "crate::b::{self, c::{X, Y as Z}}",
        String::new(),
        &mut paths,
    );
    assert_eq!(paths, vec!["crate::b", "crate::b::c::X", "crate::b::c::Y"]);
    let edge = |a: &str, b: &[&str]| (a.to_owned(), b.iter().map(|s| s.to_string()).collect());
    let acyclic: BTreeMap<String, BTreeSet<String>> =
        [edge("a", &["b", "c"]), edge("b", &["c"]), edge("c", &[])].into();
    assert_eq!(find_circle(&acyclic), None);
    let circular: BTreeMap<String, BTreeSet<String>> =
        [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])].into();
    assert_eq!(
        find_circle(&circular),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
