//! The README walk-through, run as written, and two cheaper checks that the README tells
//! the truth.
//!
//! The walk-through is every block of README.md fenced as `sh walkthrough`, in order,
//! run as one script with `bash -euo pipefail` (and `-x`, so a failure shows the command
//! that failed). The one block fenced as `sh walkthrough-server` exports the settings and
//! starts the server; the test does not run it but does what it says: it starts the
//! debug binary itself on a free port, with a fresh data directory on the SQLite default
//! and the block's other variables as written, and gives the script the same variables
//! with `BASE` pointing at that server. Each step of the README checks its own answer
//! (`curl -sf`, `grep -o`), so a README that no longer matches the API fails here.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The info string of the blocks the test runs.
const STEPS_INFO: &str = "sh walkthrough";
/// The info string of the block that sets the variables and starts the server.
const SERVER_INFO: &str = "sh walkthrough-server";
/// The variables the server block must export (the steps rely on them).
const REQUIRED: [&str; 4] = [
    "BASE",
    "YONGJUN_DATA_DIR",
    "YONGJUN_BOOTSTRAP_ADMIN_PASSWORD",
    "YONGJUN_PUBLIC_NOTICE_DAYS",
];
/// How long the whole walk-through may take before the test gives up on it.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(600);

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

/// A fenced block: its info string and its lines.
struct Block {
    info: String,
    body: String,
}

