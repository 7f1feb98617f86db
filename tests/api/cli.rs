//! The binary's commands, run as a newcomer would run them.

use std::io::Write;
use std::process::{Command, Stdio};

fn yongjun(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yongjun"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("YONGJUN_DATA_DIR", data_dir)
        .env("YONGJUN_LOG", "warn");
    command
}

fn run_with_stdin(mut command: Command, stdin: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn openapi_command_prints_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let output = yongjun(dir.path()).arg("openapi").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        yongjun::startup::openapi_yaml().unwrap()
    );
}

#[test]
fn migrate_then_admin_create_on_the_default_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let output = yongjun(dir.path()).arg("migrate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("migration(s) on sqlite"), "{stdout}");
    assert!(dir.path().join("yongjun.db").exists());

    let mut command = yongjun(dir.path());
    command.args([
        "admin",
        "create",
        "--username",
        "qs.reviewer",
        "--role",
        "reviewer",
        "--region",
        "140521",
        "--department",
        "military",
    ]);
    let output = run_with_stdin(command, "qinshui-reviewer-pw\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("created qs.reviewer (reviewer)"),
        "{stdout}"
    );
    assert!(!stdout.contains("qinshui-reviewer-pw"));

    // The same name again is refused with the reason, and a non-zero exit.
    let mut command = yongjun(dir.path());
    command.args([
        "admin",
        "create",
        "--username",
        "qs.reviewer",
        "--role",
        "reviewer",
        "--region",
        "140521",
        "--department",
        "military",
    ]);
    let output = run_with_stdin(command, "qinshui-reviewer-pw\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("username_taken"));

    // A reviewer without a department is refused, naming the field.
    let mut command = yongjun(dir.path());
    command.args([
        "admin",
        "create",
        "--username",
        "qs.other",
        "--role",
        "reviewer",
        "--region",
        "140521",
    ]);
    let output = run_with_stdin(command, "qinshui-reviewer-pw\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("department"));
}

#[test]
fn development_secrets_are_generated_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = yongjun(dir.path()).arg("migrate").output().unwrap();
        assert!(output.status.success());
    }
    let secrets = dir.path().join("secrets");
    let first: Vec<String> = ["jwt_secret", "data_key", "signing_key.pem"]
        .iter()
        .map(|f| std::fs::read_to_string(secrets.join(f)).expect(f))
        .collect();
    assert!(first[2].contains("BEGIN PRIVATE KEY"));
    yongjun::settings::decode_data_key(&first[1]).expect("a 32-byte base64 key");
    let output = yongjun(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success());
    let again: Vec<String> = ["jwt_secret", "data_key", "signing_key.pem"]
        .iter()
        .map(|f| std::fs::read_to_string(secrets.join(f)).unwrap())
        .collect();
    assert_eq!(first, again, "secrets must not change between starts");
}

#[test]
fn production_refuses_to_start_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = yongjun(dir.path())
        .env("YONGJUN_ENV", "production")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not set: YONGJUN_JWT_SECRET, YONGJUN_DATA_KEY, YONGJUN_SIGNING_KEY"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("secrets").exists(),
        "nothing may be generated in production"
    );
}

#[test]
fn secrets_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "a-very-secret-jwt-value-0123456789-abcdef";
    let output = yongjun(dir.path())
        .env("YONGJUN_ENV", "production")
        .env("YONGJUN_JWT_SECRET", secret)
        .env("YONGJUN_DATA_KEY", "not base64 at all!")
        .env(
            "YONGJUN_SIGNING_KEY",
            yongjun::auth::qr::generate_signing_key_pem(),
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("YONGJUN_DATA_KEY"), "{all}");
    assert!(!all.contains(secret));
    assert!(!all.contains("not base64 at all"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_command_probes_the_api() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let url = app.url("/healthz");
    let healthy = tokio::task::spawn_blocking({
        let mut command = yongjun(dir.path());
        command.args(["healthcheck", "--url", &url]);
        move || command.status().unwrap()
    });
    assert!(healthy.await.unwrap().success());
    let mut command = yongjun(dir.path());
    command.args(["healthcheck", "--url", &app.url("/no-such-route")]);
    let unhealthy = tokio::task::spawn_blocking(move || command.status().unwrap());
    assert!(!unhealthy.await.unwrap().success());
}

#[test]
fn a_qr_lifetime_above_five_minutes_is_refused_at_start_up() {
    for (ttl, refused) in [("301", true), ("0", true), ("300", false)] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = yongjun(dir.path());
        // `migrate` reads the same settings as `serve` and then exits.
        command.env("YONGJUN_QR_TTL_SECS", ttl).arg("migrate");
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(!output.status.success(), refused, "ttl {ttl}: {stderr}");
        if refused {
            assert!(
                stderr.contains("YONGJUN_QR_TTL_SECS") && stderr.contains("300"),
                "{stderr}"
            );
        }
    }
}
