//! The console in a real browser: headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`; `scripts/services.sh` installs them). Each test
//! starts its own chromedriver on a free port with a fresh profile, and a failing test
//! leaves a screenshot in `target/browser/`. With `YONGJUN_SCREENSHOTS=docs/console` the
//! pages the tests pass through are saved there too (the pictures of docs/console.md).

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use futures_util::FutureExt;

use crate::outages::free_port;

/// A headless Chromium session and the chromedriver behind it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A browser at desktop width, or at a phone's (390 × 844) when `phone`.
    pub async fn start(phone: bool) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver does not start ({e}): install Chromium and its driver with \
                     `apt-get install chromium chromium-driver` (scripts/services.sh does)"
                )
            });
        let profile = tempfile::tempdir().unwrap();
        let size = if phone { "390,844" } else { "1280,900" };
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--lang=zh-CN", format!("--window-size={size}"),
                format!("--user-data-dir={}", profile.path().display()),
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                    }
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from chromedriver on port {port}: {last:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The element `css` names, waiting for it up to 10 s.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Types `text` into the field `css` names (emptied first), asking again for an
    /// element the page re-rendered meanwhile.
    pub async fn fill(&self, css: &str, text: &str) {
        let mut last = None;
        for _ in 0..20 {
            let field = self.find(css).await;
            match field.clear().await {
                Ok(()) => match field.send_keys(text).await {
                    Ok(()) => return,
                    Err(e) => last = Some(e),
                },
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("type into {css}: {last:?}");
    }

    /// Clicks the element `css` names; a page that re-rendered it between the finding
    /// and the click (a stale element) is asked again.
    pub async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..20 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("click {css}: {last:?}");
    }

    /// Waits until the element `css` names has an attribute (`@name`) or its text (``)
    /// matching `test`, up to 30 s (a till retries its uploads every 15 s).
    pub async fn wait_for(&self, css: &str, what: &str, test: impl Fn(&str) -> bool) -> String {
        let mut seen = String::new();
        for _ in 0..300 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let value = match what.strip_prefix('@') {
                    Some(attribute) => element.attr(attribute).await.ok().flatten(),
                    None => element.text().await.ok(),
                };
                if let Some(value) = value {
                    if test(&value) {
                        return value;
                    }
                    seen = value;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} {what}: never as expected; last seen {seen:?}");
    }

    /// Saves what the page shows as `name`.png, for docs/console.md when asked to.
    pub async fn picture(&self, name: &str) {
        if let Ok(dir) = std::env::var("YONGJUN_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Runs a test's steps and ends the session; if a step fails, the page is saved
    /// to target/browser/`name`.png before the failure goes on.
    pub async fn check(&self, name: &str, steps: impl Future<Output = ()>) {
        let outcome = std::panic::AssertUnwindSafe(steps).catch_unwind().await;
        if outcome.is_err() {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
            std::fs::create_dir_all(&dir).unwrap();
            if let Ok(png) = self.client.screenshot().await {
                let path = dir.join(format!("{name}.png"));
                std::fs::write(&path, png).unwrap();
                eprintln!("browser test {name} failed; its page: {}", path.display());
            }
        }
        let _ = self.client.clone().close().await;
        if let Err(failure) = outcome {
            std::panic::resume_unwind(failure);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
