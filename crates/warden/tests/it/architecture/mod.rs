//! The code stays in the shape `ARCHITECTURE.md` describes: every crate and module, at any depth, is named there, no
//! source file grows past 800 lines, and the module trees listed in [`ACYCLIC_TREES`] import each other in no loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module trees whose modules must not import each other, directly or in a loop: `(crate directory, tree)`, the
/// tree a module path below the crate root (`"store"` is `src/store/` and `src/store.rs`; `""` the whole crate).
/// One line holds another tree to it.
const ACYCLIC_TREES: &[(&str, &str)] = &[
    ("crates/warden", "store"),
    ("crates/warden", "app"),
    ("crates/warden", "scim"),
    ("crates/warden-scim", "filter"),
];

/// Files longer than this are split (`CONTRIBUTING.md`: files under roughly 800 lines).
const MAX_LINES: usize = 800;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn architecture_md_names_every_crate_and_module() {
    let root = workspace_root();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for crate_entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let crate_path = crate_entry.unwrap().path();
        let crate_name = crate_path.file_name().unwrap().to_string_lossy().into_owned();
        if !architecture.contains(&format!("`crates/{crate_name}`")) {
            missing.push(format!("crate {crate_name}"));
        }
        // Every module at any depth: `src/store/sql/row.rs` is `row`, `src/store/sql/mod.rs` is `sql`.
        let mut files = Vec::new();
        rust_files(&crate_path.join("src"), &mut files);
        for file in files {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            let module = if stem == "mod" {
                file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned()
            } else {
                stem
            };
            if ["lib", "main", "tests"].contains(&module.as_str()) || module.ends_with("_tests") {
                continue;
            }
            if !architecture.contains(&format!("`{module}`")) {
                let relative = file.strip_prefix(&crate_path).unwrap().display().to_string();
                missing.push(format!("{crate_name}: {relative}"));
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name these modules: {missing:#?}");
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let mut files = Vec::new();
    for crate_entry in std::fs::read_dir(workspace_root().join("crates")).unwrap() {
        rust_files(&crate_entry.unwrap().path(), &mut files);
    }
    let too_long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(too_long.is_empty(), "split these files (at most {MAX_LINES} lines each): {too_long:#?}");
}

#[test]
fn listed_module_trees_import_each_other_in_no_loop() {
    let problems: Vec<String> = ACYCLIC_TREES
        .iter()
        .flat_map(|(crate_dir, tree)| {
            import_problems(&workspace_root().join(crate_dir), tree)
                .into_iter()
                .map(move |problem| format!("{crate_dir}: {problem}"))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The application layer is what front ends call; it calls none of them (`ARCHITECTURE.md`, "How a new front end
/// or background job plugs in").
#[test]
fn the_application_layer_imports_no_front_end() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates/warden/src/app"), &mut files);
    let found: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let code = code_only(&std::fs::read_to_string(file).unwrap());
            ["actions", "cli", "scim", "server", "scheduler"]
                .into_iter()
                .filter(move |front_end| code.contains(&format!("crate::{front_end}::")))
                .map(move |front_end| format!("{} uses crate::{front_end}", file.display()))
        })
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

/// Every `.rs` file below `directory`, build output excluded.
fn rust_files(directory: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "target") {
                rust_files(&path, files);
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

// The import-loop checker. It scans text, without a parser; its rules:
//
// - Every `.rs` file of the tree is one module, named by its path: `src/store/sql/row.rs` is `store::sql::row`,
//   `src/store/sql/mod.rs` is `store::sql`, `src/lib.rs` the crate root. An inline module (`mod tests { .. }`)
//   belongs to its file.
// - Comments, string literals and character literals are skipped.
// - A module depends on another when it names it: in a `use` (its tree expanded, `use crate::a::{b, c::D}`), or in
//   a path in code (`crate::a::f()`, `super::b::C`, `child::f()` for a `mod child;` the file declares, `name::f()`
//   for a `name` a `use` of the file bound). A path starts at `crate`, `super`, `self`, a child module or a name a
//   `use` bound; any other path (`std::`, `sqlx::`, `D::`) leads outside the tree.
// - A path names the deepest module of the tree it reaches. A `mod.rs` (or `lib.rs`) that only declares modules
//   and re-exports (`pub use`, `pub(crate) use`) is the face of its subtree, not a module of the graph: a path
//   through it follows its re-exports to the module the item comes from (a glob re-export stands for every module
//   it names; a glob import of a face for every module the face re-exports). Any other `mod.rs` is a module like
//   the rest, the items it defines included.
// - Not seen: dependencies that name no path (a method call, a trait implemented on a type of another module).
//   Ignored: a module's references to itself and to anything outside the tree.
//
// A path through a face that names nothing the face re-exports is reported too, so that a reference the checker
// cannot follow fails loudly instead of going unseen.

type ModulePath = Vec<String>;

/// Loops and unresolvable paths in the tree `tree` of the crate in `crate_dir`, one line each.
fn import_problems(crate_dir: &Path, tree: &str) -> Vec<String> {
    let graph = ModuleGraph::read(crate_dir, tree);
    let mut problems = graph.unresolved.clone();
    for cycle in graph.cycles() {
        let mut steps: Vec<String> = Vec::new();
        for pair in cycle.windows(2) {
            let reference = &graph.edges[&pair[0]][&pair[1]];
            steps.push(format!("  {} -> {} ({reference})", display(&pair[0]), display(&pair[1])));
        }
        let tree = if tree.is_empty() { "the crate" } else { tree };
        problems.push(format!("modules of `{tree}` import each other in a loop:\n{}", steps.join("\n")));
    }
    problems
}

fn display(module: &[String]) -> String {
    if module.is_empty() { "crate".to_owned() } else { module.join("::") }
}

/// One file's tokens: identifiers, `::` and single punctuation characters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSeparator,
    Punct(char),
}

/// The text of a source file without comments, and with string and character literals emptied (`""`, `' '`).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut index = 0;
    while index < chars.len() {
        let (current, next) = (chars[index], chars.get(index + 1).copied());
        if current == '/' && next == Some('/') {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
        } else if current == '/' && next == Some('*') {
            let mut depth = 0;
            while index < chars.len() {
                if chars[index] == '/' && chars.get(index + 1) == Some(&'*') {
                    depth += 1;
                    index += 2;
                } else if chars[index] == '*' && chars.get(index + 1) == Some(&'/') {
                    depth -= 1;
                    index += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    index += 1;
                }
            }
            code.push(' ');
        } else if let Some((start, hashes)) = raw_string_start(&chars, index) {
            // A raw string: r"..", r#".."#, br"..".
            index = start;
            while index < chars.len() {
                if chars[index] == '"'
                    && chars[index + 1..].iter().take(hashes).filter(|c| **c == '#').count() == hashes
                {
                    index += 1 + hashes;
                    break;
                }
                index += 1;
            }
            code.push_str("\"\"");
        } else if current == '"' {
            index += 1;
            while index < chars.len() && chars[index] != '"' {
                index += if chars[index] == '\\' { 2 } else { 1 };
            }
            index += 1;
            code.push_str("\"\"");
        } else if current == '\'' && next == Some('\\') {
            // An escaped character: the quote, the backslash and the character escaped, then up to the quote.
            index += 3;
            while index < chars.len() && chars[index] != '\'' {
                index += 1;
            }
            index += 1;
            code.push_str("' '");
        } else if current == '\'' && chars.get(index + 2) == Some(&'\'') {
            index += 3;
            code.push_str("' '");
        } else {
            // A lifetime (`'a`) stays: a quote and an identifier.
            code.push(current);
            index += 1;
        }
    }
    code
}

/// Where the text of a raw string starting at `index` begins, and how many `#` close it.
fn raw_string_start(chars: &[char], index: usize) -> Option<(usize, usize)> {
    let identifier_before = index > 0 && (chars[index - 1].is_alphanumeric() || chars[index - 1] == '_');
    let after_prefix = match (chars[index], chars.get(index + 1)) {
        ('r', _) => index + 1,
        ('b', Some('r')) => index + 2,
        _ => return None,
    };
    let hashes = chars[after_prefix.min(chars.len())..].iter().take_while(|c| **c == '#').count();
    (!identifier_before && chars.get(after_prefix + hashes) == Some(&'"'))
        .then_some((after_prefix + hashes + 1, hashes))
}

fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let current = chars[index];
        if current.is_alphanumeric() || current == '_' {
            let start = index;
            while index < chars.len() && (chars[index].is_alphanumeric() || chars[index] == '_') {
                index += 1;
            }
            tokens.push(Token::Ident(chars[start..index].iter().collect()));
        } else if current == ':' && chars.get(index + 1) == Some(&':') {
            tokens.push(Token::PathSeparator);
            index += 2;
        } else {
            if !current.is_whitespace() {
                tokens.push(Token::Punct(current));
            }
            index += 1;
        }
    }
    tokens
}

/// One path of a `use` tree, relative to where the `use` is, and what it binds.
#[derive(Debug, Clone)]
struct UsePath {
    segments: Vec<String>,
    /// The name it brings into scope (`None` for a glob or `as _`).
    binds: Option<String>,
    glob: bool,
}

/// Expands a `use` tree (the tokens between `use` and `;`) into its paths, each prefixed with `prefix`.
fn expand_use_tree(tokens: &[Token], prefix: &[String], into: &mut Vec<UsePath>) {
    let mut segments = prefix.to_vec();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Ident(word) if word == "as" => {
                let Some(Token::Ident(alias)) = tokens.get(index + 1) else { return };
                if segments.last().is_some_and(|segment| segment == "self") {
                    segments.pop();
                }
                let binds = (alias != "_").then(|| alias.clone());
                into.push(UsePath { segments, binds, glob: false });
                return;
            }
            Token::Ident(name) => segments.push(name.clone()),
            Token::PathSeparator => {}
            Token::Punct('*') => {
                into.push(UsePath { segments, binds: None, glob: true });
                return;
            }
            Token::Punct('{') => {
                // The group's members, split at its own commas.
                let mut depth = 0;
                let mut start = index + 1;
                for (position, token) in tokens.iter().enumerate().skip(index) {
                    let end_of_member = match token {
                        Token::Punct('{') => {
                            depth += 1;
                            false
                        }
                        Token::Punct('}') => {
                            depth -= 1;
                            depth == 0
                        }
                        Token::Punct(',') => depth == 1,
                        _ => false,
                    };
                    if end_of_member {
                        if start < position {
                            expand_use_tree(&tokens[start..position], &segments, into);
                        }
                        start = position + 1;
                    }
                }
                return;
            }
            _ => return,
        }
    }
    if segments.last().is_some_and(|segment| segment == "self") {
        segments.pop();
    }
    if let Some(last) = segments.last().cloned() {
        into.push(UsePath { segments, binds: Some(last), glob: false });
    }
}

