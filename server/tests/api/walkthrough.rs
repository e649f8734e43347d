//! Issue 19 item 1: the README's walkthrough, run as written. Its shell lines (between
//! `<!-- walkthrough:start -->` and `<!-- walkthrough:end -->`) run in bash against the binary
//! cargo built for the tests, and each command followed by `# → …` must answer that (`…`
//! matching anything). What differs, and only that: `cargo build --release` is skipped (the
//! test's binary is on `PATH` instead), another free port takes the place of `8080`, and the
//! working directory is a fresh copy of `rules/`, `templates/` and `examples/payloads/`.
use crate::helpers::repo_root;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const START: &str = "<!-- walkthrough:start -->";
const END: &str = "<!-- walkthrough:end -->";
/// What the script echoes after each command, with its number and exit status.
const MARK: &str = "@@walkthrough-step";

/// One command of the walkthrough and what the README says it answers.
#[derive(Debug)]
struct Step {
    command: String,
    expect: Option<String>,
}

/// The walkthrough's commands: the `sh` blocks between the markers, continuation lines
/// joined, other comments left out.
fn steps(readme: &str) -> Vec<Step> {
    let start = readme.find(START).expect("the walkthrough's start marker") + START.len();
    let end = readme[start..].find(END).expect("the end marker") + start;
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = line.trim() == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(expect) = line.strip_prefix("# → ") {
            let last = steps.last_mut().expect("an answer follows a command");
            last.expect = Some(expect.to_owned());
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => pending.push_str(part),
            None => {
                pending.push_str(line);
                steps.push(Step {
                    command: std::mem::take(&mut pending),
                    expect: None,
                });
            }
        }
    }
    steps
}

/// Whether `text` holds `pattern`'s pieces (between `…`) in order.
fn matches(pattern: &str, text: &str) -> bool {
    let mut rest = text;
    for piece in pattern.split('…') {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The script's process group, killed however the test ends (the walkthrough starts a server
/// in the background).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        crate::helpers::signal_group(&self.0, nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let steps = steps(&std::fs::read_to_string(repo_root().join("README.md")).unwrap());
    assert!(
        steps
            .iter()
            .any(|s| s.command.contains("hirelay webhook send")),
        "{steps:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    for part in ["rules", "templates", "examples/payloads"] {
        copy_tree(&repo_root().join(part), &dir.path().join(part));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut script = String::new();
    for (i, step) in steps.iter().enumerate() {
        if step.command.starts_with("cargo build") {
            continue;
        }
        script.push_str(&step.command.replace("8080", &port));
        // On a line of its own: curl's answers end without a newline.
        script.push_str(&format!("\nprintf '\\n{MARK} {i} exit=%s\\n' $?\n"));
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_hirelay"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut group = Group(
        Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env_clear()
            .env("PATH", path)
            .env("HOME", dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("run bash"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while group.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the walkthrough took over 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (mut out, mut err) = (String::new(), String::new());
    group
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    group
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("hirelay.log")).unwrap_or_default();
    let mut answer = String::new();
    let mut done = 0;
    for line in out.lines() {
        let Some(mark) = line.strip_prefix(MARK) else {
            answer.push_str(line);
            answer.push('\n');
            continue;
        };
        let (i, exit) = mark.trim().split_once(" exit=").unwrap();
        let step = &steps[i.parse::<usize>().unwrap()];
        assert_eq!(
            exit, "0",
            "`{}` failed:\n{answer}\nstderr:\n{err}\nserver log:\n{log}",
            step.command
        );
        if let Some(expect) = &step.expect {
            let expect = expect.replace("8080", &port);
            assert!(
                matches(&expect, &answer),
                "`{}` answered\n{answer}\nnot {expect}\nserver log:\n{log}",
                step.command
            );
        }
        answer.clear();
        done += 1;
    }
    let expected = steps
        .iter()
        .filter(|s| !s.command.starts_with("cargo build"))
        .count();
    assert_eq!(
        done, expected,
        "stdout:\n{out}\nstderr:\n{err}\nlog:\n{log}"
    );
}

#[test]
fn the_walkthrough_reader_joins_lines_and_keeps_answers() {
    let readme = format!(
        "x\n{START}\n```sh\n# a comment\necho a \\\n  b\n# → a …\n```\ntext\n```json\nno\n```\n{END}\n"
    );
    let steps = steps(&readme);
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].command, "echo a   b");
    assert_eq!(steps[0].expect.as_deref(), Some("a …"));
    assert!(matches("{\"a\":…,\"b\":2}", "{\"a\":1,\"b\":2}"));
    assert!(!matches("b…a", "ab"));
}