/// Every fenced block of `markdown`, in order.
fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in markdown.lines() {
        match &mut open {
            None => {
                if let Some(info) = line.trim_start().strip_prefix("```") {
                    open = Some((info.trim().to_owned(), Vec::new()));
                }
            }
            Some((info, body)) => {
                if line.trim() == "```" {
                    found.push(Block {
                        info: std::mem::take(info),
                        body: body.join("\n"),
                    });
                    open = None;
                } else {
                    body.push(line);
                }
            }
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    found
}

/// `markdown` without its fenced blocks (for looking at the prose and its links).
fn prose(markdown: &str) -> String {
    let mut text = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// The `export NAME=VALUE` lines of a block: the name, and the value when it is a literal
/// (quoted or bare, without `$`), `None` when the shell computes it.
fn exports(block: &str) -> Vec<(String, Option<String>)> {
    block
        .lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .map(|rest| {
            let (name, value) = rest
                .split_once('=')
                .unwrap_or_else(|| panic!("`export {rest}` is not export NAME=VALUE"));
            let value = value.trim_start();
            let literal = if let Some(quoted) = value.strip_prefix('\'') {
                let end = quoted.find('\'').expect("a closing single quote");
                Some(quoted[..end].to_owned())
            } else {
                let raw = match value.strip_prefix('"') {
                    Some(quoted) => &quoted[..quoted.find('"').expect("a closing double quote")],
                    None => value.split_whitespace().next().unwrap_or(""),
                };
                (!raw.contains('$') && !raw.contains('`')).then(|| raw.to_owned())
            };
            (name.trim().to_owned(), literal)
        })
        .collect()
}

/// The server the walk-through talks to; killed when dropped, also when the test fails.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(vars: &[(String, String)], port: u16, log: PathBuf) -> Server {
        let output = File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_yongjun"));
        command
            // No DATABASE_URL or REDIS_URL: the zero-setup default, SQLite and the
            // in-process cache.
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("YONGJUN_BIND", format!("127.0.0.1:{port}"))
            .env("YONGJUN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        let child = command.spawn().expect("starting the yongjun binary");
        Server { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `/healthz` answers 200, or fails with the server's log.
    fn wait_until_healthy(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the server exited ({status}) before answering:\n{}",
                    self.log()
                );
            }
            if healthy(port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer /healthz within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /healthz` answers 200 (plain HTTP/1.0, no client library needed).
fn healthy(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for `child`, killing it after `timeout`; `None` when it had to be killed.
fn wait_at_most(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn the_readme_walk_through_runs_as_written() {
    let readme = read("README.md");
    let blocks = fenced_blocks(&readme);
    let servers: Vec<&Block> = blocks.iter().filter(|b| b.info == SERVER_INFO).collect();
    assert_eq!(
        servers.len(),
        1,
        "README.md needs exactly one ```{SERVER_INFO} block: the settings and the start"
    );
    let server_block = &servers[0].body;
    assert!(
        server_block.contains("cargo run") && server_block.contains("SERVER=$!"),
        "the ```{SERVER_INFO} block should start the server and keep its process id in SERVER:\n{server_block}"
    );
    let steps: Vec<&str> = blocks
        .iter()
        .filter(|b| b.info == STEPS_INFO)
        .map(|b| b.body.as_str())
        .collect();
    assert!(
        steps.len() >= 5,
        "README.md has only {} ```{STEPS_INFO} blocks",
        steps.len()
    );
    let script = steps.join("\n\n");
    for fixed in ["localhost:8080", "127.0.0.1:8080"] {
        assert!(
            !script.contains(fixed),
            "a walk-through step names {fixed}; every URL goes through $BASE"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let scratch = dir.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // The variables of the server block, as a newcomer's shell has them after it.
    let exported = exports(server_block);
    for name in REQUIRED {
        assert!(
            exported.iter().any(|(n, _)| n == name),
            "the ```{SERVER_INFO} block does not export {name}"
        );
    }
    let vars: Vec<(String, String)> = exported
        .into_iter()
        .filter(|(name, _)| name != "YONGJUN_BIND")
        .map(|(name, value)| {
            let value = match name.as_str() {
                "BASE" => base.clone(),
                "YONGJUN_DATA_DIR" => data.display().to_string(),
                _ => value.unwrap_or_else(|| {
                    panic!("{name} in the ```{SERVER_INFO} block must be a literal the test can use too")
                }),
            };
            (name, value)
        })
        .collect();

    let mut server = Server::start(&vars, port, dir.path().join("server.log"));
    server.wait_until_healthy(port);

    let script_path = work.join("walkthrough.sh");
    std::fs::write(&script_path, &script).unwrap();
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut bash = Command::new("bash")
        .args(["-e", "-u", "-o", "pipefail", "-x"])
        .arg(&script_path)
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Nobody's ~/.curlrc changes what curl does here, and what `mktemp` makes goes
        // away with the test's directory.
        .env("HOME", &work)
        .env("TMPDIR", &scratch)
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        // What `cargo run --release & SERVER=$!` leaves behind.
        .env("SERVER", server.child.id().to_string())
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .expect("running bash (the walk-through needs bash, curl, grep and sed)");
    let status = wait_at_most(&mut bash, SCRIPT_TIMEOUT);
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    match status {
        Some(status) if status.success() => {
            println!(
                "the walk-through: {} blocks, {} lines, passed\n{stdout}",
                steps.len(),
                script.lines().count()
            );
        }
        _ => panic!(
            "the README walk-through failed ({}): the last command traced below is the step \
             whose answer differs from README.md\n\
             --- stdout ---\n{stdout}\n\
             --- stderr (bash -x trace, last 60 lines) ---\n{}\n\
             --- server log (last 40 lines) ---\n{}",
            status.map_or_else(
                || format!("killed after {} s", SCRIPT_TIMEOUT.as_secs()),
                |s| s.to_string()
            ),
            tail(&stderr, 60),
            tail(&server.log(), 40),
        ),
    }
}

/// Every `](target)` of the prose of `markdown`.
fn link_targets(markdown: &str) -> Vec<String> {
    let text = prose(markdown);
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        targets.push(after[..end].trim().to_owned());
        rest = &after[end..];
    }
    targets
}

#[test]
fn the_readme_and_the_design_note_link_only_inside_the_repository() {
    let root = Path::new(ROOT).canonicalize().unwrap();
    for file in ["README.md", "docs/design.md"] {
        let text = read(file);
        let dir = Path::new(ROOT).join(file).parent().unwrap().to_owned();
        for target in link_targets(&text) {
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() {
                continue; // an anchor in the same file
            }
            assert!(
                !path.contains("://") && !path.starts_with("mailto:"),
                "{file} links to {target}: the docs of this repository stand alone"
            );
            let resolved = dir.join(path).canonicalize().unwrap_or_else(|_| {
                panic!("{file} links to {target}, which does not exist in the repository")
            });
            assert!(
                resolved.starts_with(&root),
                "{file} links to {target}, outside the repository"
            );
        }
    }
}

/// Every `YONGJUN_…` name in the Rust files under `dir`.
fn variables_in(dir: &Path, found: &mut BTreeSet<String>, text: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            variables_in(&path, found, text);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            let mut rest = source.as_str();
            while let Some(at) = rest.find("YONGJUN_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.len() > "YONGJUN_".len() {
                    found.insert(name.clone());
                }
                rest = &rest[at + name.len().max(1)..];
            }
            text.push_str(&source);
        }
    }
}

#[test]
fn the_configuration_table_names_every_variable_the_source_reads() {
    let readme = read("README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README.md has a ## Configuration section");
    let section = section.split("\n## ").next().unwrap();
    let mut documented = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first_cell = row.split('|').nth(1).unwrap();
        for (i, word) in first_cell.split('`').enumerate() {
            if i % 2 == 1 && word.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                documented.insert(word.to_owned());
            }
        }
    }
    let mut read_by_source = BTreeSet::new();
    let mut source = String::new();
    variables_in(
        &Path::new(ROOT).join("src"),
        &mut read_by_source,
        &mut source,
    );
    let undocumented: Vec<&String> = read_by_source.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "the source reads {undocumented:?}, missing from the README's configuration table"
    );
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|name| !source.contains(name.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the README's configuration table names {unknown:?}, which the source never mentions"
    );
}