/// One file, read.
#[derive(Debug, Default)]
struct ModuleFile {
    file: PathBuf,
    /// Only module declarations and re-exports (for a `mod.rs` or `lib.rs`).
    face: bool,
    /// `mod name;` at the file's top level.
    children: BTreeSet<String>,
    /// `use` paths, with the module (the file's or an inline one) each is written in.
    uses: Vec<(ModulePath, UsePath)>,
    /// Paths in code, with the module each is written in.
    paths: Vec<(ModulePath, Vec<String>)>,
}

impl ModuleFile {
    fn read(file: &Path, module: &ModulePath, may_be_face: bool) -> ModuleFile {
        let tokens = tokens(&code_only(&std::fs::read_to_string(file).unwrap()));
        let mut read = ModuleFile { file: file.to_owned(), face: may_be_face, ..ModuleFile::default() };
        // Inline modules open at a brace depth; the scope a path is written in is the file's module plus them.
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0;
        let mut index = 0;
        let mut public = false;
        while index < tokens.len() {
            let scope: ModulePath = module.iter().cloned().chain(inline.iter().map(|(name, _)| name.clone())).collect();
            let at_top = depth == 0;
            match &tokens[index] {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if inline.last().is_some_and(|(_, opened)| *opened == depth + 1) {
                        inline.pop();
                    }
                }
                Token::Punct('#') if at_top => {
                    // An attribute: skipped whole, it names nothing a face may not hold.
                    let mut position = index + 1;
                    if tokens.get(position) == Some(&Token::Punct('!')) {
                        position += 1;
                    }
                    let mut brackets = 0;
                    while position < tokens.len() {
                        match tokens[position] {
                            Token::Punct('[') => brackets += 1,
                            Token::Punct(']') => {
                                brackets -= 1;
                                if brackets == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        position += 1;
                    }
                    index = position + 1;
                    continue;
                }
                Token::Ident(word) if word == "pub" => {
                    public = true;
                    index += 1;
                    if tokens.get(index) == Some(&Token::Punct('(')) {
                        while index < tokens.len() && tokens[index] != Token::Punct(')') {
                            index += 1;
                        }
                        index += 1;
                    }
                    continue;
                }
                Token::Ident(word) if word == "mod" => {
                    if let Some(Token::Ident(name)) = tokens.get(index + 1) {
                        match tokens.get(index + 2) {
                            Some(Token::Punct(';')) if inline.is_empty() => {
                                read.children.insert(name.clone());
                            }
                            Some(Token::Punct('{')) => {
                                read.face = false;
                                inline.push((name.clone(), depth + 1));
                                depth += 1;
                                index += 3;
                                public = false;
                                continue;
                            }
                            _ => {}
                        }
                        index += 3;
                        public = false;
                        continue;
                    }
                }
                Token::Ident(word) if word == "use" => {
                    let end = (index..tokens.len()).find(|position| tokens[*position] == Token::Punct(';'));
                    let end = end.unwrap_or(tokens.len());
                    let mut expanded = Vec::new();
                    expand_use_tree(&tokens[index + 1..end], &[], &mut expanded);
                    if !(at_top && public) {
                        read.face = false;
                    }
                    read.uses.extend(expanded.into_iter().map(|path| (scope.clone(), path)));
                    index = end + 1;
                    public = false;
                    continue;
                }
                Token::Ident(first) => {
                    let after_separator = index > 0 && tokens[index - 1] == Token::PathSeparator;
                    if !after_separator && tokens.get(index + 1) == Some(&Token::PathSeparator) {
                        let mut segments = vec![first.clone()];
                        let mut position = index + 1;
                        while tokens.get(position) == Some(&Token::PathSeparator) {
                            let Some(Token::Ident(next)) = tokens.get(position + 1) else { break };
                            segments.push(next.clone());
                            position += 2;
                        }
                        read.paths.push((scope.clone(), segments));
                        index = position;
                        if at_top {
                            read.face = false;
                        }
                        public = false;
                        continue;
                    }
                }
                _ => {}
            }
            if at_top && !matches!(tokens[index], Token::Punct(';')) {
                read.face = false;
            }
            public = false;
            index += 1;
        }
        read
    }
}

/// The modules of a tree and the references between them.
struct ModuleGraph {
    tree: ModulePath,
    files: BTreeMap<ModulePath, ModuleFile>,
    /// For each face, its re-exports: a name, or `*` for globs, and the absolute paths it stands for.
    reexports: BTreeMap<ModulePath, Vec<(String, Vec<String>)>>,
    /// `from -> to -> the first reference that made the edge`.
    edges: BTreeMap<ModulePath, BTreeMap<ModulePath, String>>,
    unresolved: Vec<String>,
}

/// Where a path leads.
enum Target {
    Modules(Vec<ModulePath>),
    /// Out of the tree, or a face itself (a `use` of a face module binds a name; what is used through it counts).
    Nothing,
    Unresolved,
}

impl ModuleGraph {
    fn read(crate_dir: &Path, tree: &str) -> ModuleGraph {
        let source = crate_dir.join("src");
        let tree_path: ModulePath = tree.split("::").filter(|part| !part.is_empty()).map(str::to_owned).collect();
        let mut files = Vec::new();
        let tree_directory = tree_path.iter().fold(source.clone(), |path, part| path.join(part));
        rust_files(&tree_directory, &mut files);
        if tree_path.is_empty() {
            files.retain(|file| !file.starts_with(source.join("bin")) && file != &source.join("main.rs"));
        } else {
            let file = tree_directory.with_extension("rs");
            if file.exists() {
                files.push(file);
            }
        }
        let mut modules = BTreeMap::new();
        for file in files {
            let relative = file.strip_prefix(&source).unwrap().with_extension("");
            let mut module: ModulePath =
                relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
            let may_be_face = matches!(module.last().map(String::as_str), Some("mod" | "lib"));
            if may_be_face {
                module.pop();
            }
            let mut read = ModuleFile::read(&file, &module, may_be_face);
            read.file = file.strip_prefix(crate_dir).unwrap_or(&file).to_owned();
            modules.insert(module, read);
        }
        let mut graph = ModuleGraph {
            tree: tree_path,
            files: modules,
            reexports: BTreeMap::new(),
            edges: BTreeMap::new(),
            unresolved: Vec::new(),
        };
        graph.collect_reexports();
        graph.collect_edges();
        graph
    }

