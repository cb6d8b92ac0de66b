//! The core crate's top-level modules form layers: a module names only modules of its own
//! layer or of lower ones, and the graph of who names whom has no cycle. This test reads
//! the sources (test code left out) and names each offending `use`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. Every top-level module of `src/` is in exactly one layer.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["clock", "logging"]),
    ("domain: types and rules, no I/O", &["domain"]),
    ("stored records", &["records"]),
    (
        "ports and adapters",
        &["aws_error", "store", "queue", "config"],
    ),
    ("what every service runs with", &["app"]),
    (
        "services",
        &[
            "admin",
            "campaigns",
            "cee",
            "certificate",
            "jobs",
            "journeys",
        ],
    ),
    ("HTTP edge", &["api"]),
    ("entry points", &["lambda"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// A reference from one top-level module to another.
struct Edge {
    from: String,
    to: String,
    at: String,
}

#[test]
fn top_level_modules_form_layers_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    let test_files = test_module_files(&src, &files);
    let mut edges = Vec::new();
    let mut problems = Vec::new();
    for file in files.iter().filter(|f| !test_files.contains(*f)) {
        let rel = file.strip_prefix(&src).expect("under src");
        let module = module_path(rel);
        let Some(top) = module.first().cloned() else {
            continue; // lib.rs
        };
        if layer_of(&top).is_none() {
            problems.push(format!(
                "src/{}: module `{top}` is in no layer of LAYERS",
                rel.display()
            ));
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for (line_no, line) in production_lines(&text) {
            for to in referenced_top_modules(line, &module) {
                if to != top {
                    edges.push(Edge {
                        from: top.clone(),
                        to,
                        at: format!("src/{}:{}: {}", rel.display(), line_no, line.trim()),
                    });
                }
            }
        }
    }
    for e in &edges {
        if let (Some(a), Some(b)) = (layer_of(&e.from), layer_of(&e.to)) {
            if b > a {
                problems.push(format!(
                    "upward: `{}` ({}) names `{}` ({}) at {}",
                    e.from, LAYERS[a].0, e.to, LAYERS[b].0, e.at
                ));
            }
        }
    }
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &edges {
        graph.entry(&e.from).or_default().insert(&e.to);
    }
    if let Some(cycle) = find_cycle(&graph) {
        problems.push(format!("cycle: {}", cycle.join(" -> ")));
        for pair in cycle.windows(2) {
            for e in edges
                .iter()
                .filter(|e| e.from == pair[0] && e.to == pair[1])
            {
                problems.push(format!("  {}", e.at));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The files of modules declared `#[cfg(test)] mod name;`: test code throughout.
fn test_module_files(src: &Path, files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            let declared = pair[1]
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let (true, Some(name)) = (pair[0] == "#[cfg(test)]", declared) {
                let dir =
                    src.join(module_path(file.strip_prefix(src).expect("under src")).join("/"));
                out.insert(dir.join(format!("{name}.rs")));
                out.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

/// `api/router.rs` -> [api, router]; `api/mod.rs` -> [api]; `lib.rs` -> [].
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The lines of a file that are not test code, numbered from 1: `#[cfg(test)]` items are
/// skipped, and so are whole files of tests (`tests.rs`, `*_tests.rs`).
fn production_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // Skip the item: to the end of its braces, or to its `;`.
            let mut depth = 0i32;
            let mut opened = false;
            i += 1;
            while i < lines.len() {
                let line = code_part(lines[i]);
                depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
                opened |= line.contains('{');
                i += 1;
                if (opened && depth <= 0) || (!opened && line.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        out.push((i + 1, lines[i]));
        i += 1;
    }
    out
}

fn code_part(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

/// The top-level modules a line names through `crate::` or a `super::` chain that reaches
/// the crate root.
fn referenced_top_modules(line: &str, module: &[String]) -> Vec<String> {
    let code = code_part(line);
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = &rest[..at];
        let after = &rest[at + "crate::".len()..];
        rest = after;
        // `registry_core::` or `$crate::` are not this crate's path from inside.
        if before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        out.extend(first_idents(after));
    }
    // `super::` chains: a file `a/b.rs` (module a::b) reaches the root with two.
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        let before = &rest[..at];
        if before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
            rest = &rest[at + "super::".len()..];
            continue;
        }
        let mut after = &rest[at..];
        let mut ups = 0;
        while let Some(r) = after.strip_prefix("super::") {
            ups += 1;
            after = r;
        }
        rest = after;
        if ups >= module.len() {
            out.extend(first_idents(after));
        }
    }
    out
}

/// `api::x` -> [api]; `{api::x, store}` -> [api, store].
fn first_idents(path: &str) -> Vec<String> {
    if let Some(group) = path.strip_prefix('{') {
        let mut out = Vec::new();
        let mut depth = 0;
        let mut start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => start = true,
                c if start && (c.is_alphabetic() || c == '_') => {
                    out.push(ident_at(&group[i..]));
                    start = false;
                }
                _ => {}
            }
        }
        out
    } else {
        vec![ident_at(path)]
    }
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn find_cycle<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}
