//! Personal data never reaches a log line: the real binary, logging at debug level,
//! goes through registration, update, search, import, card issue and activation, and
//! its whole output is searched for every ID number and phone used.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::beneficiaries::id_number;
use crate::helpers::*;

struct Server {
    child: std::process::Child,
    address: String,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

fn start(envs: &[(&str, String)], data_dir: &std::path::Path) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yongjun"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("YONGJUN_ENV", "production")
        .env("YONGJUN_LOG", "debug")
        .env("YONGJUN_BIND", "127.0.0.1:0")
        .env("YONGJUN_DATA_DIR", data_dir)
        .env("YONGJUN_WORKERS", "1")
        .env(
            "YONGJUN_JWT_SECRET",
            "privacy-test-secret-privacy-test-secret",
        )
        .env(
            "YONGJUN_DATA_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .env(
            "YONGJUN_SIGNING_KEY",
            yongjun::auth::qr::generate_signing_key_pem(),
        )
        .env("YONGJUN_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start the yongjun binary");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stream);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
                output.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
    }
    // The JSON start-up line carries the bound port.
    let mut port = None;
    for _ in 0..200 {
        if let Some(p) = output
            .lock()
            .unwrap()
            .lines()
            .filter(|l| l.contains("listening"))
            .find_map(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok()?["fields"]["port"].as_u64()
            })
        {
            port = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let port =
        port.unwrap_or_else(|| panic!("the server did not start:\n{}", output.lock().unwrap()));
    Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
        output,
    }
}

async fn exercise(server: &Server) -> (Vec<String>, Vec<String>) {
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.address);
    let token = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids: Vec<String> = (1..=6).map(id_number).collect();
    let phones: Vec<String> = (1..=6).map(|n| format!("1391234{n:04}")).collect();

    let created = client
        .post(url("/api/v1/admin/beneficiaries"))
        .bearer_auth(&token)
        .json(&json!({"name": "孙一", "id_number": ids[0], "phone": phones[0], "category": "veteran", "region_code": "440303"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    // A duplicate, a bad ID number and a bad phone: errors must not echo them either.
    for body in [
        json!({"name": "孙一", "id_number": ids[0], "phone": phones[0], "category": "veteran", "region_code": "440303"}),
        json!({"name": "孙二", "id_number": format!("{}0", &ids[1][..17]), "phone": phones[1], "category": "veteran", "region_code": "440303"}),
        json!({"name": "孙二", "id_number": ids[1], "phone": format!("{}9", phones[1]), "category": "veteran", "region_code": "440303"}),
    ] {
        let answer = client
            .post(url("/api/v1/admin/beneficiaries"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_client_error());
    }
    client
        .patch(url(&format!("/api/v1/admin/beneficiaries/{id}")))
        .bearer_auth(&token)
        .json(&json!({"phone": phones[2]}))
        .send()
        .await
        .unwrap();
    let found = client
        .get(url(&format!(
            "/api/v1/admin/beneficiaries?id_number={}",
            ids[0]
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    let csv = format!(
        "name,id_number,phone,category,region_code\n周一,{},{},veteran,440303\n周二,{},{},veteran,440303\n周三,{},123,veteran,440303\n",
        ids[3], phones[3], ids[4], phones[4], ids[5]
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("p.csv"),
    );
    let report = client
        .post(url("/api/v1/admin/beneficiaries/import?mode=partial"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let card: serde_json::Value = client
        .post(url(&format!("/api/v1/admin/beneficiaries/{id}/cards")))
        .bearer_auth(&token)
        .json(&json!({"product": "general"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let activated = client
        .post(url("/api/v1/holder/activate"))
        .json(&json!({"card_no": card["card_no"], "activation_code": card["activation_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(activated.status(), 200);
    (ids, phones)
}

fn assert_clean(server: &mut Server, ids: &[String], phones: &[String]) {
    std::thread::sleep(Duration::from_millis(300));
    let _ = server.child.kill();
    let _ = server.child.wait();
    std::thread::sleep(Duration::from_millis(100));
    let output = server.output.lock().unwrap().clone();
    assert!(
        output.contains("request finished"),
        "debug logs were captured:\n{output}"
    );
    assert!(
        output.lines().count() > 15,
        "enough log lines to mean something:\n{output}"
    );
    for secret in ids.iter().chain(phones) {
        assert!(
            !output.contains(secret.as_str()),
            "{secret} leaked into the log:\n{output}"
        );
    }
    for id in ids {
        // Nor the masked-away middle of an ID number on its own.
        assert!(
            !output.contains(&id[4..14]),
            "the middle of {id} leaked into the log:\n{output}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_the_log_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let mut server = start(&[("DATABASE_URL", db)], dir.path());
    let (ids, phones) = exercise(&server).await;
    assert_clean(&mut server, &ids, &phones);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_in_the_log_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let name = create_test_database().await;
    let _guard = DatabaseGuard(name.clone());
    let mut server = start(
        &[
            ("DATABASE_URL", format!("{}/{name}", pg_base_url())),
            ("REDIS_URL", redis_url()),
            (
                "YONGJUN_CACHE_PREFIX",
                format!("yjtest:{}:", uuid::Uuid::new_v4().simple()),
            ),
        ],
        dir.path(),
    );
    let (ids, phones) = exercise(&server).await;
    assert_clean(&mut server, &ids, &phones);
}