    /// A path as written in `scope` of `module`'s file, made absolute; `None` when it starts outside the crate's
    /// own modules.
    fn absolute(&self, module: &ModulePath, scope: &ModulePath, segments: &[String]) -> Option<Vec<String>> {
        self.absolute_within(module, scope, segments, 0)
    }

    fn absolute_within(
        &self,
        module: &ModulePath,
        scope: &ModulePath,
        segments: &[String],
        hops: usize,
    ) -> Option<Vec<String>> {
        let read = &self.files[module];
        let (first, mut rest) = segments.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => scope.clone(),
            "super" => {
                let mut base = scope.clone();
                base.pop();
                while rest.first().is_some_and(|segment| segment == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base
            }
            child if read.children.contains(child) => {
                let mut base = module.clone();
                base.push(child.to_owned());
                base
            }
            name if hops < 8 => {
                // A name a `use` of this file bound (`use crate::store::sql;` then `sql::RowView`).
                let (use_scope, bound) = read.uses.iter().find(|(_, path)| path.binds.as_deref() == Some(name))?;
                self.absolute_within(module, use_scope, &bound.segments, hops + 1)?
            }
            _ => return None,
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn collect_reexports(&mut self) {
        let faces: Vec<ModulePath> =
            self.files.iter().filter(|(_, read)| read.face).map(|(module, _)| module.clone()).collect();
        for face in faces {
            let mut reexports = Vec::new();
            for (scope, path) in &self.files[&face].uses {
                let Some(absolute) = self.absolute(&face, scope, &path.segments) else { continue };
                let name = if path.glob { "*".to_owned() } else { path.binds.clone().unwrap_or_default() };
                reexports.push((name, absolute));
            }
            self.reexports.insert(face, reexports);
        }
    }

    fn is_face(&self, module: &ModulePath) -> bool {
        self.files.get(module).is_some_and(|read| read.face)
    }

    /// The modules of the tree an absolute path leads to.
    fn target(&self, path: &[String], hops: usize) -> Target {
        if hops > 16 || !path.starts_with(&self.tree) {
            return if hops > 16 { Target::Unresolved } else { Target::Nothing };
        }
        let mut module: ModulePath = self.tree.clone();
        if !self.files.contains_key(&module) {
            return Target::Nothing;
        }
        let mut rest = &path[self.tree.len()..];
        loop {
            if let Some((next, _)) = rest.split_first() {
                let mut child = module.clone();
                child.push(next.clone());
                if self.files.contains_key(&child) {
                    module = child;
                    rest = &rest[1..];
                    continue;
                }
            }
            if !self.is_face(&module) {
                return Target::Modules(vec![module]);
            }
            let Some((name, after)) = rest.split_first() else { return Target::Nothing };
            let reexports = &self.reexports[&module];
            if let Some((_, target)) = reexports.iter().find(|(bound, _)| bound == name) {
                let mut path = target.clone();
                path.extend(after.iter().cloned());
                return self.target(&path, hops + 1);
            }
            let globs: Vec<ModulePath> = reexports
                .iter()
                .filter(|(bound, _)| bound == "*")
                .flat_map(|(_, target)| match self.target(target, hops + 1) {
                    Target::Modules(modules) => modules,
                    _ => Vec::new(),
                })
                .collect();
            return if globs.is_empty() { Target::Unresolved } else { Target::Modules(globs) };
        }
    }

    /// Every module a face stands for: the modules its re-exports lead to.
    fn face_members(&self, face: &ModulePath) -> Vec<ModulePath> {
        self.reexports[face]
            .iter()
            .flat_map(|(_, target)| match self.target(target, 1) {
                Target::Modules(modules) => modules,
                _ => Vec::new(),
            })
            .collect()
    }

    fn collect_edges(&mut self) {
        let mut edges: Vec<(ModulePath, ModulePath, String)> = Vec::new();
        let mut unresolved = Vec::new();
        for (module, read) in &self.files {
            if read.face {
                continue;
            }
            let mut references: Vec<(Vec<String>, String, bool)> = Vec::new();
            for (scope, path) in &read.uses {
                if let Some(absolute) = self.absolute(module, scope, &path.segments) {
                    let text = format!("use {}", path.segments.join("::"));
                    references.push((absolute, text, path.glob));
                }
            }
            for (scope, segments) in &read.paths {
                if let Some(absolute) = self.absolute(module, scope, segments) {
                    references.push((absolute, segments.join("::"), false));
                }
            }
            for (absolute, text, glob) in references {
                let targets = match self.target(&absolute, 0) {
                    Target::Modules(modules) => modules,
                    Target::Nothing if glob && absolute.starts_with(&self.tree) && self.is_face(&absolute) => {
                        self.face_members(&absolute)
                    }
                    Target::Nothing => Vec::new(),
                    Target::Unresolved => {
                        unresolved.push(format!(
                            "{}: `{text}` goes through a face that re-exports no such name",
                            read.file.display()
                        ));
                        Vec::new()
                    }
                };
                for target in targets {
                    if &target != module {
                        edges.push((module.clone(), target, format!("`{text}` in {}", read.file.display())));
                    }
                }
            }
        }
        for (from, to, reference) in edges {
            self.edges.entry(from).or_default().entry(to).or_insert(reference);
        }
        self.unresolved = unresolved;
    }

    /// One loop per strongly connected group of modules, each as a path that starts and ends at the same module.
    fn cycles(&self) -> Vec<Vec<ModulePath>> {
        let nodes: Vec<&ModulePath> = self.files.keys().filter(|module| !self.is_face(module)).collect();
        let mut cycles = Vec::new();
        let mut in_a_cycle: BTreeSet<ModulePath> = BTreeSet::new();
        for start in nodes {
            if in_a_cycle.contains(start) {
                continue;
            }
            // The shortest way back to `start`, breadth first.
            let mut previous: BTreeMap<ModulePath, ModulePath> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start.clone()]);
            let mut found = None;
            while let Some(module) = queue.pop_front() {
                for next in self.edges.get(&module).map(BTreeMap::keys).into_iter().flatten() {
                    if next == start {
                        found = Some(module.clone());
                        break;
                    }
                    if !previous.contains_key(next) {
                        previous.insert(next.clone(), module.clone());
                        queue.push_back(next.clone());
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            let Some(mut last) = found else { continue };
            let mut cycle = vec![start.clone()];
            while &last != start {
                cycle.push(last.clone());
                last = previous[&last].clone();
            }
            cycle.push(start.clone());
            cycle.reverse();
            in_a_cycle.extend(cycle.iter().cloned());
            cycles.push(cycle);
        }
        cycles
    }
}

mod checker;
