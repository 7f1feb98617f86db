//! The API reference at `/docs`, for the developers of the holders' apps: rendered in a
//! real browser from the spec the server serves, with nothing fetched off the origin.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_renders_the_served_spec_from_the_origin_only() {
    let app = spawn_app(Backend::Sqlite).await;
    let base = app.address.clone();
    let b = &Browser::start(false).await;
    b.check("reference", async {
        b.goto(&format!("{base}/docs")).await;
        // The title and the operations come from /openapi.yaml.
        b.wait_for(".info .title", "", |t| t.starts_with("Yongjun API"))
            .await;
        b.find("#operations-pos-redeem_offer").await;
        b.find("#operations-holder-list_holder_offers").await;
        let operations = b
            .client
            .execute(
                "return document.querySelectorAll('.opblock').length",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            operations.as_u64().unwrap() >= 70,
            "{operations} operations shown"
        );
        // Every request the page made went to this server, the spec among them.
        let requested = b
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)
                   .concat([location.href])",
                vec![],
            )
            .await
            .unwrap();
        let requested: Vec<String> = serde_json::from_value(requested).unwrap();
        assert!(
            requested.iter().any(|u| u.ends_with("/openapi.yaml")),
            "{requested:?}"
        );
        assert!(
            requested
                .iter()
                .any(|u| u.ends_with("/assets/docs/swagger-ui-bundle.js")),
            "{requested:?}"
        );
        let away: Vec<_> = requested
            .iter()
            .filter(|u| !u.starts_with(&format!("{base}/")))
            .collect();
        assert!(away.is_empty(), "requests off the origin: {away:?}");
        // The styles applied (a stylesheet the policy refused would leave them plain).
        let styled = b
            .client
            .execute(
                "return getComputedStyle(document.querySelector('.opblock')).borderRadius",
                vec![],
            )
            .await
            .unwrap();
        assert_ne!(styled, json!("0px"));
    })
    .await;
}
